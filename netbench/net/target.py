"""Targets: what the user names to connect to, parsed and resolved.

Accepted forms (``words`` is the list of command-line words)::

    HOST PORT        127.0.0.1 8080      localhost http
    HOST:PORT        127.0.0.1:8080      localhost:http
    [V6]:PORT        [::1]:8080
    URL-like         tcp://h:p  udp://h:p  tls://h:p  unix:/path  unix:///path
    http(s)://h[:p]  (taken as tcp/tls with port 80/443)

A service name may stand for a port; it is looked up in the services
database. Bad targets raise :class:`~netbench.errors.TargetError` (exit 2).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, Literal, NoReturn

from netbench.errors import Refused, TargetError

Transport = Literal["tcp", "udp", "tls", "unix"]
TRANSPORTS: tuple[str, ...] = ("tcp", "udp", "tls", "unix")
_DEFAULT_PORTS = {"http": ("tcp", 80), "https": ("tls", 443)}


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

    def _fields(self) -> tuple[str, str, int, str]:
        return (self.transport, self.host, self.port, self.path)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

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
        return (Target, self._fields())

    def replace(self, **changes: Any) -> Target:
        """A copy with some fields changed (what ``dataclasses.replace`` did)."""
        fields: dict[str, Any] = dict(zip(self.__match_args__, self._fields(), strict=True))
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


def parse_port(text: str, transport: str = "tcp", *, allow_zero: bool = False) -> int:
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
    try:
        return socket.getservbyname(text, proto)
    except OSError:
        raise TargetError(
            f"unknown port or service {text!r} (not a number, not in the services database)",
            text,
        ) from None


def _split_host_port(text: str) -> tuple[str, str]:
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


def parse_target(words: Sequence[str] | str, transport: Transport | None = None) -> Target:
    """Parse a target from one or two command-line words.

    ``transport`` (from ``-u``/``--tls``) applies when the words do not name
    one; a URL scheme that conflicts with it is an error.
    """
    if isinstance(words, str):
        words = words.split()
    words = list(words)
    if not words or not words[0]:
        raise TargetError("missing target (HOST PORT, HOST:PORT, tcp://HOST:PORT, ...)")
    if len(words) > 2:
        raise TargetError(f"too many words for a target: {' '.join(words)!r}")
    first = words[0]
    scheme: str | None = None
    if first.startswith("unix:"):
        if len(words) != 1:
            raise TargetError("a unix target takes no port")
        path = first[len("unix:") :]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise TargetError("unix: needs a socket path (unix:/path/to/socket)", first)
        if transport not in (None, "unix"):
            raise TargetError(f"cannot use {transport} with a unix socket path")
        return Target("unix", path=path)
    if "://" in first:
        scheme, first = first.split("://", 1)
        scheme = scheme.lower()
        if scheme not in (*TRANSPORTS, *_DEFAULT_PORTS):
            raise TargetError(f"unknown scheme {scheme!r} (tcp, udp, tls, unix, http, https)")
        first = first.split("/", 1)[0]  # drop a URL path
    if scheme in _DEFAULT_PORTS:
        kind, default_port = _DEFAULT_PORTS[scheme]
        chosen: str = kind
    else:
        default_port = 0
        chosen = scheme or transport or "tcp"
    upgrade = chosen == "tcp" and transport == "tls"
    if scheme and transport and transport != chosen and not upgrade:
        raise TargetError(f"{words[0]!r} says {chosen} but {transport} was asked for")
    if transport == "tls":
        chosen = "tls"
    has_port = "]:" in first if first.startswith("[") else first.count(":") == 1
    if len(words) == 2:
        host, port_text = first, words[1]
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
    elif default_port and not has_port:
        host, port_text = first.strip("[]"), str(default_port)
    else:
        host, port_text = _split_host_port(first)
    if not host:
        raise TargetError(f"{' '.join(words)!r}: missing host", " ".join(words))
    port = parse_port(port_text, chosen)
    return Target(chosen, host=host, port=port)  # type: ignore[arg-type]


def resolve(target: Target, family: int = socket.AF_UNSPEC) -> list[tuple[int, tuple]]:
    """Resolve *target* to ``[(family, sockaddr), ...]`` with getaddrinfo.

    ``family`` is ``AF_INET`` for ``-4``, ``AF_INET6`` for ``-6``. A name
    that does not resolve raises :class:`Refused` (exit 3, host unreachable).
    """
    if target.transport == "unix":
        return [(socket.AF_UNIX, (target.path,))]
    kind = socket.SOCK_DGRAM if target.transport == "udp" else socket.SOCK_STREAM
    try:
        infos = socket.getaddrinfo(_host_argument(target.host), target.port, family, kind)
    except socket.gaierror as error:
        raise Refused(f"cannot resolve {target.host!r}: {error.strerror}", target.display) from None
    except UnicodeError:  # the idna codec rejects the name (an empty or over-long label)
        raise invalid_host(target.host) from None
    seen: list[tuple[int, tuple]] = []
    for fam, _type, _proto, _name, sockaddr in infos:
        if (fam, sockaddr) not in seen:
            seen.append((fam, sockaddr))
    return seen


def _host_argument(host: str) -> str | bytes:
    """*host* for getaddrinfo: as bytes when the idna codec would give those very bytes.

    getaddrinfo encodes a str host with the idna codec, whose first use imports
    ``encodings.idna`` and ``stringprep`` (~2 ms of every run); an ASCII name whose
    labels have 1-63 characters (an IP address, ``localhost``) encodes to itself.
    """
    if host.isascii() and all(0 < len(label) < 64 for label in host.rstrip(".").split(".")):
        return host.encode("ascii")
    return host


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


def invalid_host(host: str) -> TargetError:
    """The error for a host name that cannot be a DNS name (exit 2)."""
    return TargetError(f"invalid host name {host!r} (empty or over-long label)", host)


def family_from_flags(ipv4: bool, ipv6: bool) -> int:
    """``-4``/``-6`` flags to an address family."""
    if ipv4 and ipv6:
        raise TargetError("-4 and -6 exclude each other")
    if ipv4:
        return socket.AF_INET
    if ipv6:
        return socket.AF_INET6
    return socket.AF_UNSPEC


def parse_bind(text: str, *, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """Parse ``[HOST:]PORT`` for ``listen``/``serve``/``lab`` (port 0 = any free port)."""
    text = text.strip()
    if text.startswith("[") or text.count(":") == 1:
        host, port_text = _split_host_port(text)
        return host or default_host, parse_port(port_text, allow_zero=True)
    if text.count(":") > 1:
        raise TargetError(f"{text!r}: write an IPv6 address with a port as [ADDRESS]:PORT", text)
    return default_host, parse_port(text, allow_zero=True)
