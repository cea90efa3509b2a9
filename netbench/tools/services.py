"""Service names and ports, both directions: ``netbench services``, ``/services``.

The system's services database is read from ``/etc/services`` when it
exists (for aliases, comments and full listings) and asked through
``socket.getservbyname``/``getservbyport`` too, so a system whose resolver
knows more (or that has no file) still answers.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from functools import lru_cache

from netbench.errors import NotFound, UsageError
from netbench.tools.servicedb import PROTOCOLS, ServiceDB, ServiceEntry, parse_query, parse_services
from netbench.tools.table import render_table

SERVICES_FILE = "/etc/services"


@lru_cache(maxsize=4)
def load_db(path: str = SERVICES_FILE) -> ServiceDB:
    """The parsed services file at *path* (empty when it does not exist); cached."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return ServiceDB(parse_services(handle.read()))
    except OSError:
        return ServiceDB([])


def _from_resolver_name(name: str, protocol: str | None) -> list[ServiceEntry]:
    found = []
    for proto in (protocol,) if protocol else PROTOCOLS:
        try:
            port = socket.getservbyname(name, proto)
        except OSError:
            continue
        canonical = _resolver_port_name(port, proto) or name
        found.append(ServiceEntry(canonical, port, proto))
    return found


def _resolver_port_name(port: int, protocol: str) -> str | None:
    try:
        return socket.getservbyport(port, protocol)
    except (OSError, OverflowError):
        return None


def lookup(query: str, protocol: str | None = None, *, path: str = SERVICES_FILE) -> list[ServiceEntry]:
    """Look up one query: a name or alias (``http``, ``www``), a port (``80``),
    optionally with a protocol (``53/udp``). *protocol* restricts the result.

    Returns the matching entries, TCP before UDP. Raises :class:`NotFound`
    (exit 1) when nothing matches, with a "did you mean" hint when one fits,
    and :class:`UsageError` (exit 2) for a malformed query.
    """
    text, proto = parse_query(query)
    db = load_db(path)
    if proto is not None and proto not in db.protocols:
        raise UsageError(f"unknown protocol {proto!r} in {query!r} ({', '.join(db.protocols)})")
    if protocol and proto and protocol != proto:
        raise UsageError(f"{query!r} contradicts --{protocol}")
    proto = proto or protocol
    if not text:
        raise UsageError("empty service query")
    if text.isdigit():
        port = int(text)
        if not 0 <= port <= 65535:
            raise UsageError(f"port {port} out of range (0-65535)")
        found = db.by_port(port, proto)
        if not found:
            for candidate in (proto,) if proto else PROTOCOLS:
                name = _resolver_port_name(port, candidate)
                if name:
                    found.append(ServiceEntry(name, port, candidate))
        if not found:
            where = f"/{proto}" if proto else ""
            raise NotFound(f"port {port}{where} has no name in the services database")
        return found
    found = db.by_name(text, proto) or _from_resolver_name(text, proto)
    if not found:
        hint = db.suggestions(text)
        more = f" (did you mean {', '.join(hint)}?)" if hint else ""
        where = f"/{proto}" if proto else ""
        raise NotFound(f"unknown service {text!r}{where}: not in the services database{more}")
    return found


def all_entries(protocol: str | None = None) -> list[ServiceEntry]:
    """The whole services file (only *protocol*'s entries when given), in file order.

    Raises :class:`UsageError` when there is no services file to list.
    """
    entries = load_db().entries
    if not entries:
        raise UsageError(f"no services database to list ({SERVICES_FILE} is missing)")
    return [e for e in entries if protocol is None or e.protocol == protocol]


def service_name(port: int, protocol: str = "tcp") -> str | None:
    """The service name of *port*/*protocol*, or None.

    From the services file; the resolver is asked only when there is no
    file (it would read the file again for every port).
    """
    db = load_db()
    if db.entries:
        return db.name_for(port, protocol)
    return _resolver_port_name(port, protocol)


def port_names(protocol: str = "tcp") -> dict[int, str]:
    """Port -> service name for every port the services file names for *protocol*."""
    return load_db().names(protocol)


def known_ports(protocol: str = "tcp") -> list[int]:
    """Every port the services file names for *protocol*."""
    return load_db().ports(protocol)


def render_services(entries: Sequence[ServiceEntry]) -> str:
    """An aligned table: SERVICE PORT ALIASES COMMENT."""
    rows = [(e.name, f"{e.port}/{e.protocol}", ",".join(e.aliases), e.comment) for e in entries]
    return render_table(("SERVICE", "PORT", "ALIASES", "COMMENT"), rows)


def services_json(entries: Sequence[ServiceEntry]) -> str:
    """One JSON document: ``{"services": [...]}``."""
    import json

    return json.dumps({"services": [e.to_json() for e in entries]}, indent=2) + "\n"
