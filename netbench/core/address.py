"""Addresses as text: targets, ports, ``[HOST:]PORT`` binds, and how to print them.

Pure: no socket is opened and :mod:`socket` is not imported. Resolving a
target to socket addresses and the ``-4``/``-6`` address families live in
:mod:`netbench.net.resolve`.

Accepted target forms (``words`` is the list of command-line words)::

    HOST PORT        127.0.0.1 8080      localhost http
    HOST:PORT        127.0.0.1:8080      localhost:http
    [V6]:PORT        [::1]:8080
    URL-like         tcp://h:p  udp://h:p  tls://h:p  unix:/path  unix:///path
    http(s)://h[:p]  (taken as tcp/tls with port 80/443)
    telnet://h[:p]   (taken as tcp with port 23; the caller answers option negotiation)

A service name may stand for a port; it is looked up in the services
database (:data:`SERVICES_FILE`, read once and only when a name is given:
the one file this module reads), or with the ``services`` look-up a caller
passes. Bad targets raise :class:`~netbench.errors.TargetError` (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Literal, NoReturn

from netbench.errors import TargetError

Transport = Literal["tcp", "udp", "tls", "unix"]
TRANSPORTS: tuple[str, ...] = ("tcp", "udp", "tls", "unix")
ServiceLookup = Callable[[str, str], "int | None"]
"""``(name, "tcp" | "udp") -> port`` or None when the name is unknown."""

SERVICES_FILE = "/etc/services"
_DEFAULT_PORTS = {"http": ("tcp", 80), "https": ("tls", 443), "telnet": ("tcp", 23)}


class Target:
    """A parsed target. ``host``/``port`` are unset for unix; ``path`` only for unix.

    Immutable, compared and hashed by its four fields, like the frozen dataclass it
    replaces: written by hand because importing :mod:`dataclasses` (which imports
    :mod:`inspect`) cost every ``connect``/``listen`` ~10 ms of start-up.
    """

    __slots__ = ("host", "path", "port", "transport")
    __match_args__ = ("transport", "host", "port", "path")
    transport: Transport
    host: str
    port: int
    path: str

    def __init__(self, transport: Transport, host: str = "", port: int = 0, path: str = "") -> None:
        set_field = object.__setattr__
        set_field(self, "transport", transport)
        set_field(self, "host", host)
        set_field(self, "port", port)
        set_field(self, "path", path)

    def fields(self) -> tuple[str, str, int, str]:
        """``(transport, host, port, path)``."""
        return (self.transport, self.host, self.port, self.path)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Target) or other.__class__ is not self.__class__:
            return NotImplemented
        return self.fields() == other.fields()

    def __hash__(self) -> int:
        return hash(self.fields())

    def __repr__(self) -> str:
        return (
            f"Target(transport={self.transport!r}, host={self.host!r}, port={self.port!r}, "
            f"path={self.path!r})"
        )

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Target], tuple[str, str, int, str]]:
        return (Target, self.fields())

    def replace(self, **changes: Any) -> Target:
        """A copy with some fields changed (what ``dataclasses.replace`` did)."""
        fields: dict[str, Any] = dict(zip(self.__match_args__, self.fields(), strict=True))
        fields.update(changes)
        return Target(**fields)

    @property
    def is_stream(self) -> bool:
        """True for TCP, TLS and unix (byte streams); False for UDP."""
        return self.transport != "udp"

    @property
    def display(self) -> str:
        """Short form for prompts and messages: ``127.0.0.1:8080``, ``[::1]:80``."""
        if self.transport == "unix":
            return f"unix:{self.path}"
        return host_port(self.host, self.port)

    def __str__(self) -> str:
        if self.transport == "unix":
            return f"unix:{self.path}"
        return f"{self.transport}://{self.display}"

    def with_transport(self, transport: Transport) -> Target:
        """The same address over another transport (``-u``, ``--tls``)."""
        if self.transport == "unix" or transport == "unix":
            if transport != self.transport:
                raise TargetError(f"{self}: cannot use {transport} with a unix socket path")
            return self
        return self.replace(transport=transport)


# -- ports ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _services_table(path: str) -> dict[tuple[str, str], int]:
    table: dict[tuple[str, str], int] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return table
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) < 2 or "/" not in words[1]:
            continue
        port_text, _, proto = words[1].partition("/")
        if not port_text.isdigit():
            continue
        for name in (words[0], *words[2:]):
            table.setdefault((name, proto.lower()), int(port_text))
    return table


def system_service_port(name: str, protocol: str) -> int | None:
    """The port of service *name* (or an alias) for *protocol* in :data:`SERVICES_FILE`."""
    return _services_table(SERVICES_FILE).get((name, protocol))


def parse_port(
    text: str, transport: str = "tcp", *, allow_zero: bool = False, services: ServiceLookup | None = None
) -> int:
    """Parse a port number or a service name (``http``) into a number."""
    text = text.strip()
    if not text:
        raise TargetError("missing port", text)
    if text.isdigit():
        port = int(text)
        if not (0 if allow_zero else 1) <= port <= 65535:
            raise TargetError(f"port {port} out of range (1-65535)", text)
        return port
    proto = "udp" if transport == "udp" else "tcp"
    found = (services or system_service_port)(text, proto)
    if found is None:
        raise TargetError(
            f"unknown port or service {text!r} (not a number, not in the services database)", text
        )
    return found


# -- targets -------------------------------------------------------------------


def split_host_port(text: str) -> tuple[str, str]:
    """``HOST:PORT`` or ``[V6]:PORT`` into its two texts (the brackets dropped)."""
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            raise TargetError(f"{text!r}: missing ']' after IPv6 address", text)
        host, rest = text[1:end], text[end + 1 :]
        if not rest.startswith(":"):
            raise TargetError(f"{text!r}: expected [ADDRESS]:PORT", text)
        return host, rest[1:]
    if text.count(":") > 1:
        raise TargetError(f"{text!r}: write an IPv6 address with a port as [ADDRESS]:PORT", text)
    if ":" not in text:
        raise TargetError(f"{text!r}: missing port (HOST PORT or HOST:PORT)", text)
    host, port = text.rsplit(":", 1)
    return host, port


def _unix_target(words: list[str], transport: Transport | None) -> Target:
    if len(words) != 1:
        raise TargetError("a unix target takes no port")
    first = words[0]
    path = first[len("unix:") :]
    if path.startswith("//"):
        path = path[2:]
    if not path:
        raise TargetError("unix: needs a socket path (unix:/path/to/socket)", first)
    if transport not in (None, "unix"):
        raise TargetError(f"cannot use {transport} with a unix socket path")
    return Target("unix", path=path)


def _split_scheme(first: str) -> tuple[str | None, str]:
    """``tls://h:p/x`` -> ``("tls", "h:p")``; no scheme -> ``(None, first)``."""
    if "://" not in first:
        return None, first
    scheme, rest = first.split("://", 1)
    scheme = scheme.lower()
    if scheme not in (*TRANSPORTS, *_DEFAULT_PORTS):
        raise TargetError(f"unknown scheme {scheme!r} (tcp, udp, tls, unix, http, https, telnet)")
    return scheme, rest.split("/", 1)[0]  # drop a URL path


def _choose_transport(scheme: str | None, transport: Transport | None, named: str) -> tuple[str, int]:
    """The transport the words and the flags agree on, and the scheme's default port (0: none)."""
    chosen, default_port = _DEFAULT_PORTS.get(scheme or "", (scheme or transport or "tcp", 0))
    upgrade = chosen == "tcp" and transport == "tls"
    if scheme and transport and transport != chosen and not upgrade:
        raise TargetError(f"{named!r} says {chosen} but {transport} was asked for")
    return ("tls" if transport == "tls" else chosen), default_port


def _host_and_port_text(words: list[str], first: str, default_port: int) -> tuple[str, str]:
    has_port = "]:" in first if first.startswith("[") else first.count(":") == 1
    if len(words) == 2:
        host = first
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return host, words[1]
    if default_port and not has_port:
        return first.strip("[]"), str(default_port)
    return split_host_port(first)


def parse_target(
    words: Sequence[str] | str, transport: Transport | None = None, *, services: ServiceLookup | None = None
) -> Target:
    """Parse a target from one or two command-line words.

    ``transport`` (from ``-u``/``--tls``) applies when the words do not name
    one; a URL scheme that conflicts with it is an error.
    """
    words = words.split() if isinstance(words, str) else list(words)
    if not words or not words[0]:
        raise TargetError("missing target (HOST PORT, HOST:PORT, tcp://HOST:PORT, ...)")
    if len(words) > 2:
        raise TargetError(f"too many words for a target: {' '.join(words)!r}")
    if words[0].startswith("unix:"):
        return _unix_target(words, transport)
    scheme, first = _split_scheme(words[0])
    chosen, default_port = _choose_transport(scheme, transport, words[0])
    host, port_text = _host_and_port_text(words, first, default_port)
    if not host:
        raise TargetError(f"{' '.join(words)!r}: missing host", " ".join(words))
    port = parse_port(port_text, chosen, services=services)
    return Target(chosen, host=host, port=port)  # type: ignore[arg-type]


def parse_bind(text: str, *, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """Parse ``[HOST:]PORT`` for ``listen``/``serve``/``lab`` (port 0 = any free port)."""
    text = text.strip()
    if text.startswith("[") or text.count(":") == 1:
        host, port_text = split_host_port(text)
        return host or default_host, parse_port(port_text, allow_zero=True)
    if text.count(":") > 1:
        raise TargetError(f"{text!r}: write an IPv6 address with a port as [ADDRESS]:PORT", text)
    return default_host, parse_port(text, allow_zero=True)


def invalid_host(host: str) -> TargetError:
    """The error for a host name that cannot be a DNS name (exit 2)."""
    return TargetError(f"invalid host name {host!r} (empty or over-long label)", host)


# -- printing ------------------------------------------------------------------


def bracket_host(host: str) -> str:
    """A host as it stands before ``:PORT`` or in a Host header: ``[::1]`` for IPv6."""
    return f"[{host}]" if ":" in host else host


def host_port(host: str, port: int) -> str:
    """``127.0.0.1:8080``, ``[::1]:8080``."""
    return f"{bracket_host(host)}:{port}"


def sockaddr_text(sockaddr: object) -> str:
    """A socket address for messages: ``host_port`` for IP, the path for unix."""
    if isinstance(sockaddr, tuple) and len(sockaddr) >= 2:
        return host_port(str(sockaddr[0]), sockaddr[1])
    return str(sockaddr)


def host_header(target: Target) -> str:
    """The Host header for *target*: no port when it is the scheme's default."""
    if target.transport == "unix":
        return "localhost"
    default = 443 if target.transport == "tls" else 80
    host = bracket_host(target.host)
    return host if target.port == default else f"{host}:{target.port}"
