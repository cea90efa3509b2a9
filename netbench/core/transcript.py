"""Transcript events: what happened on a session, in order, with timestamps.

Sans-IO: these are plain frozen dataclasses. Sessions append to a
:class:`Transcript`; the recorder turns one into a recipe; renderers show it.
Timestamps are ``time.monotonic()`` seconds, supplied by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple


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


class Exchange(NamedTuple):
    """What was sent, what came back, and whether the peer then closed."""

    sent: bytes
    received: bytes
    closed: bool = False


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

    def exchanges(self, *, datagrams: bool = False) -> list[Exchange | HalfClosed]:
        """Group the events into exchanges, in order: how a recording makes steps.

        Consecutive sends are joined, as are the receives that follow them; the
        peer's end-of-file marks the exchange it ended (``closed``); our own
        half-close stands between exchanges as the :class:`HalfClosed` event.
        With ``datagrams`` (UDP) nothing is joined: each datagram sent starts
        an exchange and each one received is an answer of its own.
        """
        out: list[Exchange | HalfClosed] = []
        sent: list[bytes] = []
        received: list[bytes] = []
        closed = False

        def flush() -> None:
            nonlocal sent, received, closed
            if sent or received or closed:
                out.append(Exchange(b"".join(sent), b"".join(received), closed))
            sent, received, closed = [], [], False

        for event in self.events:
            if isinstance(event, Sent):
                if received or closed or (datagrams and sent):
                    flush()
                sent.append(event.data)
            elif isinstance(event, Received):
                if datagrams and received:
                    flush()
                received.append(event.data)
            elif isinstance(event, Eof):
                closed = True
            elif isinstance(event, HalfClosed):
                flush()
                out.append(event)
        flush()
        return out
