"""The server base: binding one port for TCP and UDP, one accept loop, tracking connections.

:class:`LabServer` is what :func:`netbench.lab.start` returns: a running
service with its address, which stops (listeners and open connections
alike) on :meth:`LabServer.close`. ``netbench serve`` runs on the same base
(:func:`serve` with a :class:`~netbench.lab.conversation.Conversation` per
connection, or UDP alone): one listener, one accept loop, one graceful close.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Callable
from typing import Any

from netbench.core.address import Target, host_port
from netbench.errors import UsageError

BIND_ATTEMPTS = 50
BACKLOG = 128
CLOSE_WAIT = 2.0  # seconds close() waits for aborted connections to be gone
LINGER = 2.0  # seconds a gracefully closing connection waits for the client's EOF

Log = Callable[[str], None]
"""Where a server reports connections and requests, one line per call (``-v``)."""


class Connections(set[asyncio.Transport]):
    """The open TCP transports of one server, and what its protocols share.

    ``closed`` is set once the server stops; ``live`` counts protocols made
    and not yet lost (a connection is counted before its transport exists);
    ``log`` (when set) receives one line per connection or request.
    """

    closed = False
    live = 0
    log: Log | None = None
    name = ""

    def note(self, text: str) -> None:
        """Send ``HH:MM:SS name: text`` to the log (call only when ``log`` is set)."""
        if self.log is not None:
            self.log(f"{time.strftime('%H:%M:%S')} {self.name}: {text}")


def peer_of(transport: asyncio.BaseTransport) -> str:
    """``127.0.0.1:PORT`` for the peer of *transport* (``?`` when unknown)."""
    peer = transport.get_extra_info("peername")
    return host_port(peer[0], peer[1]) if peer else "?"


StreamFactory = Callable[[Connections], asyncio.Protocol]


class DatagramBase(asyncio.DatagramProtocol):
    """The UDP side of a service: one instance per server, answering with :meth:`answer`."""

    transport: asyncio.DatagramTransport
    raw: socket.socket | None = None
    """The bound socket itself: asyncio's ``sendto`` silently drops empty datagrams."""
    notes: Connections | None = None
    """Where to report datagrams (``-v``), or None."""

    def note(self, data: bytes, addr: Any) -> None:
        """Report a datagram of *data* from *addr* when logging."""
        if self.notes is not None:
            self.notes.note(f"{len(data)} bytes from {host_port(addr[0], addr[1])} (udp)")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def error_received(self, exc: Exception) -> None:
        pass  # e.g. ICMP port unreachable from a client gone away: nothing to do

    def answer(self, data: bytes, addr: Any) -> None:
        """Send *data* (even an empty datagram) to *addr*; UDP: a failure drops it."""
        if self.transport.is_closing():
            return
        if data:
            self.transport.sendto(data, addr)
        elif self.raw is not None:
            try:
                self.raw.sendto(b"", addr)
            except OSError:
                pass


DatagramFactory = Callable[[], DatagramBase]


class TrackedProtocol(asyncio.Protocol):
    """A stream protocol that registers its transport with its server while open.

    A connection accepted just as the server stops is aborted at once.
    """

    transport: asyncio.Transport
    _linger: asyncio.TimerHandle | None = None

    def __init__(self, connections: Connections) -> None:
        self._connections = connections
        connections.live += 1

    @property
    def lingering(self) -> bool:
        """True once :meth:`close_gracefully` was called: input is to be discarded."""
        return self._linger is not None

    def close_gracefully(self) -> None:
        """Finish writing, send FIN, then close on the client's EOF or after :data:`LINGER` s.

        Closing a socket with unread input makes the kernel reset the
        connection, which can destroy the answer before the client reads it
        (a daytime line, a 400). Subclasses discard input while lingering;
        the default ``eof_received`` then closes.

        A peer that is already gone (a port scanner connects and closes at
        once, so our first write draws a reset) makes the FIN fail with
        ENOTCONN or EPIPE: that is normal traffic, and the connection is
        simply dropped, quietly.
        """
        if self._linger is not None or self.transport.is_closing():
            return
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        try:
            self.transport.write_eof()
        except OSError:
            self.transport.abort()
            return
        self._linger = asyncio.get_running_loop().call_later(LINGER, self.transport.close)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self._connections.closed:
            self.transport.abort()
            return
        self._connections.add(self.transport)
        if self._connections.log is not None:
            self._connections.note(f"{peer_of(transport)} connected")

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
        self._connections.discard(self.transport)
        self._connections.live -= 1
        if self._connections.log is not None and not self._connections.closed:
            self._connections.note(f"{peer_of(self.transport)} closed")


class LabServer:
    """One running lab service: TCP (and UDP) at ``host:port``.

    Attributes: ``name``, ``host``, ``port``, ``transports`` (``("tcp",
    "udp")``, ``("tcp",)`` or ``("udp",)``), ``connections`` (the open TCP
    transports).

    Accepting is a task of its own (not :class:`asyncio.Server`) so that
    :meth:`close` can account for a connection accepted at the very moment
    the server stops: it is closed too, never leaked.
    """

    def __init__(
        self,
        name: str,
        listener: socket.socket | None,
        stream: StreamFactory | None,
        udp: asyncio.DatagramTransport | None,
        log: Log | None = None,
    ) -> None:
        self.name = name
        bound = (
            listener.getsockname()
            if listener is not None
            else udp.get_extra_info("sockname")
            if udp
            else None
        )
        if bound is None:
            raise ValueError("a server needs a TCP listener, a UDP transport or both")
        self.host, self.port = bound[:2]
        self.transports: tuple[str, ...] = (("tcp",) if listener is not None else ()) + (
            ("udp",) if udp is not None else ()
        )
        self.connections = Connections()
        self.connections.name = name
        self.connections.log = log
        self.closed = False
        self._listener = listener
        self._stream = stream
        self._udp = udp
        self._attaching: set[asyncio.Task[None]] = set()
        self._accepting: asyncio.Task[None] | None = None
        if listener is not None:
            listener.setblocking(False)
            self._accepting = asyncio.get_running_loop().create_task(self._accept_loop())

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT`` (``[::1]:PORT`` for IPv6)."""
        return host_port(self.host, self.port)

    @property
    def target(self) -> Target:
        """The target of this service (TCP unless it is UDP only)."""
        return Target(self.transports[0], host=self.host, port=self.port)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        """``http://ADDRESS/`` (meaningful for the http service)."""
        return f"http://{self.address}/"

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._listener is not None
        while True:
            try:
                conn, _ = await loop.sock_accept(self._listener)
            except (ConnectionAbortedError, InterruptedError):
                continue
            except OSError:  # e.g. out of file descriptors: breathe, then go on
                await asyncio.sleep(0.1)
                continue
            task = loop.create_task(self._attach(conn))
            self._attaching.add(task)
            task.add_done_callback(self._attaching.discard)

    async def _attach(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        connections, stream = self.connections, self._stream
        assert stream is not None
        try:
            await loop.connect_accepted_socket(lambda: stream(connections), sock=conn)
        except OSError:
            conn.close()

    async def close(self) -> None:
        """Stop listening and close every open connection. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.connections.closed = True  # a connection made from now on aborts at once
        if self._accepting is not None:
            self._accepting.cancel()
            try:
                await self._accepting
            except asyncio.CancelledError:
                pass
        if self._listener is not None:
            self._listener.close()
        if self._udp is not None:
            self._udp.close()
        if self._attaching:
            await asyncio.wait(set(self._attaching), timeout=CLOSE_WAIT)
        for transport in list(self.connections):
            transport.abort()
        # abort() closes the socket on the next loop turn; wait for that.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_WAIT
        spins = 0
        while spins < 2 or (self.connections.live > 0 and loop.time() < deadline):
            await asyncio.sleep(0 if spins < 10 else 0.01)
            spins += 1

    def __repr__(self) -> str:
        return f"<LabServer {self.name} {'+'.join(self.transports)} {self.address}>"


def _bind_error(label: str, host: str, port: int, kind: str, error: OSError) -> UsageError:
    reasons = {
        errno.EADDRINUSE: "address already in use",
        errno.EACCES: "permission denied (ports below 1024 need privileges)",
        errno.EADDRNOTAVAIL: "address not available on this machine",
    }
    reason = reasons.get(error.errno or 0, error.strerror or str(error))
    return UsageError(f"{label}: cannot listen on {host_port(host, port)}/{kind}: {reason}")


def bind_sockets(
    name: str, host: str, port: int, *, udp: bool, tcp: bool = True, label: str | None = None
) -> tuple[socket.socket | None, socket.socket | None]:
    """Bind a listening TCP socket (and a UDP socket at the same port) on *host*.

    With ``port=0`` a port free for both is chosen (retrying when the UDP
    side of the kernel's choice is taken). A port that cannot be bound raises
    :class:`UsageError` naming the address and the reason, after *label*
    (default ``lab NAME``). ``tcp=False`` binds the UDP socket alone.
    """
    label = label or f"lab {name}"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if not tcp:
        return None, _bind_udp(label, family, host, port)
    for _ in range(BIND_ATTEMPTS if port == 0 else 1):
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            if port:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(BACKLOG)
        except OSError as error:
            listener.close()
            raise _bind_error(label, host, port, "tcp", error) from None
        chosen = listener.getsockname()[1]
        if not udp:
            return listener, None
        datagram = socket.socket(family, socket.SOCK_DGRAM)
        try:
            datagram.bind((host, chosen))
        except OSError as error:
            datagram.close()
            listener.close()
            if port == 0 and error.errno == errno.EADDRINUSE:
                continue
            raise _bind_error(label, host, chosen, "udp", error) from None
        return listener, datagram
    raise UsageError(f"{label}: found no port free for both TCP and UDP on {host}")


def _bind_udp(label: str, family: int, host: str, port: int) -> socket.socket:
    datagram = socket.socket(family, socket.SOCK_DGRAM)
    try:
        datagram.bind((host, port))
    except OSError as error:
        datagram.close()
        raise _bind_error(label, host, port, "udp", error) from None
    return datagram


async def serve(
    name: str,
    host: str,
    port: int,
    stream: StreamFactory | None,
    datagram: DatagramFactory | None,
    log: Log | None = None,
    *,
    label: str | None = None,
) -> LabServer:
    """Bind and start one service; *stream* makes a protocol per TCP connection.

    *stream* None serves UDP alone (with *datagram*). *log*, when given,
    receives a line per connection, datagram or request. A bind error names
    the server by *label* (default ``lab NAME``).
    """
    tcp_sock, udp_sock = bind_sockets(
        name, host, port, udp=datagram is not None, tcp=stream is not None, label=label
    )
    udp: asyncio.DatagramTransport | None = None
    if udp_sock is not None and datagram is not None:
        try:
            loop = asyncio.get_running_loop()
            udp, protocol = await loop.create_datagram_endpoint(datagram, sock=udp_sock)
            protocol.raw = udp_sock
            if log is not None:
                protocol.notes = Connections()
                protocol.notes.name, protocol.notes.log = name, log
        except BaseException:
            udp_sock.close()
            if tcp_sock is not None:
                tcp_sock.close()
            raise
    return LabServer(name, tcp_sock, stream, udp, log)
