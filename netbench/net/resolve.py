"""The one resolver: a host name to the socket addresses to try, in the order to try them.

Every caller resolves here: the dialer (``connect``, ``http``, ``replay``,
the REPL) and ``scan``. Contracts: a name that does not resolve raises
:class:`~netbench.errors.Refused` (exit 3, "cannot resolve ..."); a name
that cannot be a DNS name (``a..b``, an over-long label) raises
:class:`~netbench.errors.TargetError` (exit 2, "invalid host name ...");
the list returned is never empty and holds each address once.

Order: the addresses alternate between the families, starting with the
first family the system's resolver returned (RFC 8305 "Happy Eyeballs"
section 4), or with IPv4 when ``prefer_ipv4`` is set (``scan``, as nmap:
``localhost`` is 127.0.0.1).
"""

from __future__ import annotations

import socket
from typing import Any

from netbench.core.address import Target, invalid_host
from netbench.errors import Refused, TargetError

Address = tuple[int, Any]
"""``(family, sockaddr)``: what :func:`socket.socket` and ``connect`` take."""

_FAMILY_WORDS = {int(socket.AF_INET): " to an IPv4 address", int(socket.AF_INET6): " to an IPv6 address"}


def family_from_flags(ipv4: bool, ipv6: bool) -> int:
    """``-4``/``-6`` flags to an address family."""
    if ipv4 and ipv6:
        raise TargetError("-4 and -6 exclude each other")
    if ipv4:
        return socket.AF_INET
    if ipv6:
        return socket.AF_INET6
    return socket.AF_UNSPEC


def host_argument(host: str) -> str | bytes:
    """*host* for getaddrinfo: as bytes when the idna codec would give those very bytes.

    getaddrinfo encodes a str host with the idna codec, whose first use imports
    ``encodings.idna`` and ``stringprep`` (~2 ms of every run); an ASCII name whose
    labels have 1-63 characters (an IP address, ``localhost``) encodes to itself.
    """
    if host.isascii() and all(0 < len(label) < 64 for label in host.rstrip(".").split(".")):
        return host.encode("ascii")
    return host


def resolve_host(
    host: str,
    port: int | None,
    family: int = socket.AF_UNSPEC,
    *,
    udp: bool = False,
    prefer_ipv4: bool = False,
) -> list[Address]:
    """Resolve *host* (and *port*) to IPv4/IPv6 addresses in connect order."""
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    try:
        infos = socket.getaddrinfo(host_argument(host), port, family, kind)
    except socket.gaierror as error:
        asked = _FAMILY_WORDS.get(int(family), "")
        raise Refused(f"cannot resolve {host!r}{asked}: {error.strerror}", host) from None
    except UnicodeError:  # the idna codec rejects the name (an empty or over-long label)
        raise invalid_host(host) from None
    seen: list[Address] = []
    for fam, _type, _proto, _name, sockaddr in infos:
        if fam in (socket.AF_INET, socket.AF_INET6) and (fam, sockaddr) not in seen:
            seen.append((fam, sockaddr))
    if not seen:
        raise Refused(f"{host!r} has no IPv4 or IPv6 address", host)
    return connect_order(seen, prefer_ipv4=prefer_ipv4)


def connect_order(addresses: list[Address], *, prefer_ipv4: bool = False) -> list[Address]:
    """*addresses* with the families alternating, the preferred family first."""
    first = socket.AF_INET if prefer_ipv4 else addresses[0][0]
    preferred = [a for a in addresses if a[0] == first]
    other = [a for a in addresses if a[0] != first]
    ordered: list[Address] = []
    for index in range(max(len(preferred), len(other))):
        ordered.extend(group[index] for group in (preferred, other) if index < len(group))
    return ordered


def resolve(target: Target, family: int = socket.AF_UNSPEC, *, prefer_ipv4: bool = False) -> list[Address]:
    """The addresses to try for *target*, in order (a unix target: its path)."""
    if target.transport == "unix":
        return [(socket.AF_UNIX, target.path)]
    return resolve_host(
        target.host, target.port, family, udp=target.transport == "udp", prefer_ipv4=prefer_ipv4
    )
