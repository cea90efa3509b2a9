"""Transcript events: what happened on a session, in order, with timestamps.

Sans-IO: these are plain frozen dataclasses. Sessions append to a
:class:`Transcript`; the recorder turns one into a recipe; renderers show it.
Timestamps are ``time.monotonic()`` seconds, supplied by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Opened:
    """The session connected to ``address`` (a display string)."""

    time: float
    address: str
    transport: str


@dataclass(frozen=True)
class Sent:
    """Bytes we sent (for UDP, one datagram)."""

    time: float
    data: bytes


@dataclass(frozen=True)
class Received:
    """Bytes that arrived (for UDP, one datagram)."""

    time: float
    data: bytes


@dataclass(frozen=True)
class Eof:
    """The peer closed its write side (we read end-of-file)."""

    time: float


@dataclass(frozen=True)
class HalfClosed:
    """We shut down our write side."""

    time: float


@dataclass(frozen=True)
class Closed:
    """The session ended; ``by`` says who closed it."""

    time: float
    by: Literal["us", "peer"]


@dataclass(frozen=True)
class Error:
    """The session failed; ``kind`` is the error class name."""

    time: float
    kind: str
    message: str


Event = Opened | Sent | Received | Eof | HalfClosed | Closed | Error


@dataclass
class Transcript:
    """An ordered list of events with byte counters."""

    events: list[Event] = field(default_factory=list)
    bytes_sent: int = 0
    bytes_received: int = 0

    def append(self, event: Event) -> None:
        """Add *event* and update the byte counters."""
        self.events.append(event)
        if isinstance(event, Sent):
            self.bytes_sent += len(event.data)
        elif isinstance(event, Received):
            self.bytes_received += len(event.data)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def received(self) -> bytes:
        """All bytes received, joined."""
        return b"".join(e.data for e in self.events if isinstance(e, Received))

    def sent(self) -> bytes:
        """All bytes sent, joined."""
        return b"".join(e.data for e in self.events if isinstance(e, Sent))

    def exchanges(self) -> list[tuple[bytes, bytes]]:
        """Group the events into (sent, received) pairs in order.

        Consecutive sends are joined, as are the receives that follow them,
        which is how a recording turns a conversation into steps.
        """
        pairs: list[tuple[bytes, bytes]] = []
        sent: list[bytes] = []
        received: list[bytes] = []
        for event in self.events:
            if isinstance(event, Sent):
                if received:
                    pairs.append((b"".join(sent), b"".join(received)))
                    sent, received = [], []
                sent.append(event.data)
            elif isinstance(event, Received):
                received.append(event.data)
        if sent or received:
            pairs.append((b"".join(sent), b"".join(received)))
        return pairs
