"""Which protocol classes make up each lab service, and :func:`start`."""

from __future__ import annotations

from importlib import import_module

from netbench.lab.base import DatagramFactory, LabServer, Log, StreamFactory, serve
from netbench.lab.catalog import check_loopback, check_service

PROTOCOLS: dict[str, tuple[str, str, str | None]] = {
    "echo": ("simple", "EchoStream", "EchoDatagrams"),
    "discard": ("simple", "DiscardStream", "DiscardDatagrams"),
    "daytime": ("simple", "DaytimeStream", "DaytimeDatagrams"),
    "chargen": ("simple", "ChargenStream", "ChargenDatagrams"),
    "http": ("http", "HttpStream", None),
    "smtp": ("smtp", "SmtpStream", None),
    "redis": ("redis", "RedisStream", None),
    "memcached": ("memcached", "MemcachedStream", None),
    "dns": ("dns", "DnsStream", "DnsDatagrams"),
    "telnet": ("telnet", "TelnetStream", None),
}
"""Service -> (module under netbench.lab, stream class, datagram class or None).

Named, not imported: a recipe with ``lab: echo`` loads the echo server's
module alone, not the HTTP, DNS and SMTP servers as well."""


def protocol_classes(name: str) -> tuple[StreamFactory, DatagramFactory | None]:
    """The stream and datagram protocol classes of the lab service *name* (imported now)."""
    module_name, stream, datagram = PROTOCOLS[check_service(name)]
    module = import_module(f"netbench.lab.{module_name}")
    return getattr(module, stream), getattr(module, datagram) if datagram else None


async def start(name: str, host: str = "127.0.0.1", port: int = 0, *, log: Log | None = None) -> LabServer:
    """Start the lab service *name* on *host*:*port* inside the running event loop.

    ``port=0`` picks a port (free for TCP and UDP alike for services that
    use both). *host* must be a loopback address. Raises
    :class:`~netbench.errors.UsageError` for an unknown service, a
    non-loopback host or a port that cannot be bound (in use, privileged).
    Stop the server with ``await server.close()``. *log*, when given, is
    called with one line per connection, datagram or HTTP request.
    """
    stream, datagram = protocol_classes(name)
    return await serve(name, check_loopback(host), port, stream, datagram, log)
