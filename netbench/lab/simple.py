"""The four classic small services: echo, discard, daytime, chargen.

Each has a TCP protocol (one instance per connection) and a UDP protocol
(one per server), behaving as RFC 862, 863, 867 and 864 say. The pattern
and the date line are pure functions so tests can check the wire against them.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from typing import Any

from netbench.lab.base import Connections, DatagramBase, TrackedProtocol

# --- pure parts -------------------------------------------------------------

PRINTABLE = bytes(range(33, 127))
"""The chargen alphabet: printable ASCII ``!`` (33) to ``~`` (126), 94 characters."""

LINE_WIDTH = 72
LINE_SIZE = LINE_WIDTH + 2  # with CRLF


def chargen_line(index: int) -> bytes:
    """Line *index* of the chargen pattern: 72 characters starting one further each line, CRLF."""
    start = index % len(PRINTABLE)
    return (PRINTABLE + PRINTABLE)[start : start + LINE_WIDTH] + b"\r\n"


CYCLE = b"".join(chargen_line(i) for i in range(len(PRINTABLE)))
"""One full turn of the pattern (94 lines); the TCP stream is this, repeated."""

UDP_MAX = 512


def chargen_datagram(line: int, size: int) -> bytes:
    """The first *size* bytes of the pattern stream starting at line *line* (size <= 512)."""
    offset = (line % len(PRINTABLE)) * LINE_SIZE
    return (CYCLE + CYCLE)[offset : offset + size]


def daytime_line(now: datetime | None = None) -> bytes:
    """RFC 867's suggested form, e.g. ``Thursday, November 26, 2026 11:25:43-UTC`` + CRLF."""
    moment = (now or datetime.now()).astimezone()
    return moment.strftime("%A, %B %d, %Y %H:%M:%S-%Z").encode("ascii", "replace") + b"\r\n"


# --- TCP ----------------------------------------------------------------------


class EchoStream(TrackedProtocol):
    """RFC 862 over TCP: every byte received is sent back; EOF closes after the echo.

    A client that sends without reading stalls its own echo: reading pauses
    while the write buffer is over its high-water mark.
    """

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)

    def eof_received(self) -> bool:
        return False  # close once what is buffered is written

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()


class DiscardStream(TrackedProtocol):
    """RFC 863 over TCP: everything received is thrown away; never sends."""

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False


class DaytimeStream(TrackedProtocol):
    """RFC 867 over TCP: on connect, send the date line and close; input is ignored.

    The close is graceful (FIN, then the socket closes on the client's EOF),
    so a client that sent something still gets its line, not a reset.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self.transport.is_closing():  # not aborted by a stopping server
            self.transport.write(daytime_line())
            self.close_gracefully()

    def data_received(self, data: bytes) -> None:
        pass


class ChargenStream(TrackedProtocol):
    """RFC 864 over TCP: the pattern, forever, until the client closes.

    Writes one block per event-loop turn and stops while the transport's
    buffer is over its high-water mark, so a slow reader costs at most a
    block or so of memory. Input is discarded; a half-close by the client
    does not stop the stream (only closing does).
    """

    BLOCK = CYCLE * 8  # whole turns, so consecutive blocks continue the pattern

    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self._paused = False
        self._done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._pump()

    def _pump(self) -> None:
        if self._paused or self._done or self.transport.is_closing():
            return
        self.transport.write(self.BLOCK)
        if not self._paused:
            asyncio.get_running_loop().call_soon(self._pump)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return True  # keep sending until the client closes

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._pump()

    def connection_lost(self, exc: Exception | None) -> None:
        self._done = True
        super().connection_lost(exc)


# --- UDP ----------------------------------------------------------------------


class EchoDatagrams(DatagramBase):
    """RFC 862 over UDP: each datagram is sent back to its sender."""

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.note(data, addr)
        self.answer(data, addr)


class DiscardDatagrams(DatagramBase):
    """RFC 863 over UDP: datagrams are thrown away."""

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.note(data, addr)


class DaytimeDatagrams(DatagramBase):
    """RFC 867 over UDP: any datagram is answered with one datagram holding the date line."""

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.note(data, addr)
        self.answer(daytime_line(), addr)


class ChargenDatagrams(DatagramBase):
    """RFC 864 over UDP: any datagram is answered with 0..512 bytes of the pattern.

    Each answer starts at the next line of the rotation.
    """

    def __init__(self) -> None:
        self._line = 0

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.note(data, addr)
        size = random.randint(0, UDP_MAX)
        self.answer(chargen_datagram(self._line, size), addr)
        self._line = (self._line + 1) % len(PRINTABLE)
