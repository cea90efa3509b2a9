"""The UDP probe (``scan -u``): one datagram per port, epoll for the answers.

A reply means open; an ICMP port unreachable (``ECONNREFUSED`` on a
connected UDP socket) means closed; silence after the retries means
``open|filtered``, as nmap says, since an open service that ignores the
probe and a firewall that drops it cannot be told apart. Remote hosts
rate-limit ICMP errors, so silence is common there; loopback does not.
"""

from __future__ import annotations

import errno
import select
import socket
import time
from collections import deque
from collections.abc import Sequence

from netbench.tools.engine import (
    PROGRESS_EVERY,
    ProbeOutcome,
    Progress,
    launch_budget,
    raise_fd_limit,
    sockaddr_for,
)
from netbench.tools.scanmodel import OPEN, classify_udp

#: Probes that make well-known UDP services answer (others get an empty datagram).
PAYLOADS: dict[int, bytes] = {
    # DNS: a standard query for the root NS records.
    53: bytes.fromhex("1234 0100 0001 0000 0000 0000 00 0002 0001"),
    # NTP: a version 3 client request.
    123: b"\x1b" + b"\0" * 47,
    # echo and friends answer anything.
    7: b"netbench\r\n",
}


def probe_udp(
    family: int,
    sockaddr: tuple,
    ports: Sequence[int],
    *,
    timeout: float = 1.0,
    retries: int = 1,
    window: int = 256,
    rate: float | None = None,
    progress: Progress | None = None,
) -> ProbeOutcome:
    """UDP-probe *ports*; same contract as :func:`netbench.tools.engine.probe_tcp`."""
    outcome = ProbeOutcome()
    verdicts = outcome.verdicts
    address = sockaddr_for(family, sockaddr)
    window = raise_fd_limit(max(1, window))
    queue: deque[int] = deque(ports)
    attempts: dict[int, int] = {}
    inflight: dict[int, tuple[socket.socket, int, float]] = {}
    poller = select.epoll()
    total = len(queue)
    started = time.monotonic()
    launched = 0
    next_report = started + PROGRESS_EVERY

    def settle(fd: int, code: int | None, answered: bool) -> None:
        sock, port, _deadline = inflight.pop(fd)
        poller.unregister(fd)
        sock.close()
        if not answered and code is None and attempts.get(port, 0) < retries:
            attempts[port] = attempts.get(port, 0) + 1
            queue.append(port)
            return
        verdicts[port] = classify_udp(code, answered)

    try:
        while queue or inflight:
            now = time.monotonic()
            budget = launch_budget(window, len(inflight), rate, now - started, launched)
            while queue and budget > 0:
                port = queue.popleft()
                sock = socket.socket(family, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)
                launched += 1
                budget -= 1
                try:
                    sock.connect(address(port))
                    sock.send(PAYLOADS.get(port, b""))
                except OSError as error:
                    sock.close()
                    verdicts[port] = classify_udp(error.errno or errno.EIO, False)
                    continue
                poller.register(sock.fileno(), select.EPOLLIN)
                inflight[sock.fileno()] = (sock, port, now + timeout)
            wait = PROGRESS_EVERY
            if inflight:
                wait = max(0.0, min(wait, min(d for _s, _p, d in inflight.values()) - now))
            if rate is not None and queue:
                wait = min(wait, 1.0 / rate)
            if not inflight and not queue:
                break
            for fd, _events in poller.poll(wait):
                sock = inflight[fd][0]
                try:
                    sock.recv(65535)
                    settle(fd, None, True)
                except OSError as error:
                    settle(fd, error.errno, False)
            now = time.monotonic()
            for fd in [fd for fd, (_s, _p, deadline) in inflight.items() if deadline <= now]:
                settle(fd, None, False)
            if progress is not None and now >= next_report:
                next_report = now + PROGRESS_EVERY
                progress(len(verdicts), total, sum(1 for v in verdicts.values() if v[0] == OPEN))
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        for sock, _port, _deadline in inflight.values():
            sock.close()
        poller.close()
    return outcome
