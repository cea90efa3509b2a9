"""A connection driven by a coroutine, on the lab's server base.

The lab's services are callback protocols: bytes in, an answer out at once.
A server that follows a script (``serve`` plays a recipe step after step:
wait for the request, answer, wait for the half-close) reads better as a
coroutine. :class:`Conversation` is the :class:`~netbench.lab.base.TrackedProtocol`
for that: the server base accepts, tracks and finally closes the connection
(gracefully: FIN, then the client's EOF); the coroutine given as *handler*
sees a small receive vocabulary with these contracts:

- :meth:`Conversation.receive` returns the bytes buffered so far (at least
  one), ``b""`` at EOF and only then; it raises :class:`ConnectionResetError`
  when the connection broke or was aborted. It never times out by itself:
  the caller puts its own deadline around it (``asyncio.timeout``).
- :meth:`Conversation.unread` gives bytes back: the next ``receive`` returns
  them first (a request parser that read past its request).
- :meth:`Conversation.send` writes and returns once the transport's buffer is
  under its high-water mark (the client reads), else waits.
- At most :data:`HIGH_WATER` bytes wait in the buffer: past that the socket
  is not read until the coroutine takes them (flow control), so a client
  that floods the server fills its own kernel buffers, not our memory.
- ``received_any`` says whether the client sent a single byte (a port probe
  or readiness check connects and closes without sending anything).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from netbench.lab.base import Connections, TrackedProtocol

HIGH_WATER = 256 * 1024

Handler = Callable[["Conversation"], Awaitable[None]]
"""The coroutine that runs one connection; the connection closes when it returns."""


class Conversation(TrackedProtocol):
    """One TCP connection run by *handler* (see the module docstring for the contracts)."""

    def __init__(self, connections: Connections, handler: Handler) -> None:
        super().__init__(connections)
        self._handler = handler
        self._buffer = bytearray()
        self._eof = False
        self._gone = False
        self._reading_paused = False
        self._write_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self.received_any = False
        self.task: asyncio.Task[None] | None = None

    # -- asyncio callbacks ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self.transport.is_closing():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return  # closing: what the client still sends is discarded
        self._buffer += data
        self.received_any = True
        if len(self._buffer) >= HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        if self.lingering:
            return False
        self._eof = True
        self._wake()
        return True  # keep the write side open: the answer may still follow

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain()

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone = True
        self._wake()
        self._wake_drain()
        super().connection_lost(exc)

    # -- the coroutine's side ------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._handler(self)
        finally:
            self.close_gracefully()

    def close_gracefully(self) -> None:
        """As the base does; when the client already sent its EOF, close at once."""
        if self._eof and not self.transport.is_closing():
            self.transport.close()  # nothing more will come: no reason to linger
            return
        super().close_gracefully()
        if self._reading_paused and not self.transport.is_closing():
            self._reading_paused = False
            self.transport.resume_reading()  # lingering reads on, to see the EOF

    async def receive(self) -> bytes:
        """The bytes buffered so far, waiting for some; ``b""`` at EOF (see the module docstring)."""
        while not self._buffer:
            if self._eof:
                return b""
            if self._gone:
                raise ConnectionResetError("the connection was reset")
            await self._wait()
        data = bytes(self._buffer)
        self._buffer.clear()
        if self._reading_paused and not self._gone:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    def unread(self, data: bytes) -> None:
        """Put *data* back before whatever is buffered: the next :meth:`receive` returns it."""
        if data:
            self._buffer[:0] = data

    async def send(self, data: bytes) -> None:
        """Write *data*; wait while the client is not reading (raises ConnectionResetError if gone)."""
        if self._gone or self.transport.is_closing():
            raise ConnectionResetError("the connection was reset")
        self.transport.write(data)
        while self._write_paused and not self._gone:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain
        if self._gone:
            raise ConnectionResetError("the connection was reset")

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _wake_drain(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
