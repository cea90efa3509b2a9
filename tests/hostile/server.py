"""A tiny TCP server on 127.0.0.1 that answers every request with a script of misbehaviour.

``HostileServer(steps)`` accepts connections on a free port in a background
thread; for each one it reads the request head, then plays *steps*: bytes to
send, ``PAUSE(seconds)``, ``HANG`` (stay silent until the server is closed),
``CLOSE`` (orderly close) or ``RESET`` (close with an RST). Used as a context
manager, it always shuts down its thread and sockets.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class Pause:
    """Wait this many seconds before the next step."""

    seconds: float


HANG = "hang"
CLOSE = "close"
RESET = "reset"
Step = bytes | Pause | str


def read_request_head(conn: socket.socket, data: bytes = b"") -> bytes | None:
    """Receive onto *data* until it holds a blank line (the end of a request head).

    Returns everything received so far, head and whatever followed it; None
    when the peer closes or the socket fails (its timeout included) first.
    """
    while b"\r\n\r\n" not in data:
        try:
            chunk = conn.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class LoopbackListener:
    """A listening socket on a free loopback port with one thread per accepted connection.

    Subclasses write ``serve(conn, number)`` (``number`` counts connections
    from 1); ``.port``, ``.url`` and ``.connections`` say where and how many.
    Use it as a context manager: leaving it stops accepting and joins the threads.
    """

    def __init__(self, host: str = "127.0.0.1", backlog: int = 16) -> None:
        assert host in ("127.0.0.1", "::1"), "loopback only"
        self.host = host
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(backlog)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> Self:
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._accepter.join(5)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                number = self.connections
            thread = threading.Thread(target=self.serve, args=(conn, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def serve(self, conn: socket.socket, number: int) -> None:
        raise NotImplementedError


class HostileServer(LoopbackListener):
    """Serve *steps* to every connection; ``.port`` and ``.url`` say where."""

    def __init__(self, steps: Sequence[Step], *, read_request: bool = True, host: str = "127.0.0.1") -> None:
        super().__init__(host, backlog=8)
        self.steps = list(steps)
        self.read_request = read_request
        self.requests: list[bytes] = []

    def serve(self, conn: socket.socket, number: int) -> None:
        self._serve(conn)

    def _read_head(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = read_request_head(conn)
        if data is not None:
            self.requests.append(data)

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.read_request:
                self._read_head(conn)
            for step in self.steps:
                if isinstance(step, Pause):
                    if self._stop.wait(step.seconds):
                        return
                elif step == HANG:
                    self._stop.wait(30)
                    return
                elif step == RESET:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
                    return
                elif step == CLOSE:
                    conn.shutdown(socket.SHUT_WR)
                    return
                else:
                    assert isinstance(step, bytes)
                    conn.sendall(step)
        except OSError:
            pass
        finally:
            conn.close()
