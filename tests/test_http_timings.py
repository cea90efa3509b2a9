"""The timing line of `netbench http`: every figure counts from one origin, so total >= connect.

A TLS server that waits before its handshake makes the connect long and the
answer quick: before, "total" counted from the request only and came out
smaller than "connect". (No speed is asserted: only the order of the three.)
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from tests.test_http_hostile import run_http

LINE = re.compile(r"connect ([\d.]+) ms, first byte ([\d.]+) ms, total ([\d.]+) ms")


@pytest.fixture
def slow_handshake() -> Iterator[int]:
    trustme = pytest.importorskip("trustme")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                continue
            time.sleep(0.2)  # the handshake starts late: a long connect, then a quick answer
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.settimeout(5)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def test_total_is_never_smaller_than_connect(slow_handshake: int):
    status, out, err = run_http("-k", f"https://127.0.0.1:{slow_handshake}/", tty=True)
    assert status == 0, err
    match = LINE.search(out.decode())
    assert match, out
    connect, first_byte, total = (float(value) for value in match.groups())
    assert connect <= first_byte <= total
