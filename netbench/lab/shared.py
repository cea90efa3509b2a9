"""What the lab's conversational servers (redis, smtp, memcached, dns, telnet) share.

:class:`BufferedStream` is a :class:`~netbench.lab.base.TrackedProtocol`
that keeps received bytes in ``self.buffer``, calls :meth:`process` after
each arrival, and bounds everything a client can make it hold: a request
left incomplete past :attr:`max_buffer` bytes ends the connection
(:meth:`overflow`); a client that does not read its answers is not read
either, and no more of its buffered requests are answered until it reads
(so pipelined requests for large values cannot pile answers up in memory);
a connection idle for :data:`IDLE_TIMEOUT` seconds closes. A bug
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
from collections.abc import Callable, Iterator
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
        self.pending: Iterator[bytes] | None = None
        """A long answer being written piece by piece, as the client reads (see :meth:`_pump`)."""
        self.write_paused = False
        """True while the client is not reading: request loops in :meth:`process` stop."""
        self._timer: asyncio.TimerHandle | None = None
        self._last = 0.0
        self._eof = False

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
        self._pump()

    def _pump(self) -> None:
        """Write what is pending, then answer buffered requests, for as long as the client reads."""
        transport = self.transport
        while not (self.write_paused or self.lingering or transport.is_closing()):
            if self.pending is not None:
                chunk = next(self.pending, None)
                if chunk is None:
                    self.pending = None
                else:
                    self.send(chunk)
                continue
            self._guard(self.process)
            if self.pending is None:
                break  # process() took every whole request it could
        if self.pending is not None or self.write_paused or self.lingering or transport.is_closing():
            return  # requests still buffered are complete ones, waiting for the client to read
        if len(self.buffer) > self.max_buffer:
            self.buffer.clear()
            self._guard(self.overflow)
        elif self._eof:
            transport.close()  # the client half-closed and everything it asked is answered

    def eof_received(self) -> bool:
        self._eof = True
        # The client is done: close once our answers are written, unless requests
        # it sent are still waiting for it to read earlier answers.
        return self.pending is not None or self.write_paused

    def pause_writing(self) -> None:
        self.write_paused = True
        self.transport.pause_reading()  # a client that does not read is not read either

    def resume_writing(self) -> None:
        self.write_paused = False
        self.transport.resume_reading()
        self._pump()

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
        """Consume whole requests from ``self.buffer`` and answer them.

        Stop taking requests while :attr:`write_paused` is set (the client is
        not reading); an answer too long to build at once goes into
        :attr:`pending` as an iterator of pieces, and no further request is
        taken until it is written. :meth:`process` is called again when the
        client reads.
        """
        raise NotImplementedError

    def overflow(self) -> None:
        """An incomplete request grew past :attr:`max_buffer`: by default, close."""
        self.close_gracefully()
