"""What the lab's conversational servers (redis, smtp, memcached, dns, telnet) share.

:class:`BufferedStream` is a :class:`~netbench.lab.base.TrackedProtocol`
that keeps received bytes in ``self.buffer``, calls :meth:`process` after
each arrival, and bounds everything a client can make it hold: a request
left incomplete past :attr:`max_buffer` bytes ends the connection
(:meth:`overflow`), a client that does not read its answers is not read
either, and a connection idle for :data:`IDLE_TIMEOUT` seconds closes. A bug
or a hostile request never escapes into the event loop's error log: the
connection is dropped quietly.

:func:`per_server` gives the one state object (a key-value store, a mailbox)
that every connection of one running server shares. The lab's server base
has no slot for such state, so it is kept on the server's
:class:`~netbench.lab.base.Connections` object, which lives exactly as long
as the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from netbench.lab.base import Connections, TrackedProtocol, peer_of

IDLE_TIMEOUT = 300.0
"""Seconds of silence after which a conversational lab connection is closed."""

T = TypeVar("T")


def per_server(connections: Connections, kind: type[T]) -> T:
    """The *kind* instance shared by every connection of one server (made on first use)."""
    state = vars(connections)
    value = state.get(f"lab_state_{kind.__name__}")
    if not isinstance(value, kind):
        value = kind()
        state[f"lab_state_{kind.__name__}"] = value
    return value


class BufferedStream(TrackedProtocol):
    """A stream server that parses ``self.buffer`` in :meth:`process`; memory bounded.

    Subclasses implement :meth:`process` (consume whole requests from
    ``self.buffer``, answer with :meth:`send`) and may implement
    :meth:`greet` (called once connected) and :meth:`overflow`.
    """

    max_buffer = 64 * 1024
    """The most bytes an incomplete request may occupy."""

    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.buffer = bytearray()
        self.state = connections
        self._timer: asyncio.TimerHandle | None = None
        self._last = 0.0

    @property
    def peer(self) -> str:
        """``127.0.0.1:PORT`` of the client."""
        return peer_of(self.transport)

    def note(self, text: str) -> None:
        """Log ``PEER text`` when the lab runs with ``-v``."""
        if self.state.log is not None:
            self.state.note(f"{self.peer} {text}")

    def send(self, data: bytes) -> None:
        """Write *data* unless the connection is closing."""
        if not self.transport.is_closing():
            self.transport.write(data)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.transport.is_closing():
            return
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        self._timer = loop.call_later(IDLE_TIMEOUT, self._check_idle)
        self._guard(self.greet)

    def data_received(self, data: bytes) -> None:
        if self.lingering or self.transport.is_closing():
            return
        self._last = asyncio.get_running_loop().time()
        self.buffer += data
        self._guard(self.process)
        if len(self.buffer) > self.max_buffer and not self.lingering and not self.transport.is_closing():
            self.buffer.clear()
            self._guard(self.overflow)

    def eof_received(self) -> bool:
        return False  # the client is done: close once our answers are written

    def pause_writing(self) -> None:
        self.transport.pause_reading()  # a client that does not read is not read either

    def resume_writing(self) -> None:
        self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _check_idle(self) -> None:
        loop = asyncio.get_running_loop()
        left = self._last + IDLE_TIMEOUT - loop.time()
        if left <= 0:
            self.transport.close()
        else:
            self._timer = loop.call_later(max(left, 1.0), self._check_idle)

    def _guard(self, step: Callable[[], None]) -> None:
        """Run *step*; a failure (a bug, a request no handler foresaw) drops the connection quietly."""
        try:
            step()
        except Exception as error:  # one client's trouble must not reach the loop
            self.note(f"dropped: {type(error).__name__}: {error}")
            self.transport.abort()

    def greet(self) -> None:
        """Called once the connection is made (send a banner here)."""

    def process(self) -> None:
        """Consume whole requests from ``self.buffer`` and answer them."""
        raise NotImplementedError

    def overflow(self) -> None:
        """An incomplete request grew past :attr:`max_buffer`: by default, close."""
        self.close_gracefully()
