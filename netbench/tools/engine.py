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
    four times the slowest round trip seen (at least 0.25 s). ``window`` the
    most probes in flight, ``rate`` the most probes started per second
    (None: as fast as the window allows). Ctrl-C stops the run and returns
    what was found so far, with ``interrupted`` set. Every socket is closed
    on the way out.
    """
    scan = _TcpScan(family, sockaddr, ports, timeout=timeout, retries=retries, window=window, rate=rate)
    try:
        scan.run(progress)
    except KeyboardInterrupt:
        scan.outcome.interrupted = True
    finally:
        scan.close()
    return scan.outcome


class _TcpScan:
    """One connect scan: the queue of ports, the probes in flight, the verdicts.

    Each turn of :meth:`run` launches what the window and the rate allow
    (:meth:`launch`), waits for answers (:meth:`collect_answers`), and gives
    up on probes past the timeout (:meth:`expire`). :meth:`finish` turns one
    probe's connect() result into a verdict or a retry.
    """

    def __init__(
        self,
        family: int,
        sockaddr: tuple,
        ports: Sequence[int],
        *,
        timeout: float,
        retries: int,
        window: int,
        rate: float | None,
    ) -> None:
        self.outcome = ProbeOutcome()
        self.family = family
        self.address = sockaddr_for(family, sockaddr)
        self.host, self.ipv4 = sockaddr[0], family == socket.AF_INET
        self.window = raise_fd_limit(max(1, window))
        self.timeout, self.retries, self.rate = timeout, retries, rate
        self.queue: deque[int] = deque(ports)
        self.total = len(self.queue)
        self.attempts: dict[int, int] = {}
        self.inflight: dict[int, tuple[socket.socket, int, tuple, float]] = {}
        self.expiry: deque[tuple[float, int, socket.socket]] = deque()  # (started, fd, sock), oldest first
        self.limit = timeout  # the per-probe timeout in force: shrinks to fit the round trips seen
        self.slowest = 0.0
        self.answered_at_once = False  # an answer came inside connect() itself (loopback)
        self.spare: list[socket.socket] = []  # refused sockets, reusable for the next port
        self.poller = select.epoll()
        self.started = time.monotonic()
        self.launched = 0
        self.opened = 0

    def run(self, progress: Progress | None) -> None:
        """Probe until every port has its verdict."""
        next_report = self.started + PROGRESS_EVERY
        while self.queue or self.inflight:
            now = time.monotonic()
            budget = self.launch(now)
            if self.inflight:
                self.collect_answers(now, budget)
                now = time.monotonic()
                self.expire(now)
            elif self.queue and budget <= 0 and self.rate is not None:
                time.sleep(min(1.0 / self.rate, PROGRESS_EVERY))
            if progress is not None and now >= next_report:
                next_report = now + PROGRESS_EVERY
                progress(len(self.outcome.verdicts), self.total, self.opened)

    def launch(self, now: float) -> int:
        """Start the probes the window and rate allow now; return the budget left."""
        queue, verdicts = self.queue, self.outcome.verdicts
        popleft, address, host, ipv4 = queue.popleft, self.address, self.host, self.ipv4
        budget = launch_budget(self.window, len(self.inflight), self.rate, now - self.started, self.launched)
        while queue and budget > 0:
            port = popleft()
            sock = self._socket_for(port)
            if sock is None:
                break
            connect = sock.connect_ex
            while True:  # the hot loop: reuse this socket while ports refuse at once
                target = (host, port) if ipv4 else address(port)
                code = connect(target)
                if code == _EINPROGRESS:
                    code = connect(target)
                self.launched += 1
                budget -= 1
                if code != _REFUSED or not queue or budget <= 0:
                    break
                verdicts[port] = _CLOSED_REFUSED
                port = popleft()
            if code in (_EALREADY, _EINPROGRESS):
                fd = sock.fileno()
                self.poller.register(fd, select.EPOLLOUT)
                self.inflight[fd] = (sock, port, target, now)
                self.expiry.append((now, fd, sock))
                continue
            self.answered_at_once = True
            self.finish(sock, port, code)
        return budget

    def _socket_for(self, port: int) -> socket.socket | None:
        """A socket to probe *port* with (a spare one first); None: out of descriptors, wait."""
        if self.spare:
            return self.spare.pop()
        try:
            return socket.socket(self.family, _STREAM)
        except OSError as error:
            self.queue.appendleft(port)
            if error.errno in (errno.EMFILE, errno.ENFILE) and self.inflight:
                self.window = max(1, len(self.inflight))  # fewer at a time from now on
                return None
            raise NetworkError(f"cannot create a socket: {error.strerror}") from None

    def collect_answers(self, now: float, budget: int) -> None:
        """Wait for answers (as long as nothing else is to be done) and finish those probes."""
        wait = 0.0
        if not self.queue or len(self.inflight) >= self.window or budget <= 0:
            wait = max(0.0, min(self.expiry[0][0] + self.limit - now, PROGRESS_EVERY))
            if self.rate is not None and self.queue:
                wait = min(wait, 1.0 / self.rate)
        events = self.poller.poll(wait)
        if events:
            answered = time.monotonic()
            for fd, _events in events:
                entry = self.inflight.pop(fd, None)
                if entry is None:
                    continue
                sock, port, target, began = entry
                self.poller.unregister(fd)
                self.finish(sock, port, sock.connect_ex(target))
                self.slowest = max(self.slowest, answered - began)
            self.limit = adaptive_timeout(self.timeout, self.slowest)
        elif self.limit == self.timeout and self.answered_at_once:
            self.limit = adaptive_timeout(self.timeout, self.slowest)

    def expire(self, now: float) -> None:
        """Give up on the probes older than the timeout in force (a timeout: retried or filtered)."""
        expiry, inflight = self.expiry, self.inflight
        while expiry and expiry[0][0] + self.limit <= now:
            _began, fd, sock = expiry.popleft()
            entry = inflight.get(fd)
            if entry is None or entry[0] is not sock:
                continue
            del inflight[fd]
            self.poller.unregister(fd)
            self.finish(sock, entry[1], errno.ETIMEDOUT)
        while expiry and inflight.get(expiry[0][1], (None,))[0] is not expiry[0][2]:
            expiry.popleft()  # answered already: drop its entry

    def finish(self, sock: socket.socket, port: int, code: int) -> None:
        """Turn the connect() result *code* for *port* into its verdict, or queue a retry."""
        if code == _REFUSED:
            self.outcome.verdicts[port] = _CLOSED_REFUSED
            self.spare.append(sock)
            return
        verdict = classify_tcp(code)
        if verdict[0] == OPEN and is_self_connect(sock):
            verdict = (CLOSED, "self-connect")
        sock.close()
        if code in RETRYABLE and self.attempts.get(port, 0) < self.retries:
            self.attempts[port] = self.attempts.get(port, 0) + 1
            self.queue.append(port)
            return
        self.outcome.verdicts[port] = verdict
        if verdict[0] == OPEN:
            self.opened += 1

    def close(self) -> None:
        """Close every socket still open and the poller."""
        for sock, _port, _target, _began in self.inflight.values():
            sock.close()
        for sock in self.spare:
            sock.close()
        self.poller.close()
