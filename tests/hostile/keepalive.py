"""A keep-alive HTTP server on 127.0.0.1 whose every answer is written by the test.

``ScriptServer(answer)`` accepts connections in a background thread and reads
requests one after another on each (pipelined requests included: they wait in
the buffer). For each request it calls ``answer(seen)`` with a :class:`Seen`
and plays the steps it returns (bytes, ``Pause``, ``HANG``, ``CLOSE``,
``RESET``, as :mod:`tests.hostile.server`). Every request is kept in
``.requests``; ``.connections`` counts accepted connections and
``.answered`` the answers played to their end.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tests.hostile.server import CLOSE, HANG, RESET, LoopbackListener, Pause, Step


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    connection: int  # 1 for the first connection accepted
    number: int  # 1 for the first request on that connection
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names, last value wins
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def ok(body: bytes = b"hello", *extra: bytes) -> bytes:
    """A 200 response with Content-Length and *extra* header lines."""
    head = b"".join(line + b"\r\n" for line in extra)
    return b"HTTP/1.1 200 OK\r\n" + head + b"Content-Length: %d\r\n\r\n" % len(body) + body


class ScriptServer(LoopbackListener):
    """Serve ``answer(seen)`` to every request; ``.url`` says where."""

    def __init__(self, answer: Callable[[Seen], Sequence[Step]], *, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.answer = answer
        self.requests: list[Seen] = []
        self.answered = 0  # answers whose steps were all played

    def serve(self, conn: socket.socket, number: int) -> None:
        self._serve(conn, number)

    def _serve(self, conn: socket.socket, connection: int) -> None:
        conn.settimeout(5)
        buffer = b""
        count = 0
        try:
            while not self._stop.is_set():
                parsed = _next_request(conn, buffer)
                if parsed is None:
                    return
                method, target, headers, body, buffer = parsed
                count += 1
                seen = Seen(connection, count, method, target, headers, body)
                with self._lock:
                    self.requests.append(seen)
                done = self._play(conn, self.answer(seen))
                with self._lock:
                    self.answered += 1
                if not done:
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def _play(self, conn: socket.socket, steps: Sequence[Step]) -> bool:
        """Play *steps*; False when the connection is done with."""
        for step in steps:
            if isinstance(step, Pause):
                if self._stop.wait(step.seconds):
                    return False
            elif step == HANG:
                self._stop.wait(30)
                return False
            elif step == RESET:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return False
            elif step == CLOSE:
                conn.shutdown(socket.SHUT_WR)
                return False
            else:
                assert isinstance(step, bytes)
                conn.sendall(step)
        return True


def _next_request(conn: socket.socket, buffer: bytes) -> tuple[str, str, dict[str, str], bytes, bytes] | None:
    """Read one request (head and Content-Length body) from *buffer* then *conn*; None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = [*lines[0].split(" ", 2), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length", "0") or 0)
    while len(buffer) < size:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    return method, target, headers, buffer[:size], buffer[size:]
