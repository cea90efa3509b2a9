"""``scan --banner``: what an open port says first, or an HTTP server's answer to HEAD.

Each open port gets a fresh connection (threads, a handful at a time),
a short deadline, and at most 4 KiB read. The result is made terminal-safe
by :func:`netbench.tools.scanmodel.summarize_banner`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from netbench.core.address import host_port
from netbench.tools.engine import sockaddr_for
from netbench.tools.scanmodel import is_http_port, summarize_banner

MAX_BANNER = 4096


def head_request(host: str, port: int) -> bytes:
    """The HEAD request sent to HTTP ports."""
    return (
        f"HEAD / HTTP/1.1\r\nHost: {host_port(host, port)}\r\nUser-Agent: netbench\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii", "replace")


def read_banner(family: int, sockaddr: tuple, port: int, *, http: bool, timeout: float, host: str) -> bytes:
    """Connect to *port*, send HEAD when *http*, return what arrived before the deadline.

    Stops at the end of the HTTP head, at the first complete line of a
    greeting, at EOF, after 4 KiB, or at the deadline; never raises for
    network errors (returns what it has, possibly ``b""``).
    """
    deadline = time.monotonic() + timeout
    data = b""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(sockaddr_for(family, sockaddr)(port))
            if http:
                sock.sendall(head_request(host, port))
            while len(data) < MAX_BANNER:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                chunk = sock.recv(MAX_BANNER - len(data))
                if not chunk:
                    break
                data += chunk
                if http and b"\r\n\r\n" in data:
                    break
                if not http and b"\n" in data:
                    break
    except OSError:
        pass
    return data


def grab_banners(
    family: int,
    sockaddr: tuple,
    ports: Sequence[int],
    services: dict[int, str | None],
    *,
    timeout: float = 2.0,
    host: str = "",
) -> dict[int, str]:
    """Summaries of what each port in *ports* said (ports that said nothing are left out)."""
    if not ports:
        return {}

    def one(port: int) -> tuple[int, bytes]:
        http = is_http_port(port, services.get(port))
        return port, read_banner(family, sockaddr, port, http=http, timeout=timeout, host=host or sockaddr[0])

    with ThreadPoolExecutor(max_workers=min(32, len(ports))) as pool:
        results = list(pool.map(one, ports))
    return {port: text for port, data in results if (text := summarize_banner(data))}
