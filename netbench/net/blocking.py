"""The blocking session: one conversation on a blocking socket, every wait under a deadline.

This is what batch client work uses (the recipe engine): a recipe is a
sequential conversation, so there is nothing to overlap and no event loop to
pay for. The REPL's asyncio :class:`~netbench.net.session.Session` speaks the
same receive vocabulary (:mod:`netbench.core.buffer`), so the two agree on
what a line, a match or a size cap is.

Contracts (after trio, as for the asyncio session): :meth:`receive_some`
returns ``b""`` for end-of-file and only for it (UDP has none: an empty
datagram is skipped); a deadline passing raises
:class:`~netbench.errors.TimedOut` carrying the bytes buffered so far,
never returns ``b""``; OS errors become netbench errors
(:func:`netbench.net.failures.translate`). Deadlines are
:func:`time.monotonic` times; None waits without end.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, TypeVar

from netbench.core.address import Target
from netbench.core.buffer import ReceiveBuffer, Searchable, Want, exactly, line, match, until
from netbench.errors import NetbenchError, TimedOut
from netbench.net.dial import DEFAULT_CONNECT_TIMEOUT, READ_SIZE, dial, remaining
from netbench.net.failures import translate
from netbench.net.idle import IdleCheck

if TYPE_CHECKING:
    from netbench.net.tls import TLSOptions

T = TypeVar("T")


class BlockingSession:
    """A connected socket, the bytes received but not yet taken, and whether the peer closed."""

    def __init__(self, target: Target, sock: socket.socket) -> None:
        self.target = target
        self.sock = sock
        self.buffer = ReceiveBuffer()
        self.eof = False
        self.closed = False
        self._view = memoryview(bytearray(READ_SIZE))
        self._datagram = target.transport == "udp"
        self._idle: IdleCheck | None = None  # for has_unread, made on first use

    @property
    def peer(self) -> str:
        return self.target.display

    # -- raw operations ----------------------------------------------------------

    def send(self, data: bytes, deadline: float | None) -> None:
        """Send all of *data* (UDP: one datagram) before *deadline*."""
        try:
            self.sock.settimeout(remaining(deadline))
            self.sock.sendall(data)
        except TimeoutError:
            raise TimedOut(f"timed out sending to {self.peer} (the peer is not reading)", self.peer) from None
        except OSError as error:
            raise self._failure(error, "send to") from None

    def receive_some(self, deadline: float | None) -> bytes:
        """The next bytes to arrive before *deadline* (``b""``: the peer closed); the buffer first."""
        if len(self.buffer):
            return self.buffer.take_all()
        return self._receive(deadline)

    def _receive(self, deadline: float | None) -> bytes:
        if self.eof:
            return b""
        view = self._view
        try:
            self.sock.settimeout(remaining(deadline))
            while True:
                # recv_into a reused buffer: recv(256 KiB) allocates 256 KiB per call.
                data = view[: self.sock.recv_into(view)].tobytes()
                if data or not self._datagram:
                    break
        except TimeoutError:
            raise TimedOut(
                f"timed out waiting for data from {self.peer}", self.peer, partial=self.buffer.peek()
            ) from None
        except OSError as error:
            raise self._failure(error, "receive from") from None
        if not data:
            self.eof = True
        return data

    def fill(self, deadline: float | None) -> None:
        """Receive once into the buffer (sets :attr:`eof` when the peer closed)."""
        self.buffer.feed(self._receive(deadline))

    def has_unread(self) -> bool:
        """True when something arrived that nobody has read: buffered bytes, the peer's
        end-of-file, or the socket readable (:class:`~netbench.net.idle.IdleCheck`, kept
        for the session).
        """
        if len(self.buffer) or self.eof:
            return True
        if self._idle is None:
            self._idle = IdleCheck(self.sock)
        return self._idle()

    def send_eof(self) -> None:
        """Half-close: shut down our write side; the peer reads end-of-file."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as error:
            raise self._failure(error, "shut down") from None

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if not self.closed:
            self.closed = True
            self.sock.close()

    def __enter__(self) -> BlockingSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _failure(self, error: OSError, during: str) -> NetbenchError:
        return translate(error, self.peer, during=during)

    # -- the receive vocabulary (core.buffer), under one deadline --------------------

    def receive(self, want: Want[T], deadline: float | None) -> T:
        """The piece *want* asks for, before *deadline*."""
        while True:
            piece = self.buffer.next_piece(want, eof=self.eof, peer=self.peer)
            if piece is not None:
                return piece
            self.fill(deadline)

    def receive_until(self, delimiter: bytes, deadline: float | None) -> bytes:
        return self.receive(until(delimiter), deadline)

    def receive_line(self, deadline: float | None) -> bytes:
        return self.receive(line(), deadline)

    def receive_exactly(self, count: int, deadline: float | None) -> bytes:
        return self.receive(exactly(count), deadline)

    def receive_match(self, pattern: Searchable, deadline: float | None) -> object:
        return self.receive(match(pattern), deadline)

    def receive_until_eof(self, deadline: float | None, keep: int | None = None) -> bytes:
        """Everything until the peer closes; only the first *keep* bytes (default: the cap) are kept."""
        while not self.eof:
            self.buffer.feed_capped(self._receive(deadline), keep)
        return self.buffer.take_all()


def open_blocking(
    target: Target,
    *,
    timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    family: int = socket.AF_UNSPEC,
    tls: TLSOptions | None = None,
) -> BlockingSession:
    """Connect to *target* with the one dialer (within *timeout* s) and return the session."""
    return BlockingSession(target, dial(target, family, timeout, tls=tls))
