"""Helpers for the connect/listen tests: run netbench, tiny loopback servers.

Every wait here is bounded. Servers bind 127.0.0.1 (or ::1) on port 0.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NETBENCH = [sys.executable, "-m", "netbench"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def netbench(
    *args: str,
    input: bytes | None = None,
    stdin: int | object | None = subprocess.DEVNULL,
    stdout: int | object = subprocess.PIPE,
    timeout: float = 30,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``netbench ARGS`` to completion (bounded) and return the result."""
    return subprocess.run(
        [*NETBENCH, *args],
        input=input,
        stdin=None if input is not None else stdin,  # type: ignore[arg-type]
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        timeout=timeout,
        env=ENV,
    )


def start_netbench(*args: str, **popen: object) -> subprocess.Popen[bytes]:
    """Start ``netbench ARGS`` in the background."""
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([*NETBENCH, *args], env=ENV, **popen)  # type: ignore[call-overload]


PAYLOAD_SIZE = 10 * 1024 * 1024


@pytest.fixture(scope="module", name="payload")
def payload_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ``payload`` fixture: a file of PAYLOAD_SIZE random bytes, made once per module.

    A test module that wants it imports ``payload_fixture`` (pytest finds it by name).
    """
    path = tmp_path_factory.mktemp("payload") / "random.bin"
    path.write_bytes(os.urandom(PAYLOAD_SIZE))
    yield path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when a TCP socket listens on host:port (read from /proc, no connection made)."""
    if ":" in host:
        table, address = "/proc/net/tcp6", "0" * 24 + "01000000"
    else:
        table, address = "/proc/net/tcp", "".join(f"{int(p):02X}" for p in reversed(host.split(".")))
    needles = {f"{address}:{port:04X}", f"{'0' * len(address)}:{port:04X}"}
    with open(table) as handle:
        for line in list(handle)[1:]:
            fields = line.split()
            if fields[1] in needles and fields[3] == "0A":
                return True
    return False


def wait_listening(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not is_listening(port, host):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port}")
        time.sleep(0.02)


def wait_udp_bound(port: int, timeout: float = 10.0) -> None:
    needle = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while True:
        with open("/proc/net/udp") as handle:
            if any(line.split()[1] == needle for line in list(handle)[1:]):
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing bound on udp 127.0.0.1:{port}")
        time.sleep(0.02)


@contextmanager
def tcp_server(
    handler: Callable[[socket.socket], None],
    host: str = "127.0.0.1",
    backlog: int = 5,
    wrap: Callable[[socket.socket], socket.socket] | None = None,
) -> Iterator[int]:
    """Accept one connection in a thread and run *handler* on it; yields the port.

    *wrap* turns the accepted socket into the one *handler* gets (a TLS server's
    ``context.wrap_socket``); it is closed after the handler.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(backlog)
    listener.settimeout(15)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError as error:
            errors.append(error)
            return
        with conn:
            conn.settimeout(15)
            try:
                with conn if wrap is None else wrap(conn) as talker:
                    handler(talker)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(15)
        listener.close()


def readline_within(process: subprocess.Popen[bytes], stream: object, timeout: float = 10.0) -> bytes:
    """One line from *stream* (a pipe of *process*), killing the process if none comes in time."""
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)  # type: ignore[attr-defined]
    reader.start()
    reader.join(timeout)
    if not result:
        process.kill()
        raise TimeoutError("no line from the process in time")
    return result[0]


def read_listening_port(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """Read netbench listen's 'listening on HOST:PORT' line from its stderr; return PORT."""
    line = readline_within(process, process.stderr, timeout).decode()
    assert line.startswith("listening on "), line
    return int(line.split()[2].rsplit(":", 1)[1])
