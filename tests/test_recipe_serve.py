"""serve against replay: a recipe replayed against itself, served, passes; mismatches are reported."""

from __future__ import annotations

import asyncio
import gzip
import json
import select
import signal
import socket
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from netbench import replay, serve
from netbench.lab import running
from netbench.net.session import open_session
from netbench.recipe.load import load_recipe
from netbench.recipe.record import record, save
from netbench.recipe.serve import MockServer
from tests.support.sockets import read_until_eof

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


@contextmanager
def serve_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``netbench serve ARGS`` as a user runs it; yields the process and its first line (the address)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "netbench", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        yield process, process.stdout.readline()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.mark.parametrize("name", ["echo", "half-close", "udp-echo", "chargen", "telnet-get"])
def test_example_recipe_replays_green_against_itself_served(name: str) -> None:
    path = RECIPES / f"{name}.recipe.yaml"
    with serve(path) as address:
        result = replay(path, target=address)
    assert result.ok, result.report()


def test_recorded_recipe_replays_green_against_itself_served(tmp_path: Path) -> None:
    async def talk(target: object) -> object:
        session = await open_session(target, timeout=5)  # type: ignore[arg-type]
        for path in (b"/index.html", b"/json"):
            request = b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n"
            await session.send(request)
            await asyncio.sleep(0.1)
            await session.receive_some(5)
        await session.close()
        return session.transcript

    with running("http") as lab:
        transcript = asyncio.run(talk(lab["http"].target))
    path = tmp_path / "recorded.recipe.yaml"
    save(record(transcript, lab["http"].target, name="recorded"), path)  # type: ignore[arg-type]
    # the lab is gone: only the mock can answer now
    with serve(path) as address:
        result = replay(path, target=address)
    assert result.ok, result.report()


def test_mismatch_is_reported_by_the_server_and_fails_the_client(tmp_path: Path) -> None:
    served = tmp_path / "served.recipe.yaml"
    served.write_text(
        'netbench: 1\nsteps:\n  - send: "GET /a HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n'
        '    reply: "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"\n'
    )
    client = tmp_path / "client.recipe.yaml"
    client.write_text("netbench: 1\nsteps:\n  - http: {url: /b}\n    expect: {status: 200}\n    timeout: 2\n")
    server = MockServer(load_recipe(served), keep=True)
    with server.in_thread() as address:
        result = replay(client, target=address)
    assert not result.ok
    assert server.mismatches == [
        'step 1 (line 3): expected request line "GET /a HTTP/1.1", received "GET /b HTTP/1.1"'
    ]


def test_serve_command_prints_its_address_and_exits_after_one_run(tmp_path: Path) -> None:
    path = RECIPES / "echo.recipe.yaml"
    with serve_process(str(path), "--listen", "127.0.0.1:0") as (process, first_line):
        line = first_line
        assert line.startswith("serving 'echo' (4 steps) on 127.0.0.1:")
        address = line.split()[-1]
        assert replay(path, target=address).ok
        assert process.wait(10) == 0
        half = RECIPES / "half-close.recipe.yaml"
        assert not replay(half, target=address, timeout=1).ok  # the server is gone


def test_serve_command_exits_1_after_a_mismatch() -> None:
    with serve_process(str(RECIPES / "echo.recipe.yaml")) as (process, first_line):
        address = first_line.split()[-1]
        assert not replay(RECIPES / "half-close.recipe.yaml", target=address, timeout=2).ok
        assert process.wait(10) == 1
        errors = process.stderr.read()
        assert "mismatch: step 1 (line 7): the client closed after" in errors
        assert "Traceback" not in errors, errors


def served_exchange(recipe: Path, requests: list[bytes], replies: int) -> bytes:
    """Send *requests* on one connection to the recipe served; read until *replies* replies came."""
    server = MockServer(load_recipe(recipe), keep=True)
    with server.in_thread() as address:
        host, port = address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as client:
            answers = b""
            for request in requests:
                client.sendall(request)
            while answers.count(b"HTTP/1.1 ") < replies:
                data = client.recv(65536)  # times out (5 s, not serve's 30 s) if a request is not seen whole
                assert data, f"closed after {answers!r}; mismatches: {server.mismatches}"
                answers += data
    assert server.mismatches == []
    return answers


TWO_STEPS = (
    "netbench: 1\nsteps:\n"
    "  - send: {first}\n"
    '    reply: "HTTP/1.1 201 Created\\r\\nContent-Length: 5\\r\\n\\r\\nfirst"\n'
    '  - send: "GET /next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n'
    '    reply: "HTTP/1.1 200 OK\\r\\nContent-Length: 4\\r\\n\\r\\nfine"\n'
)
CHUNKED = (
    b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"
)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /up HTTP/1.1\nHost: x\nContent-Length: 2\n\nhi",  # LF-only line ends, as typed
        CHUNKED,  # a chunk extension and a trailer
        b"POST /up HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  # no Host: loose matching takes it
    ],
    ids=["lf-only", "chunked-extension-trailer", "no-host"],
)
def test_serve_frames_requests_with_h11_and_answers_at_once(tmp_path: Path, request_bytes: bytes) -> None:
    path = tmp_path / "two.recipe.yaml"
    path.write_text(TWO_STEPS.format(first=json.dumps(request_bytes.decode())))
    answers = served_exchange(path, [request_bytes, b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"], 2)
    assert answers.endswith(b"first" + b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine")


def test_a_recorded_lf_only_request_replays_green_against_itself_served(tmp_path: Path) -> None:
    path = tmp_path / "lf.recipe.yaml"
    path.write_text(
        "netbench: 1\nsteps:\n"
        '  - send: "GET /a HTTP/1.1\\nHost: x\\n\\n"\n'
        "    expect: {status: 200, body: {contains: ok}}\n"
        '    reply: "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"\n'
        "    timeout: 5\n"
    )
    with serve(path) as address:
        result = replay(path, target=address)
    assert result.ok, result.report()


def test_pipelined_requests_are_each_matched_to_their_step(tmp_path: Path) -> None:
    path = tmp_path / "two.recipe.yaml"
    path.write_text(TWO_STEPS.format(first=json.dumps(CHUNKED.decode())))
    answers = served_exchange(path, [CHUNKED + b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"], 2)
    assert answers.count(b"HTTP/1.1 ") == 2


@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        (
            b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 2 * 1024 * 1024,
            "the request head did not end in the first 64 KiB",
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nx",
            "the request says Content-Length 99999999999, over 16 MiB",
        ),
    ],
    ids=["endless-head", "huge-content-length"],
)
def test_serve_command_gives_up_on_an_oversized_request(
    tmp_path: Path, request_bytes: bytes, reason: str
) -> None:
    path = tmp_path / "head.recipe.yaml"
    path.write_text(
        "netbench: 1\nsteps:\n  - http: {url: /}\n"
        '    reply: "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"\n'
    )
    with serve_process(str(path)) as (process, first_line):
        host, port = first_line.split()[-1].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as client:
            try:
                client.sendall(request_bytes)
            except OSError:
                pass  # the server may close before it has read everything
        assert process.wait(10) == 1
        errors = process.stderr.read()
        assert f"mismatch: step 1 (line 3): gave up: {reason}" in errors
        assert "Traceback" not in errors, errors


def gzip_request(body: bytes, encoding: str = "gzip") -> bytes:
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    head = f"POST /up HTTP/1.1\r\nHost: x\r\nContent-Encoding: {encoding}\r\n"
    head += f"Content-Length: {len(packed)}\r\n\r\n"
    return head.encode() + packed


UPLOAD = (
    "netbench: 1\nsteps:\n  - http: {method: POST, url: /up}\n"
    '    reply: "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"\n'
)


@pytest.mark.parametrize(
    ("request_bytes", "mismatch"),
    [
        (gzip_request(b"hello " * 1000), None),
        (gzip_request(b"hello " * 1000, "deflate"), None),
        (
            gzip_request(bytes(17 * 1024 * 1024)),  # 17 KiB on the wire, 17 MiB decoded
            "step 1 (line 3): gave up: the gzip request body decodes to more than 16 MiB",
        ),
        (
            gzip_request(bytes(17 * 1024 * 1024), "deflate"),
            "step 1 (line 3): gave up: the deflate request body decodes to more than 16 MiB",
        ),
        (
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nnot-z",
            "step 1 (line 3): the request body does not decode: gzip body does not decode:",
        ),
    ],
    ids=["gzip", "deflate", "gzip-bomb", "deflate-bomb", "not-gzip"],
)
def test_a_compressed_request_body_is_capped_after_decoding(
    tmp_path: Path, request_bytes: bytes, mismatch: str | None
) -> None:
    path = tmp_path / "upload.recipe.yaml"
    path.write_text(UPLOAD)
    server = MockServer(load_recipe(path), keep=True)
    with server.in_thread() as address:
        host, port = address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(request_bytes)
            client.shutdown(socket.SHUT_WR)
            answer = read_until_eof(client)
    if mismatch is None:
        assert answer.endswith(b"\r\n\r\nok") and server.mismatches == []
    else:
        assert answer == b""
        assert len(server.mismatches) == 1 and server.mismatches[0].startswith(mismatch)


@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
def test_serve_waits_on_after_a_connection_that_sends_nothing(reset: bool) -> None:
    with serve_process(str(RECIPES / "echo.recipe.yaml")) as (process, first_line):
        address = first_line.split()[-1]
        host, port = address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as probe:  # a port probe
            if reset:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        result = replay(RECIPES / "echo.recipe.yaml", target=address, timeout=5)
        assert result.ok, result.report()
        assert process.wait(10) == 0
        errors = process.stderr.read()
        assert "closed without sending anything (a port probe?); still waiting" in errors
        assert "mismatch" not in errors and "Traceback" not in errors


@pytest.mark.parametrize("keep", [True, False], ids=["keep", "once"])
def test_sigterm_stops_serve_cleanly_with_the_summary_so_far(keep: bool) -> None:
    with serve_process(str(RECIPES / "echo.recipe.yaml"), *(["-k"] if keep else [])) as (process, first_line):
        address = first_line.split()[-1]
        host, port = address.rsplit(":", 1)
        if keep:
            assert replay(RECIPES / "echo.recipe.yaml", target=address, timeout=5).ok
        served = 2 if keep else 1
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(b"hel")  # a client in the middle of its first step
            seen = ""
            while not seen.startswith(f"connection {served} from"):
                seen = process.stderr.readline()  # the server has the client
                assert seen, "serve ended early"
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 143
        errors = process.stderr.read()
        assert f"stopped: served {served} connection{'s' * (served > 1)}, 0 mismatches\n" in errors
        assert errors.endswith("terminated\n")
        assert "Traceback" not in errors, errors


def test_ctrl_c_stops_serve_k_with_the_summary_and_status_0() -> None:
    with serve_process(str(RECIPES / "echo.recipe.yaml"), "-k") as (process, first_line):
        address = first_line.split()[-1]
        assert replay(RECIPES / "echo.recipe.yaml", target=address, timeout=5).ok
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        errors = process.stderr.read()
        assert errors.endswith("stopped: served 1 connection, 0 mismatches\n"), errors


def test_after_a_reply_that_closes_the_next_connection_goes_on_with_the_next_step(tmp_path: Path) -> None:
    path = tmp_path / "two-connections.recipe.yaml"
    path.write_text(
        "netbench: 1\nsteps:\n"
        '  - send: "A\\r\\n"\n    reply: "a\\r\\n"\n    expect: {line: a, closed: true}\n'
        '  - send: "B\\r\\n"\n    reply: "b\\r\\n"\n'
    )
    server = MockServer(load_recipe(path), keep=True)
    with server.in_thread() as address:
        host, port = address.rsplit(":", 1)
        answers = []
        for line in (b"A\r\n", b"B\r\n"):
            with socket.create_connection((host, int(port)), timeout=5) as client:
                client.sendall(line)
                client.shutdown(socket.SHUT_WR)
                answers.append(read_until_eof(client))
    assert answers == [b"a\r\n", b"b\r\n"]
    assert server.mismatches == []


def test_a_client_that_floods_without_reading_fills_its_own_buffers_not_the_servers(tmp_path: Path) -> None:
    """Flow control: while a step waits (here: the client reading its reply), serve stops reading."""
    path = tmp_path / "big-reply.recipe.yaml"
    path.write_text(
        "netbench: 1\nsteps:\n  - http: {url: /a}\n"
        f'    reply: "HTTP/1.1 200 OK\\r\\nContent-Length: {1 << 22}\\r\\n\\r\\n{"x" * (1 << 22)}"\n'
        "  - http: {url: /b}\n"
    )
    ceiling = 64 * 1024 * 1024
    server = MockServer(load_recipe(path), keep=True)
    with server.in_thread() as address, socket.socket() as client:
        host, port = address.rsplit(":", 1)
        # A send buffer big enough to push fast (a tiny one crawls at the pace of ACKs), fixed.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 256 * 1024)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        client.settimeout(5)
        client.connect((host, int(port)))
        client.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        client.setblocking(False)
        flood = b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n" * 4000
        pushed = 0
        while pushed < ceiling:
            _, writable, _ = select.select([], [client], [], 2.0)
            if not writable:
                break  # nobody reads on the other side
            try:
                pushed += client.send(flood)
            except BlockingIOError:
                continue
    assert pushed < ceiling, "serve kept reading while its reply was not read"


@pytest.mark.parametrize("recipe", ["echo", "udp-echo"])
def test_a_busy_port_is_one_line_and_status_2(recipe: str) -> None:
    kind = socket.SOCK_DGRAM if recipe.startswith("udp") else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "netbench",
                "serve",
                str(RECIPES / f"{recipe}.recipe.yaml"),
                "-l",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    transport = "udp" if recipe.startswith("udp") else "tcp"
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr
        == f"netbench: serve: cannot listen on 127.0.0.1:{port}/{transport}: address already in use\n"
    )
