"""Lab server plumbing: binding one port for TCP and UDP, tracking connections.

:class:`LabServer` is what :func:`netbench.lab.start` returns: a running
service with its address, which stops (listeners and open connections
alike) on :meth:`LabServer.close`.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable

from netbench.errors import UsageError
from netbench.lab.catalog import display_address
from netbench.net.target import Target

BIND_ATTEMPTS = 50
BACKLOG = 128

Connections = set[asyncio.Transport]


class TrackedProtocol(asyncio.Protocol):
    """A stream protocol that registers its transport with its server while open."""

    transport: asyncio.Transport

    def __init__(self, connections: Connections) -> None:
        self._connections = connections

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._connections.add(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self.transport)


class LabServer:
    """One running lab service: TCP (and UDP) at ``host:port``.

    Attributes: ``name``, ``host``, ``port``, ``transports`` (``("tcp",
    "udp")`` or ``("tcp",)``), ``connections`` (the open TCP transports).
    """

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        tcp: asyncio.Server,
        udp: asyncio.DatagramTransport | None,
        connections: Connections,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.transports: tuple[str, ...] = ("tcp", "udp") if udp is not None else ("tcp",)
        self.connections = connections
        self._tcp = tcp
        self._udp = udp
        self.closed = False

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT`` (``[::1]:PORT`` for IPv6)."""
        return display_address(self.host, self.port)

    @property
    def target(self) -> Target:
        """The TCP target of this service."""
        return Target("tcp", host=self.host, port=self.port)

    @property
    def url(self) -> str:
        """``http://ADDRESS/`` (meaningful for the http service)."""
        return f"http://{self.address}/"

    async def close(self) -> None:
        """Stop listening and close every open connection. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self._tcp.close()
        if self._udp is not None:
            self._udp.close()
        for transport in list(self.connections):
            transport.abort()
        self.connections.clear()
        await self._tcp.wait_closed()

    def __repr__(self) -> str:
        return f"<LabServer {self.name} {'+'.join(self.transports)} {self.address}>"


def _bind_error(name: str, host: str, port: int, kind: str, error: OSError) -> UsageError:
    reasons = {
        errno.EADDRINUSE: "address already in use",
        errno.EACCES: "permission denied (ports below 1024 need privileges)",
        errno.EADDRNOTAVAIL: "address not available on this machine",
    }
    reason = reasons.get(error.errno or 0, error.strerror or str(error))
    return UsageError(f"lab {name}: cannot listen on {display_address(host, port)}/{kind}: {reason}")


def bind_sockets(
    name: str, host: str, port: int, *, udp: bool
) -> tuple[socket.socket, socket.socket | None]:
    """Bind a listening TCP socket (and a UDP socket at the same port) on *host*.

    With ``port=0`` a port free for both is chosen (retrying when the UDP
    side of the kernel's choice is taken). A port that cannot be bound raises
    :class:`UsageError` naming the address and the reason.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(BIND_ATTEMPTS if port == 0 else 1):
        tcp = socket.socket(family, socket.SOCK_STREAM)
        try:
            if port:
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((host, port))
            tcp.listen(BACKLOG)
        except OSError as error:
            tcp.close()
            raise _bind_error(name, host, port, "tcp", error) from None
        chosen = tcp.getsockname()[1]
        if not udp:
            return tcp, None
        datagram = socket.socket(family, socket.SOCK_DGRAM)
        try:
            datagram.bind((host, chosen))
        except OSError as error:
            datagram.close()
            tcp.close()
            if port == 0 and error.errno == errno.EADDRINUSE:
                continue
            raise _bind_error(name, host, chosen, "udp", error) from None
        return tcp, datagram
    raise UsageError(f"lab {name}: found no port free for both TCP and UDP on {host}")


async def serve(
    name: str,
    host: str,
    port: int,
    stream: Callable[[Connections], asyncio.Protocol],
    datagram: Callable[[], asyncio.DatagramProtocol] | None,
) -> LabServer:
    """Bind and start one service; *stream* makes a protocol per TCP connection."""
    tcp_sock, udp_sock = bind_sockets(name, host, port, udp=datagram is not None)
    loop = asyncio.get_running_loop()
    connections: Connections = set()
    try:
        tcp = await loop.create_server(lambda: stream(connections), sock=tcp_sock)
    except BaseException:
        tcp_sock.close()
        if udp_sock is not None:
            udp_sock.close()
        raise
    udp: asyncio.DatagramTransport | None = None
    if udp_sock is not None and datagram is not None:
        try:
            udp, _ = await loop.create_datagram_endpoint(datagram, sock=udp_sock)
        except BaseException:
            udp_sock.close()
            tcp.close()
            raise
    return LabServer(name, host, tcp_sock.getsockname()[1], tcp, udp, connections)
