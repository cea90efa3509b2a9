"""Hostile peers against replay: endless data, terminal escapes, garbage. Clear failures, bounded memory."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench import replay
from netbench.lab import Lab, running


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("chargen", "echo") as lab:
        yield lab


def recipe(tmp_path: Path, steps: str) -> Path:
    path = tmp_path / "hostile.recipe.yaml"
    path.write_text("netbench: 1\nsteps:\n" + steps)
    return path


class OneShotServer:
    """A loopback TCP server: reads the request of one connection, then runs *payload* on it."""

    def __init__(self, payload: object) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.payload = payload
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(10)
            try:
                connection.recv(65536)
                self.payload(connection)  # type: ignore[operator]
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
        self.thread.join(10)


def test_endless_data_against_contains_gives_up_at_the_cap(tmp_path: Path, lab: Lab) -> None:
    path = recipe(tmp_path, "  - expect: {contains: never there}\n    timeout: 60\n")
    result = replay(path, target=lab["chargen"].address)
    assert result.status == 1
    assert "gave up: the expected text did not arrive in the first 16 MiB" in result.message
    assert result.steps[-1].received is not None and len(result.steps[-1].received) <= 64 * 1024


def test_endless_data_against_closed_times_out_with_bounded_partial(tmp_path: Path, lab: Lab) -> None:
    path = recipe(tmp_path, "  - expect: {closed: true}\n    timeout: 0.5\n")
    result = replay(path, target=lab["chargen"].address)
    assert result.status == 1 and "timed out after 0.5 s" in result.message
    received = result.steps[-1].received
    assert received is not None and 0 < len(received) <= 64 * 1024 + 256 * 1024


def test_endless_http_body_is_refused_past_the_cap(tmp_path: Path) -> None:
    def flood(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
        while True:
            connection.sendall(chunk)

    server = OneShotServer(flood)
    try:
        path = recipe(tmp_path, "  - http: {url: /}\n    expect: {status: 200}\n    timeout: 60\n")
        result = replay(path, target=f"127.0.0.1:{server.port}")
    finally:
        server.close()
    assert result.status == 1 and "the response is larger than 16 MiB" in result.message


@pytest.mark.parametrize(
    ("payload", "shown"),
    [
        (b"\x1b[2J\x00\x01\x02\x03\x04\x05\x1b]0;\x07\r\n", "1b 5b 32 4a"),  # many controls: a hexdump
        (b"\x1b[2J\x1b]0;pwned\x07evil\r\n", "\\x1b[2J\\x1b]0;pwned\\x07evil"),  # ESC aside, text: escaped
        (b"a long enough line of text with \x1b[31mred\x1b[0m inside it\r\n", "\\x1b[31mred"),  # escaped
    ],
)
def test_terminal_escapes_from_the_peer_never_reach_the_report(
    tmp_path: Path, payload: bytes, shown: str
) -> None:
    server = OneShotServer(lambda c: c.sendall(payload))
    try:
        path = recipe(tmp_path, "  - send: \"hi\\n\"\n    expect: {line: good}\n")
        result = replay(path, target=f"127.0.0.1:{server.port}")
    finally:
        server.close()
    report = result.report()
    assert result.status == 1 and shown in report
    assert "\x1b" not in report and "\x07" not in report


def test_garbage_instead_of_http_is_a_clear_failure(tmp_path: Path) -> None:
    server = OneShotServer(lambda c: c.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01garbage"))
    try:
        path = recipe(tmp_path, "  - http: {url: /}\n    expect: {status: 200}\n    timeout: 2\n")
        result = replay(path, target=f"127.0.0.1:{server.port}")
    finally:
        server.close()
    assert result.status == 1
    assert result.message.startswith("not a valid HTTP response")
