"""serve against replay: a recipe replayed against itself, served, passes; mismatches are reported."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from netbench import replay, serve
from netbench.lab import running
from netbench.net.session import open_session
from netbench.recipe.load import load_recipe
from netbench.recipe.record import record, save
from netbench.recipe.serve import MockServer

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


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
        "netbench: 1\nsteps:\n  - send: \"GET /a HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\"\n"
        "    reply: \"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok\"\n"
    )
    client = tmp_path / "client.recipe.yaml"
    client.write_text(
        "netbench: 1\nsteps:\n  - http: {url: /b}\n    expect: {status: 200}\n    timeout: 2\n"
    )
    server = MockServer(load_recipe(served), keep=True)
    with server.in_thread() as address:
        result = replay(client, target=address)
    assert not result.ok
    assert server.mismatches == [
        'step 1 (line 3): expected request line "GET /a HTTP/1.1", received "GET /b HTTP/1.1"'
    ]


def test_serve_command_prints_its_address_and_exits_after_one_run(tmp_path: Path) -> None:
    path = RECIPES / "echo.recipe.yaml"
    process = subprocess.Popen(
        [sys.executable, "-m", "netbench", "serve", str(path), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving 'echo' (4 steps) on 127.0.0.1:")
        address = line.split()[-1]
        assert replay(path, target=address).ok
        assert process.wait(10) == 0
        half = RECIPES / "half-close.recipe.yaml"
        assert not replay(half, target=address, timeout=1).ok  # the server is gone
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_command_exits_1_after_a_mismatch() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "netbench", "serve", str(RECIPES / "echo.recipe.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        address = process.stdout.readline().split()[-1]
        assert not replay(RECIPES / "half-close.recipe.yaml", target=address, timeout=2).ok
        assert process.wait(10) == 1
        errors = process.stderr.read()
        assert "mismatch: step 1 (line 7): the client closed after" in errors
        assert "Traceback" not in errors
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_chunked_request_bodies_are_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "chunked.recipe.yaml"
    path.write_text(
        "netbench: 1\nsteps:\n"
        '  - send: "POST /up HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n'
        '5\\r\\nhello\\r\\n0\\r\\n\\r\\n"\n'
        "    expect: {status: 201}\n"
        "  - http: {url: /next}\n    expect: {status: 200, body: fine}\n"
    )
    with serve(path) as address:
        result = replay(path, target=address)
    assert result.ok, result.report()


@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        (
            b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 2 * 1024 * 1024,
            "the request did not end in the first 1024 KiB",
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
        "    reply: \"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok\"\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "netbench", "serve", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        host, port = process.stdout.readline().split()[-1].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as client:
            try:
                client.sendall(request_bytes)
            except OSError:
                pass  # the server may close before it has read everything
        assert process.wait(10) == 1
        errors = process.stderr.read()
        assert f"mismatch: step 1 (line 3): gave up: {reason}" in errors
        assert "Traceback" not in errors
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
