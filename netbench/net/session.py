"""Asyncio sessions over TCP, TLS, UDP and unix sockets.

Interactive code (the REPL) talks to a peer through this session; batch
client work uses the blocking session of :mod:`netbench.net.blocking`, and
``connect``/``listen`` their blocking pipes (:mod:`netbench.net.pipe`,
:mod:`netbench.net.pipe_loop`). Both connect with the one dialer
(:mod:`netbench.net.dial`) and speak the one receive vocabulary of
:mod:`netbench.core.buffer` (until a delimiter, a line, a count, a match,
until end-of-file; a size cap), each call under one deadline. Transports
implement four raw hooks (``send_all``, ``receive_some``, ``send_eof``,
``close``). Every event goes into the session's
:class:`~netbench.core.transcript.Transcript`.

Contracts, after trio: ``receive_some`` returns ``b""`` for end-of-file and
only for it; a deadline passing raises :class:`TimedOut` (with the partial
data), never returns ``b""``; using a session after :meth:`Session.close`
raises :class:`SessionClosed`, while the peer breaking it raises
:class:`Reset`.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from netbench.core.address import Target
from netbench.core.buffer import ReceiveBuffer, Searchable, Want, exactly, line, match, until
from netbench.core.transcript import (
    Closed,
    Eof,
    Error,
    HalfClosed,
    Opened,
    Received,
    Sent,
    Transcript,
)
from netbench.errors import NetbenchError, SessionClosed, TimedOut
from netbench.net.dial import READ_SIZE, deadline_after
from netbench.net.failures import translate
from netbench.net.tls import CertificateSummary, TLSOptions, client_context, summarize
from netbench.net.transports import DatagramTransport, StreamTransport, Transport

DEFAULT_TIMEOUT = 10.0
T = TypeVar("T")
"""Seconds a receive waits by default."""


@dataclass
class Session:
    """One open conversation with a peer. Create it with :func:`open_session`."""

    target: Target
    transport: Transport
    transcript: Transcript = field(default_factory=Transcript)
    state: str = "open"
    tls: CertificateSummary | None = None
    peer: str = ""
    clock: Callable[[], float] = time.monotonic
    last_rtt: float | None = None
    _buffer: ReceiveBuffer = field(default_factory=ReceiveBuffer)
    _eof: bool = False
    _write_shut: bool = False
    _awaiting_reply_since: float | None = None

    # -- state ---------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True until we close the session or it fails."""
        return self.state not in ("closed", "error")

    @property
    def peer_closed(self) -> bool:
        """True once the peer's end-of-file has been read."""
        return self._eof

    def buffered(self) -> bytes:
        """Bytes received but not yet consumed by a ``receive_*`` call."""
        return self._buffer.peek()

    def _check_usable(self) -> None:
        if self.state == "closed":
            raise SessionClosed(f"session to {self.target.display} is closed", self.target.display)

    def _fail(self, error: BaseException, during: str) -> NetbenchError:
        failure = translate(error, self.target.display, during=during)
        # UDP has no connection to break: a refused datagram (ICMP port
        # unreachable) is reported, and the session can go on.
        if self.target.transport != "udp":
            self.state = "error"
        self.transcript.append(Error(self.clock(), type(failure).__name__, str(failure)))
        return failure

    # -- raw operations ----------------------------------------------------------

    async def send(self, data: bytes) -> None:
        """Send all of *data* (for UDP: one datagram)."""
        self._check_usable()
        if self._write_shut:
            raise SessionClosed(f"cannot send to {self.target.display}: write side is shut down")
        try:
            await self.transport.send_all(data)
        except (OSError, RuntimeError, asyncio.IncompleteReadError) as error:
            raise self._fail(error, "send to") from None
        now = self.clock()
        self.transcript.append(Sent(now, bytes(data)))
        self._awaiting_reply_since = now

    async def _receive_raw(self, deadline: float | None) -> bytes:
        """Read once from the transport into the transcript; ``b""`` is EOF."""
        if self._eof:
            return b""
        remaining = None if deadline is None else max(0.0, deadline - self.clock())
        try:
            # asyncio.timeout, not wait_for: wait_for wraps every read in a task.
            async with asyncio.timeout(remaining):
                data = await self.transport.receive_some(READ_SIZE)
        except TimeoutError:
            raise TimedOut(
                f"timed out waiting for data from {self.target.display}",
                self.target.display,
                partial=self._buffer.peek(),
            ) from None
        except OSError as error:
            raise self._fail(error, "receive from") from None
        now = self.clock()
        if not data:
            self._eof = True
            self.transcript.append(Eof(now))
            if self.state == "open":
                self.state = "closed by peer"
            return b""
        if self._awaiting_reply_since is not None:
            self.last_rtt = now - self._awaiting_reply_since
            self._awaiting_reply_since = None
        self.transcript.append(Received(now, data))
        return data

    async def receive_some(self, timeout: float | None = DEFAULT_TIMEOUT) -> bytes:
        """Return the bytes available now or next to arrive; ``b""`` means EOF.

        Raises :class:`TimedOut` if nothing arrives within *timeout* seconds.
        """
        self._check_usable()
        if len(self._buffer):
            return self._buffer.take_all()
        deadline = None if timeout is None else self.clock() + timeout
        return await self._receive_raw(deadline)

    async def receive(self, want: Want[T], timeout: float | None = DEFAULT_TIMEOUT) -> T:
        """The piece *want* asks for (:mod:`netbench.core.buffer`'s vocabulary), within *timeout* s."""
        self._check_usable()
        deadline = None if timeout is None else self.clock() + timeout
        peer = self.target.display
        while True:
            piece = self._buffer.next_piece(want, eof=self._eof, peer=peer)
            if piece is not None:
                return piece
            self._buffer.feed(await self._receive_raw(deadline))

    async def receive_until(self, delimiter: bytes, timeout: float | None = DEFAULT_TIMEOUT) -> bytes:
        """Return the data up to and including *delimiter*."""
        return await self.receive(until(delimiter), timeout)

    async def receive_line(self, timeout: float | None = DEFAULT_TIMEOUT) -> bytes:
        """Return one line, without its CRLF or LF."""
        return await self.receive(line(), timeout)

    async def receive_exactly(self, count: int, timeout: float | None = DEFAULT_TIMEOUT) -> bytes:
        """Return exactly *count* bytes."""
        return await self.receive(exactly(count), timeout)

    async def receive_match(self, pattern: Searchable, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
        """Consume up to the end of the first match of *pattern* and return the match."""
        return await self.receive(match(pattern), timeout)

    async def receive_until_eof(self, timeout: float | None = DEFAULT_TIMEOUT) -> bytes:
        """Return everything until the peer closes (one deadline for it all; the first 16 MiB kept)."""
        self._check_usable()
        deadline = None if timeout is None else self.clock() + timeout
        while not self._eof:
            self._buffer.feed_capped(await self._receive_raw(deadline))
        return self._buffer.take_all()

    async def send_eof(self) -> None:
        """Half-close: shut down our write side; the peer reads end-of-file."""
        self._check_usable()
        if self._write_shut:
            return
        self._write_shut = True
        try:
            await self.transport.send_eof()
        except OSError as error:
            raise self._fail(error, "shut down") from None
        self.transcript.append(HalfClosed(self.clock()))
        if self.state == "open":
            self.state = "half-closed"

    async def close(self) -> None:
        """Close the session (idempotent)."""
        if self.state == "closed":
            return
        by = "peer" if self._eof and self.state == "closed by peer" else "us"
        self.state = "closed"
        await self.transport.close()
        self.transcript.append(Closed(self.clock(), by))  # type: ignore[arg-type]

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open_session(
    target: Target,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    family: int = socket.AF_UNSPEC,
    tls: TLSOptions | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Session:
    """Connect to *target* within *timeout* seconds and return the session.

    Raises :class:`~netbench.errors.Refused`, :class:`TimedOut` or
    :class:`~netbench.errors.TLSFailure` (exit statuses 3, 4, 7).
    """
    tls = tls or TLSOptions()
    deadline = deadline_after(timeout)
    transport: Transport
    if target.transport == "udp":
        transport = await DatagramTransport.open(target, family, deadline)
    else:
        context = client_context(tls) if target.transport == "tls" else None
        transport = await StreamTransport.open(target, family, context, tls.sni, deadline)
    session = Session(target, transport, clock=clock, peer=transport.peer)
    ssl_object = transport.ssl_object()
    if ssl_object is not None:
        session.tls = summarize(ssl_object, verified=not tls.insecure)
    session.transcript.append(Opened(clock(), session.peer or target.display, target.transport))
    return session
