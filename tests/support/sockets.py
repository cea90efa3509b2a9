"""Loopback socket situations shared by tests: a full accept backlog, IPv6.

Everything binds 127.0.0.1 or ::1 on port 0; nothing here waits unbounded.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def full_backlog(fillers: int = 4) -> Iterator[int]:
    """Yield the port of a 127.0.0.1 listener whose backlog is already full.

    The listener never accepts and has ``listen(0)``; *fillers* non-blocking
    connections take its queue, so a further connect gets no SYN-ACK and
    must time out. Listener and fillers are closed on exit.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        opened = []
        try:
            for _ in range(fillers):
                filler = socket.socket()
                opened.append(filler)
                filler.setblocking(False)
                try:
                    filler.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
            time.sleep(0.2)  # let the kernel queue the fillers' handshakes
            yield port
        finally:
            for filler in opened:
                filler.close()


def read_until_eof(sock: socket.socket) -> bytes:
    """Everything *sock* receives until the peer closes (bounded by its timeout)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def has_ipv6_loopback() -> bool:
    """Whether a socket can bind ::1 here (containers often lack IPv6)."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False
