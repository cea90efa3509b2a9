"""The TCP connect-scan engine: non-blocking sockets and epoll, no asyncio.

One thread drives a window of concurrent probes. Each probe is a
non-blocking ``connect``; a second ``connect`` on the same socket right away
reports the verdict when the answer is already in (loopback answers inside
the first system call), otherwise the socket waits in epoll for
writable/error and the second ``connect`` reads the verdict then. A socket
refused by the peer is reused for the next port (Linux resets it on the
second ``connect``), which saves a socket/close pair per closed port.

The verdicts are nmap's (see :mod:`netbench.tools.scanmodel`); a probe
that times out is retried ``retries`` times before "filtered" stands. A
connection to itself (on loopback the kernel can pick the target port as
the source port) is never reported open.
"""

from __future__ import annotations

import errno
import resource
import select
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from netbench.errors import NetworkError
from netbench.tools.scanmodel import CLOSED, OPEN, RETRYABLE, classify_tcp

Progress = Callable[[int, int, int], None]
"""``progress(done, total, open_count)``, called a few times a second."""

_EINPROGRESS = errno.EINPROGRESS
_EALREADY = errno.EALREADY
_REFUSED = errno.ECONNREFUSED
_CLOSED_REFUSED = (CLOSED, "conn-refused")
_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK
PROGRESS_EVERY = 0.2


@dataclass
class ProbeOutcome:
    """Verdicts by port (``(state, reason)``) and whether Ctrl-C cut the run short."""

    verdicts: dict[int, tuple[str, str]] = field(default_factory=dict)
    interrupted: bool = False


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards the hard limit; return the usable window."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted + 64:
        target = wanted + 64 if hard == resource.RLIM_INFINITY else min(hard, wanted + 64)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - 64))


def launch_budget(window: int, in_flight: int, rate: float | None, elapsed: float, launched: int) -> int:
    """How many probes may start now (<= 0: none).

    The free places in the *window*; with a *rate* (probes per second), also
    no more than that rate allows over the *elapsed* seconds of the run, given
    the *launched* probes so far (one may start at once).
    """
    budget = window - in_flight
    if rate is not None:
        budget = min(budget, int(elapsed * rate) + 1 - launched)
    return budget


MIN_TIMEOUT = 0.25


def adaptive_timeout(ceiling: float, slowest: float) -> float:
    """The probe timeout once answers have been seen: four times the slowest
    round trip (at least 0.25 s), never above the *ceiling* asked for."""
    return min(ceiling, max(MIN_TIMEOUT, 4 * slowest))


def is_self_connect(sock: socket.socket) -> bool:
    """Whether a connected *sock* is connected to itself (source == destination).

    On loopback, connecting to a port nothing listens on can pick that very
    port as the source port; the kernel then completes a "simultaneous
    open" with itself. Nothing listens there, so the port is closed.
    """
    try:
        return bool(sock.getsockname() == sock.getpeername())
    except OSError:
        return False


def sockaddr_for(family: int, sockaddr: tuple) -> Callable[[int], tuple]:
    """A function port -> socket address for *family*, keeping IPv6 scope ids."""
    host = sockaddr[0]
    if family == socket.AF_INET6:
        flow, scope = (sockaddr[2], sockaddr[3]) if len(sockaddr) >= 4 else (0, 0)
        return lambda port: (host, port, flow, scope)
    return lambda port: (host, port)


def probe_tcp(
    family: int,
    sockaddr: tuple,
    ports: Sequence[int],
    *,
    timeout: float = 1.0,
    retries: int = 1,
    window: int = 2048,
    rate: float | None = None,
    progress: Progress | None = None,
) -> ProbeOutcome:
    """Connect-scan *ports* at *sockaddr*; return every verdict.

    ``timeout`` is per probe at most: once answers arrive it shrinks to
    four times the slowest round trip seen (at least 0.25 s). ``window`` the most probes in flight, ``rate``
    the most probes started per second (None: as fast as the window allows).
    Ctrl-C stops the run and returns what was found so far, with
    ``interrupted`` set. Every socket is closed on the way out.
    """
    outcome = ProbeOutcome()
    verdicts = outcome.verdicts
    address = sockaddr_for(family, sockaddr)
    host, ipv4 = sockaddr[0], family == socket.AF_INET
    window = raise_fd_limit(max(1, window))
    queue: deque[int] = deque(ports)
    attempts: dict[int, int] = {}
    inflight: dict[int, tuple[socket.socket, int, tuple, float]] = {}
    expiry: deque[tuple[float, int, socket.socket]] = deque()  # (started, fd, sock), oldest first
    limit = timeout  # the per-probe timeout in force: shrinks to fit the round trips seen
    slowest = 0.0
    answered_at_once = False  # an answer came inside connect() itself (loopback)
    spare: list[socket.socket] = []
    poller = select.epoll()
    register = poller.register
    unregister = poller.unregister
    watch = select.EPOLLOUT
    new_socket = socket.socket
    popleft = queue.popleft
    total = len(queue)
    started = time.monotonic()
    launched = 0
    opened = 0
    next_report = started + PROGRESS_EVERY

    def finish(sock: socket.socket, port: int, code: int) -> None:
        nonlocal opened
        if code == _REFUSED:
            verdicts[port] = _CLOSED_REFUSED
            spare.append(sock)
            return
        verdict = classify_tcp(code)
        if verdict[0] == OPEN and is_self_connect(sock):
            verdict = (CLOSED, "self-connect")
        sock.close()
        if code in RETRYABLE and attempts.get(port, 0) < retries:
            attempts[port] = attempts.get(port, 0) + 1
            queue.append(port)
            return
        verdicts[port] = verdict
        if verdict[0] == OPEN:
            opened += 1

    try:
        while queue or inflight:
            now = time.monotonic()
            budget = launch_budget(window, len(inflight), rate, now - started, launched)
            while queue and budget > 0:
                port = popleft()
                try:
                    sock = spare.pop() if spare else new_socket(family, _STREAM)
                except OSError as error:
                    queue.appendleft(port)
                    if error.errno in (errno.EMFILE, errno.ENFILE) and inflight:
                        window = max(1, len(inflight))
                        break
                    raise NetworkError(f"cannot create a socket: {error.strerror}") from None
                connect = sock.connect_ex
                while True:  # the hot loop: reuse this socket while ports refuse at once
                    target = (host, port) if ipv4 else address(port)
                    code = connect(target)
                    if code == _EINPROGRESS:
                        code = connect(target)
                    launched += 1
                    budget -= 1
                    if code != _REFUSED or not queue or budget <= 0:
                        break
                    verdicts[port] = _CLOSED_REFUSED
                    port = popleft()
                if code in (_EALREADY, _EINPROGRESS):
                    fd = sock.fileno()
                    register(fd, watch)
                    inflight[fd] = (sock, port, target, now)
                    expiry.append((now, fd, sock))
                    continue
                answered_at_once = True
                finish(sock, port, code)
            if inflight:
                wait = 0.0
                if not queue or len(inflight) >= window or budget <= 0:
                    wait = max(0.0, min(expiry[0][0] + limit - now, PROGRESS_EVERY))
                    if rate is not None and queue:
                        wait = min(wait, 1.0 / rate)
                events = poller.poll(wait)
                if events:
                    answered = time.monotonic()
                    for fd, _events in events:
                        entry = inflight.pop(fd, None)
                        if entry is None:
                            continue
                        sock, port, target, began = entry
                        unregister(fd)
                        finish(sock, port, sock.connect_ex(target))
                        if answered - began > slowest:
                            slowest = answered - began
                    limit = adaptive_timeout(timeout, slowest)
                elif limit == timeout and answered_at_once:
                    limit = adaptive_timeout(timeout, slowest)
                now = time.monotonic()
                while expiry and expiry[0][0] + limit <= now:
                    _began, fd, sock = expiry.popleft()
                    entry = inflight.get(fd)
                    if entry is None or entry[0] is not sock:
                        continue
                    del inflight[fd]
                    unregister(fd)
                    finish(sock, entry[1], errno.ETIMEDOUT)
                while expiry and inflight.get(expiry[0][1], (None,))[0] is not expiry[0][2]:
                    expiry.popleft()
            elif queue and budget <= 0 and rate is not None:
                time.sleep(min(1.0 / rate, PROGRESS_EVERY))
            if progress is not None and now >= next_report:
                next_report = now + PROGRESS_EVERY
                progress(len(verdicts), total, opened)
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        for sock, _port, _target, _began in inflight.values():
            sock.close()
        for sock in spare:
            sock.close()
        poller.close()
    return outcome
