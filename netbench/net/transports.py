"""The raw transport hooks a :class:`~netbench.net.session.Session` is built on.

Each transport implements ``send_all``, ``receive_some`` (``b""`` = EOF),
``send_eof`` and ``close``; nothing more. Errors are left as ``OSError``
for the session to translate.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import Protocol

from netbench.core.address import Target, sockaddr_text
from netbench.net.dial import connect_failure, open_socket


async def dialed(target: Target, family: int, deadline: float | None) -> socket.socket:
    """:func:`netbench.net.dial.open_socket` in a worker thread (the loop keeps running).

    Its deadline bounds the thread; a cancelled wait closes the socket when it comes.
    """
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, open_socket, target, family, deadline)
    try:
        sock = await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(_close_result)
        raise
    sock.setblocking(False)
    return sock


def _close_result(future: asyncio.Future[socket.socket]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()


def _loop_time(deadline: float | None) -> float | None:
    """A :func:`time.monotonic` deadline on the loop's clock (the same clock by default)."""
    if deadline is None:
        return None
    return asyncio.get_running_loop().time() + (deadline - time.monotonic())


class Transport(Protocol):
    """The four raw hooks, plus what was connected to."""

    peer: str

    async def send_all(self, data: bytes) -> None: ...
    async def receive_some(self, max_bytes: int) -> bytes: ...
    async def send_eof(self) -> None: ...
    async def close(self) -> None: ...
    def ssl_object(self) -> ssl.SSLObject | None: ...


class StreamTransport:
    """TCP, TLS or unix stream, over asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.peer = sockaddr_text(writer.get_extra_info("peername"))

    @classmethod
    async def open(
        cls,
        target: Target,
        family: int,
        context: ssl.SSLContext | None,
        sni: str | None,
        deadline: float | None,
    ) -> StreamTransport:
        """Connect with the one dialer (in a worker thread), then hand the socket to asyncio.

        The TLS handshake is asyncio's, under the same *deadline*.
        """
        sock = await dialed(target, family, deadline)
        limit = 1 << 20
        try:
            if target.transport == "unix":
                reader, writer = await asyncio.open_unix_connection(sock=sock, limit=limit)
                return cls(reader, writer)
            if context is None:
                reader, writer = await asyncio.open_connection(sock=sock, limit=limit)
                return cls(reader, writer)
            async with asyncio.timeout_at(_loop_time(deadline)):
                reader, writer = await asyncio.open_connection(
                    sock=sock, ssl=context, server_hostname=sni or target.host, limit=limit
                )
        except BaseException as error:
            sock.close()
            if isinstance(error, (OSError, ssl.SSLError)):
                raise connect_failure(error, target, during="in the TLS handshake with") from None
            raise
        return cls(reader, writer)

    async def send_all(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive_some(self, max_bytes: int) -> bytes:
        return await self.reader.read(max_bytes)

    async def send_eof(self) -> None:
        if self.writer.can_write_eof():
            self.writer.write_eof()
        else:
            # TLS: asyncio cannot half-close; shut down the socket's write side,
            # once every byte written so far has reached the socket (cutting a
            # TLS record in half makes the peer fail with a decode error).
            await self._flushed()
            sock = self.writer.get_extra_info("socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_WR)

    async def _flushed(self, limit: float = 10.0) -> None:
        """Wait (up to *limit* s) until the TLS and socket write buffers are empty."""
        transport = self.writer.transport
        inner = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while loop.time() < deadline:
            pending = transport.get_write_buffer_size()
            if inner is not None:
                pending += inner.get_write_buffer_size()
            if not pending:
                return
            await asyncio.sleep(0.005)

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (OSError, TimeoutError, ssl.SSLError):
            pass

    def ssl_object(self) -> ssl.SSLObject | None:
        return self.writer.get_extra_info("ssl_object")


QUEUE_LIMIT = 4 * 1024 * 1024  # bytes of datagrams waiting for receive_some; past it they are dropped
DATAGRAM_OVERHEAD = 64  # charged per queued datagram, so a flood of empty ones is bounded too


class _DatagramProtocol(asyncio.DatagramProtocol):
    """Datagrams (and ICMP errors) in arrival order, at most *limit* bytes of them waiting.

    Past the limit a datagram is dropped and counted in :attr:`dropped`, as the
    kernel drops one when a socket's receive buffer is full: a peer flooding a
    session that is no longer read (the REPL stops at its transcript cap)
    cannot grow memory without end. Each entry costs its size plus
    :data:`DATAGRAM_OVERHEAD`.
    """

    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        self.queue: asyncio.Queue[bytes | OSError] = asyncio.Queue()
        self.limit = limit
        self.queued = 0  # bytes charged for what is in the queue
        self.dropped = 0

    @staticmethod
    def _charge(item: bytes | OSError) -> int:
        return (len(item) if isinstance(item, bytes) else 0) + DATAGRAM_OVERHEAD

    def _put(self, item: bytes | OSError) -> None:
        charge = self._charge(item)
        if self.queued + charge > self.limit:
            self.dropped += 1
            return
        self.queued += charge
        self.queue.put_nowait(item)

    async def get(self) -> bytes | OSError:
        """The next datagram or error, waiting for one."""
        item = await self.queue.get()
        self.queued -= self._charge(item)
        return item

    def datagram_received(self, data: bytes, addr: object) -> None:
        self._put(data)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self._put(exc)


class DatagramTransport:
    """A connected UDP socket: each send is a datagram, each receive one datagram.

    An ICMP port-unreachable from the peer surfaces as ConnectionRefusedError
    on the next receive. UDP has no end-of-file: ``receive_some`` skips empty
    datagrams and never returns ``b""``. At most :data:`QUEUE_LIMIT` bytes wait
    to be received; what arrives past that is dropped and counted
    (:attr:`dropped`), as the kernel does when a socket buffer is full.
    """

    def __init__(self, transport: asyncio.DatagramTransport, protocol: _DatagramProtocol) -> None:
        self.transport = transport
        self.protocol = protocol
        self.peer = sockaddr_text(transport.get_extra_info("peername"))

    @classmethod
    async def open(cls, target: Target, family: int, deadline: float | None = None) -> DatagramTransport:
        """A connected UDP socket from the one dialer, handed to asyncio."""
        sock = await dialed(target, family, deadline)
        loop = asyncio.get_running_loop()
        sock.setblocking(False)
        transport, protocol = await loop.create_datagram_endpoint(_DatagramProtocol, sock=sock)
        return cls(transport, protocol)

    async def send_all(self, data: bytes) -> None:
        self.transport.sendto(data)

    async def receive_some(self, max_bytes: int) -> bytes:
        while True:
            item = await self.protocol.get()
            if isinstance(item, OSError):
                raise item
            if item:  # an empty datagram is not end-of-file (UDP has none): skip it
                return item

    @property
    def dropped(self) -> int:
        """Datagrams dropped because :data:`QUEUE_LIMIT` bytes were already waiting."""
        return self.protocol.dropped

    @property
    def queued(self) -> int:
        """Bytes (with :data:`DATAGRAM_OVERHEAD` each) waiting to be received."""
        return self.protocol.queued

    async def send_eof(self) -> None:
        return None

    async def close(self) -> None:
        self.transport.close()

    def ssl_object(self) -> ssl.SSLObject | None:
        return None
