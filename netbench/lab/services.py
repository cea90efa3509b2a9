"""Which protocol classes make up each lab service, and :func:`start`."""

from __future__ import annotations

from netbench.lab import simple
from netbench.lab.base import DatagramFactory, LabServer, Log, StreamFactory, serve
from netbench.lab.catalog import check_loopback, check_service
from netbench.lab.dns import DnsDatagrams, DnsStream
from netbench.lab.http import HttpStream
from netbench.lab.memcached import MemcachedStream
from netbench.lab.redis import RedisStream
from netbench.lab.smtp import SmtpStream
from netbench.lab.telnet import TelnetStream

PROTOCOLS: dict[str, tuple[StreamFactory, DatagramFactory | None]] = {
    "echo": (simple.EchoStream, simple.EchoDatagrams),
    "discard": (simple.DiscardStream, simple.DiscardDatagrams),
    "daytime": (simple.DaytimeStream, simple.DaytimeDatagrams),
    "chargen": (simple.ChargenStream, simple.ChargenDatagrams),
    "http": (HttpStream, None),
    "smtp": (SmtpStream, None),
    "redis": (RedisStream, None),
    "memcached": (MemcachedStream, None),
    "dns": (DnsStream, DnsDatagrams),
    "telnet": (TelnetStream, None),
}


async def start(name: str, host: str = "127.0.0.1", port: int = 0, *, log: Log | None = None) -> LabServer:
    """Start the lab service *name* on *host*:*port* inside the running event loop.

    ``port=0`` picks a port (free for TCP and UDP alike for services that
    use both). *host* must be a loopback address. Raises
    :class:`~netbench.errors.UsageError` for an unknown service, a
    non-loopback host or a port that cannot be bound (in use, privileged).
    Stop the server with ``await server.close()``. *log*, when given, is
    called with one line per connection, datagram or HTTP request.
    """
    stream, datagram = PROTOCOLS[check_service(name)]
    return await serve(name, check_loopback(host), port, stream, datagram, log)
