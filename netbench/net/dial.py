"""Blocking connects and listening sockets for the fast pipe (no asyncio).

``dial`` tries each address the target resolves to, in order, within
``timeout`` seconds each; ``open_listener`` binds ``[HOST:]PORT`` (or a
unix path). Failures are netbench errors: Refused (3), TimedOut (4).
"""

from __future__ import annotations

import os
import socket

from netbench.core.address import Target, invalid_host, sockaddr_text
from netbench.net.failures import translate
from netbench.net.resolve import resolve


def address_text(sockaddr: object) -> str:
    """``127.0.0.1:80``, ``[::1]:80`` or a unix path, for messages."""
    return sockaddr_text(sockaddr) or "unix socket"


def dial(target: Target, family: int, timeout: float | None) -> socket.socket:
    """Connect a blocking stream socket to *target* (tcp or unix)."""
    last: OSError | None = None
    for fam, sockaddr in resolve(target, family):
        sock = socket.socket(fam, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            if isinstance(error, TimeoutError):
                raise _failure(error, target) from None
            last = error
            continue
        sock.settimeout(None)
        return sock
    assert last is not None
    raise _failure(last, target) from None


def _failure(error: OSError, target: Target) -> Exception:
    return translate(error, target.display, during="connect to")


def open_listener(
    host: str, port: int, family: int = socket.AF_UNSPEC, *, udp: bool = False, path: str = ""
) -> socket.socket:
    """A socket bound to *host*:*port* (or unix *path*), listening when TCP."""
    from netbench.errors import UsageError

    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    if path:
        if os.path.exists(path) and not _is_socket(path):
            raise UsageError(f"{path} exists and is not a socket")
        if _is_socket(path):
            os.unlink(path)
        candidates: list[tuple[int, object]] = [(socket.AF_UNIX, path)]
    else:
        try:
            infos = socket.getaddrinfo(host, port, family, kind, 0, socket.AI_PASSIVE)
        except socket.gaierror as error:
            raise UsageError(f"cannot listen on {host!r}: {error.strerror}") from None
        except UnicodeError:
            raise invalid_host(host) from None
        candidates = [(info[0], info[4]) for info in infos]
    last: OSError | None = None
    for fam, sockaddr in candidates:
        sock = socket.socket(fam, kind)
        try:
            if fam != socket.AF_UNIX:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)  # type: ignore[arg-type]
            if not udp:
                sock.listen(1)
        except OSError as error:
            sock.close()
            last = error
            continue
        return sock
    assert last is not None
    where = path or address_text((host, port))
    raise UsageError(f"cannot listen on {where}: {last.strerror or last}")


def _is_socket(path: str) -> bool:
    import stat

    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False
