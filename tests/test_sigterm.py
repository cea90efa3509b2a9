"""SIGTERM is handled as Ctrl-C is: a clean stop, the summary so far, exit 143.

Each test starts a real netbench process, waits until it is in the middle of
its work (a pipe with data already through, a listener waiting, a recipe
waiting on a silent server), sends SIGTERM and checks the status (143, not
the bare -15 of a killed process), the one-line message and what was
written out before the signal.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipe_helpers import (
    read_listening_port,
    readline_within,
    start_netbench,
    tcp_server,
    wait_listening,
)


def _finish(process: subprocess.Popen[bytes], timeout: float = 15) -> tuple[int, bytes, bytes]:
    """Wait for *process* to end, then read the rest of its output.

    Its stdin stays open until it has ended: closing it earlier would race
    with the clean stop under test.
    """
    try:
        process.wait(timeout)
        out = process.stdout.read() if process.stdout else b""
        err = process.stderr.read() if process.stderr else b""
    finally:
        process.kill()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return process.returncode, out, err


@pytest.fixture
def talker() -> Iterator[tuple[int, threading.Event]]:
    """A TCP server on 127.0.0.1 that says hello, then stays silent until the test ends."""
    done = threading.Event()

    def handler(conn: socket.socket) -> None:
        conn.sendall(b"hello\n")
        done.wait(15)

    with tcp_server(handler) as port:
        yield port, done
        done.set()


def test_connect_sigterm_mid_pipe_exits_143_after_writing_what_arrived(
    talker: tuple[int, threading.Event],
) -> None:
    port, _done = talker
    process = start_netbench("connect", "127.0.0.1", str(port), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert readline_within(process, process.stdout) == b"hello\n"
    process.send_signal(signal.SIGTERM)
    status, out, err = _finish(process)
    assert status == 143, err
    assert out == b""  # the rest after the line already read: nothing, and no traceback
    assert err.decode().splitlines() == ["netbench: terminated"]


def test_connect_udp_sigterm_exits_143() -> None:
    """The asyncio path (UDP) stops the same way."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(15)
        process = start_netbench(
            "connect",
            "-u",
            "127.0.0.1",
            str(peer.getsockname()[1]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdin is not None
        process.stdin.write(b"ping\n")
        process.stdin.flush()
        data, address = peer.recvfrom(100)
        assert data == b"ping\n"
        peer.sendto(b"pong\n", address)
        assert readline_within(process, process.stdout) == b"pong\n"
        process.send_signal(signal.SIGTERM)
        status, _out, err = _finish(process)
    assert status == 143, err
    assert err.decode().splitlines() == ["netbench: terminated"]


def test_listen_sigterm_while_waiting_exits_143() -> None:
    listener = start_netbench("listen", "0", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    port = read_listening_port(listener)
    wait_listening(port)
    listener.send_signal(signal.SIGTERM)
    status, _out, err = _finish(listener)
    assert status == 143
    assert err.decode().splitlines() == ["netbench: terminated"]


def test_listen_sigterm_mid_connection_keeps_what_arrived(tmp_path: Path) -> None:
    path = tmp_path / "nb.sock"
    listener = start_netbench("listen", f"unix:{path}", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert readline_within(listener, listener.stderr).startswith(b"listening on unix:")
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(15)
        client.connect(str(path))
        client.sendall(b"first line\n")
        assert readline_within(listener, listener.stdout) == b"first line\n"
        listener.send_signal(signal.SIGTERM)
        status, _out, err = _finish(listener)
    assert status == 143, err
    assert err.decode().splitlines() == ["netbench: terminated"]
    assert not path.exists()  # the clean stop removed the socket file


QUICK = """\
netbench: 1
name: {name}
lab: echo
steps:
  - send: "ping\\n"
  - expect: {{line: ping}}
    timeout: 10
"""

WAITS = """\
netbench: 1
name: b-waits
target: tcp://127.0.0.1:{port}
steps:
  - send: "ping\\n"
  - expect: {{line: pong}}
    timeout: 60
"""


@pytest.fixture
def silent() -> Iterator[tuple[int, threading.Event]]:
    """A TCP server on 127.0.0.1 that reads a line and never answers; the event is set once it has."""
    got_line, done = threading.Event(), threading.Event()

    def handler(conn: socket.socket) -> None:
        data = b""
        while not data.endswith(b"\n"):
            piece = conn.recv(100)
            if not piece:
                return
            data += piece
        got_line.set()
        done.wait(30)

    with tcp_server(handler) as port:
        yield port, got_line
        done.set()


@pytest.fixture
def recipes(tmp_path: Path, silent: tuple[int, threading.Event]) -> list[str]:
    """Three recipes: one that passes, one that waits 60 s on a silent server, one more."""
    port, _got_line = silent
    texts = {
        "a-quick": QUICK.format(name="a-quick"),
        "b-waits": WAITS.format(port=port),
        "c-after": QUICK.format(name="c-after"),
    }
    paths = []
    for name, text in texts.items():
        path = tmp_path / f"{name}.recipe.yaml"
        path.write_text(text)
        paths.append(str(path))
    return paths


def _replay_until_waiting(
    recipes: list[str], silent: tuple[int, threading.Event], number: int, *options: str
) -> tuple[int, bytes, bytes]:
    """Replay *recipes*, send signal *number* once the second one waits on the silent server, finish."""
    process = start_netbench("replay", *options, *recipes, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert silent[1].wait(20), "the second recipe never sent its line"
    process.send_signal(number)
    return _finish(process)


def test_replay_sigterm_prints_the_summary_so_far_and_exits_143(
    recipes: list[str], silent: tuple[int, threading.Event]
) -> None:
    status, out, err = _replay_until_waiting(recipes, silent, signal.SIGTERM)
    assert status == 143, err
    lines = out.decode().splitlines()
    assert "a-quick" in lines[0]  # the first recipe's report came out as it finished
    assert lines[-1].startswith("1 passed, 2 not finished in "), out
    assert lines[-1].endswith(" s (terminated)")
    assert "c-after" not in out.decode()
    assert err.decode().splitlines() == ["netbench: terminated"]


def test_replay_sigterm_with_json_still_prints_one_document(
    recipes: list[str], silent: tuple[int, threading.Event]
) -> None:
    status, out, err = _replay_until_waiting(recipes, silent, signal.SIGTERM, "--json")
    assert status == 143, err
    document = json.loads(out)
    assert document["status"] == 143
    assert document["interrupted"] is True
    assert [r["name"] for r in document["recipes"]] == ["a-quick"]


def test_replay_ctrl_c_also_sums_up_what_finished(
    recipes: list[str], silent: tuple[int, threading.Event]
) -> None:
    status, out, err = _replay_until_waiting(recipes, silent, signal.SIGINT)
    assert status == 130, err
    assert out.decode().splitlines()[-1].endswith(" s (interrupted)")
    assert err.decode().splitlines() == ["netbench: interrupted"]
