"""The one dialer: a connected socket for a target, for every client in netbench.

``connect``, ``http``, ``replay`` (the recipe engine) and the REPL's asyncio
sessions all connect here, so the address order, the timeout, the socket
options and the error messages are the same everywhere:

- addresses come from the one resolver (:mod:`netbench.net.resolve`), the
  families alternating; TCP attempts are staggered as in RFC 8305 ("Happy
  Eyeballs"): the next address is tried when the previous one failed or has
  not answered within :data:`ATTEMPT_DELAY`, the first to connect wins;
- one deadline, *timeout* seconds, covers the whole connect (and the TLS
  handshake); passing it raises :class:`TimedOut` "timed out connecting to
  HOST:PORT";
- TCP sockets get ``TCP_NODELAY`` (a request is one write: no Nagle wait);
  unix targets connect to their path; UDP sockets are connected (no packet
  leaves: UDP has no handshake), so ICMP errors come back to them;
- TLS goes on top (:func:`start_tls`), with :mod:`netbench.net.tls`'s context;
  :mod:`ssl` is imported only then.

Failures are netbench errors: Refused (3), TimedOut (4), TLSFailure (7);
an unresolvable name is Refused, an impossible one a TargetError (2).
The socket returned is in blocking mode with no timeout; callers set theirs.
``open_listener`` binds ``[HOST:]PORT`` (or a unix path) for ``listen``.
"""

from __future__ import annotations

import os
import socket
import time
from typing import TYPE_CHECKING, Any

from netbench.core.address import Target, invalid_host, sockaddr_text
from netbench.errors import NetbenchError, TimedOut
from netbench.net.failures import translate
from netbench.net.resolve import Address, resolve

if TYPE_CHECKING:
    from netbench.net.tls import TLSOptions

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds for a connect (and its TLS handshake) when the caller names none."""
READ_SIZE = 256 * 1024
"""Bytes asked of one ``recv``: large enough that a fast peer fills few calls (measured in bench/pipe.py)."""
ATTEMPT_DELAY = 0.25
"""RFC 8305's Connection Attempt Delay: how long one address may stay silent before the next starts."""


def address_text(sockaddr: object) -> str:
    """``127.0.0.1:80``, ``[::1]:80`` or a unix path, for messages."""
    return sockaddr_text(sockaddr) or "unix socket"


def deadline_after(timeout: float | None) -> float | None:
    """The monotonic time *timeout* seconds from now (None: no deadline)."""
    return None if timeout is None else time.monotonic() + timeout


def remaining(deadline: float | None) -> float | None:
    """Seconds left until *deadline*, for ``settimeout`` (None: no deadline).

    Raises :class:`TimeoutError` when it has passed: ``settimeout(0)`` would make the
    socket non-blocking, and a wait past its deadline must time out, not fail otherwise.
    """
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def connect_failure(error: BaseException, target: Target, *, during: str = "connect to") -> NetbenchError:
    """The netbench error for *error* met while connecting to *target*: one wording for every caller."""
    if isinstance(error, TimeoutError):
        what = "connecting to" if during == "connect to" else during
        return TimedOut(f"timed out {what} {target.display}", target.display)
    return translate(error, target.display, during=during)


def dial(
    target: Target,
    family: int = socket.AF_UNSPEC,
    timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    *,
    tls: TLSOptions | None = None,
) -> socket.socket:
    """Connect to *target* within *timeout* seconds; a ``tls`` target also gets its handshake."""
    deadline = deadline_after(timeout)
    sock = open_socket(target, family, deadline)
    if target.transport != "tls":
        return sock
    return start_tls(sock, target, tls, deadline)


def open_socket(target: Target, family: int, deadline: float | None) -> socket.socket:
    """A connected socket for *target* (TCP for ``tls``: no handshake yet), before *deadline*."""
    addresses = resolve(target, family)
    try:
        if target.transport == "unix":
            return _connect_one(addresses[0], socket.SOCK_STREAM, deadline)
        if target.transport == "udp":
            return _connect_one(addresses[0], socket.SOCK_DGRAM, deadline)
        if len(addresses) == 1:
            return _nodelay(_connect_one(addresses[0], socket.SOCK_STREAM, deadline))
        return _nodelay(race(addresses, deadline))
    except OSError as error:
        raise connect_failure(error, target) from None


def _nodelay(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _connect_one(address: Address, kind: int, deadline: float | None) -> socket.socket:
    family, sockaddr = address
    sock = socket.socket(family, kind)
    try:
        sock.settimeout(remaining(deadline))
        sock.connect(sockaddr)
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock


def race(addresses: list[Address], deadline: float | None) -> socket.socket:
    """RFC 8305 section 5: staggered non-blocking connects; the first that completes wins."""
    import selectors

    waiting = list(addresses)
    pending: set[socket.socket] = set()
    last_error: OSError | None = None
    next_start = time.monotonic()
    with selectors.DefaultSelector() as selector:
        try:
            while waiting or pending:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise TimeoutError
                if waiting and (not pending or now >= next_start):
                    started, error = _start(waiting.pop(0))
                    if started is None:
                        last_error = error
                        continue
                    pending.add(started)
                    selector.register(started, selectors.EVENT_WRITE)
                    next_start = now + ATTEMPT_DELAY
                    continue
                wait = None if deadline is None else deadline - now
                if waiting:
                    wait = min(next_start - now, wait if wait is not None else ATTEMPT_DELAY)
                for key, _events in selector.select(wait):
                    sock: Any = key.fileobj
                    selector.unregister(sock)
                    pending.discard(sock)
                    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if code == 0:
                        sock.setblocking(True)
                        return sock
                    sock.close()
                    last_error = OSError(code, os.strerror(code))
                    next_start = time.monotonic()  # a failure starts the next attempt at once
        finally:
            for sock in pending:
                sock.close()
    assert last_error is not None
    raise last_error


def _start(address: Address) -> tuple[socket.socket | None, OSError | None]:
    """Begin a non-blocking connect to *address*: the socket, or None and why it failed at once."""
    import errno

    family, sockaddr = address
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    code = sock.connect_ex(sockaddr)
    if code in (0, errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
        return sock, None
    sock.close()
    return None, OSError(code, os.strerror(code))


def start_tls(
    sock: socket.socket, target: Target, options: TLSOptions | None, deadline: float | None
) -> socket.socket:
    """The TLS handshake on connected *sock*, before *deadline* (imports :mod:`ssl`)."""
    from netbench.net.tls import TLSOptions, client_context

    options = options or TLSOptions()
    try:
        sock.settimeout(remaining(deadline))
        wrapped = client_context(options).wrap_socket(sock, server_hostname=options.sni or target.host)
        wrapped.settimeout(None)
    except OSError as error:
        sock.close()
        raise connect_failure(error, target, during="in the TLS handshake with") from None
    return wrapped


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
