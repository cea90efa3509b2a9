"""The lab's catalogue: service names, descriptions, and ``SERVICE[:PORT]`` specs.

Pure data and parsing, no sockets: the command line checks its arguments
with this module before anything is bound.
"""

from __future__ import annotations

import ipaddress

from netbench.errors import UsageError

SERVICES: dict[str, str] = {
    "echo": "RFC 862: sends back every byte it receives (TCP and UDP)",
    "discard": "RFC 863: reads and throws away everything (TCP and UDP)",
    "daytime": "RFC 867: one line with the date and time, then closes (TCP and UDP)",
    "chargen": "RFC 864: endless rotating lines of printable ASCII (TCP and UDP)",
    "http": "HTTP/1.1 (h11): /index.html /json /chunked /slow?delay=S /echo /login /me /ready-after?n=N",
    "smtp": "RFC 5321 mail: EHLO, MAIL FROM, RCPT TO, DATA; keeps and shows what it receives",
    "redis": "RESP2: PING SET GET INCR EXPIRE TTL KEYS LPUSH HSET ..., RESP arrays or typed by hand",
    "memcached": "text protocol: set add replace get gets cas delete incr decr flush_all version",
    "dns": "RFC 1035: zone lab.test. (A AAAA CNAME MX TXT), NXDOMAIN, one truncated answer (TCP and UDP)",
    "telnet": "RFC 854: option negotiation, a login (guest/guest) and a tiny shell",
}
"""Service name -> one-line description, in the order the lab lists them."""

UDP_TOO: frozenset[str] = frozenset({"echo", "discard", "daytime", "chargen", "dns"})
"""Services that listen on UDP as well as TCP, at the same port number."""

LOOPBACK_ONLY = "the lab listens on loopback addresses only (127.0.0.0/8 or ::1)"


def transports_of(name: str) -> tuple[str, ...]:
    """``("tcp", "udp")`` or ``("tcp",)`` for the service *name*."""
    return ("tcp", "udp") if name in UDP_TOO else ("tcp",)


def check_service(name: str) -> str:
    """Return *name* if it is a lab service; else raise :class:`UsageError`."""
    if name not in SERVICES:
        raise UsageError(f"unknown lab service {name!r} (choose from: {', '.join(SERVICES)})")
    return name


def parse_spec(spec: str) -> tuple[str, int]:
    """Parse ``SERVICE`` or ``SERVICE:PORT`` into ``(name, port)``; port 0 = any free port.

    Raises :class:`UsageError` for an unknown service or a bad port.
    """
    name, sep, port_text = spec.strip().partition(":")
    check_service(name.lower())
    if not sep:
        return name.lower(), 0
    if not port_text.isdigit() or int(port_text) > 65535:
        raise UsageError(f"{spec!r}: the port must be a number from 0 to 65535")
    return name.lower(), int(port_text)


def check_loopback(host: str) -> str:
    """Return *host* as a normal address string if it is a loopback address.

    ``localhost`` stands for ``127.0.0.1``; brackets around an IPv6 address
    are accepted. Anything else raises :class:`UsageError`: the lab serves
    deliberately naive protocols (echo, chargen) and must never face a network.
    """
    text = host.strip()
    if text.lower() == "localhost":
        return "127.0.0.1"
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise UsageError(f"{host!r} is not an IP address; {LOOPBACK_ONLY}") from None
    if not address.is_loopback:
        raise UsageError(f"{host} is not a loopback address; {LOOPBACK_ONLY}")
    return str(address)
