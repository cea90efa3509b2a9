"""``netbench lab`` as a user runs it: a subprocess, its table, its JSON, its signals."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.cli import run_main
from tests.support.peers import HELLO, free_port
from tests.support.sockets import read_until_eof

TIMEOUT = 10.0


@contextmanager
def lab_process(*args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "netbench", "lab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": ""},  # the command must flush by itself
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=TIMEOUT)


def read_line(process: subprocess.Popen[str]) -> str:
    """One line of stdout ("" at EOF), failing (not hanging) if it does not come."""
    stdout = process.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True)
    reader.start()
    try:
        return lines.get(timeout=TIMEOUT)
    except queue.Empty:
        process.kill()
        pytest.fail(f"no output within {TIMEOUT}s; stderr: {process.communicate()[1]!r}")


def stop(process: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=TIMEOUT)
    return process.returncode, stderr


def run_in_process(*argv: str) -> tuple[int, str, str]:
    return run_main(["lab", *argv])


def test_json_then_sigint_stops_cleanly() -> None:
    with lab_process("--json", "echo", "http") as process:
        document = json.loads(read_line(process))
        services = {entry["service"]: entry for entry in document["services"]}
        assert set(services) == {"echo", "http"}
        assert services["echo"]["transports"] == ["tcp", "udp"]
        assert services["http"]["transports"] == ["tcp"]
        assert services["echo"]["host"] == "127.0.0.1"
        with socket.create_connection(("127.0.0.1", services["echo"]["port"]), timeout=TIMEOUT) as sock:
            sock.sendall(b"ping\n")
            assert sock.recv(100) == b"ping\n"
        with socket.create_connection(("127.0.0.1", services["http"]["port"]), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
            assert read_until_eof(sock).endswith(HELLO)
        status, stderr = stop(process, signal.SIGINT)
    assert status == 0
    assert "Traceback" not in stderr and stderr == ""


def test_verbose_logs_connections_datagrams_and_requests_on_stderr() -> None:
    with lab_process("-v", "--json", "echo", "http") as process:
        ports = {e["service"]: e["port"] for e in json.loads(read_line(process))["services"]}
        with socket.create_connection(("127.0.0.1", ports["echo"]), timeout=TIMEOUT) as sock:
            sock.sendall(b"x")
            assert sock.recv(10) == b"x"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(TIMEOUT)
            udp.sendto(b"12345", ("127.0.0.1", ports["echo"]))
            assert udp.recv(100) == b"12345"
        with socket.create_connection(("127.0.0.1", ports["http"]), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET /nope?\x1b HTTP/1.0\r\n\r\n")  # ESC: h11 rejects it (400)
            while sock.recv(65536):
                pass
        with socket.create_connection(("127.0.0.1", ports["http"]), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET /nope HTTP/1.0\r\n\r\n")
            while sock.recv(65536):
                pass
        status, stderr = stop(process, signal.SIGINT)
    assert status == 0
    assert re.search(r"^\d\d:\d\d:\d\d echo: 127\.0\.0\.1:\d+ connected$", stderr, re.M)
    assert re.search(r"echo: 5 bytes from 127\.0\.0\.1:\d+ \(udp\)$", stderr, re.M)
    assert re.search(r'http: 127\.0\.0\.1:\d+ "GET /nope HTTP/1\.0" 404$', stderr, re.M)
    assert "(malformed request) 400" in stderr
    assert "\x1b" not in stderr and "Traceback" not in stderr


def test_table_then_sigterm_stops_cleanly() -> None:
    port = free_port()
    with lab_process(f"daytime:{port}", "chargen") as process:
        lines = []
        while not lines or "Ctrl-C" not in lines[-1]:
            line = read_line(process)
            assert line, "stdout ended before the table did"
            lines.append(line.rstrip("\n"))
        header = lines[0].split()
        assert header[:3] == ["SERVICE", "TRANSPORTS", "ADDRESS"]
        daytime_row = next(line for line in lines if line.startswith("daytime"))
        assert daytime_row.split()[:3] == ["daytime", "tcp+udp", f"127.0.0.1:{port}"]
        assert any(line.startswith("chargen ") for line in lines)
        assert any(f"netbench connect 127.0.0.1 {port}" in line for line in lines)
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            assert sock.recv(100).endswith(b"\r\n")
        status, stderr = stop(process, signal.SIGTERM)
    assert (status, stderr) == (0, "")


def test_sigint_with_a_client_connected_still_exits_0() -> None:
    with lab_process("--json", "chargen") as process:
        port = json.loads(read_line(process))["services"][0]["port"]
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            assert sock.recv(100)
            status, stderr = stop(process, signal.SIGINT)
    assert (status, stderr) == (0, "")


def test_a_busy_port_is_one_line_and_status_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "netbench", "lab", f"http:{port}"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    assert result.returncode == 2
    assert result.stdout == ""
    expected = f"netbench: lab http: cannot listen on 127.0.0.1:{port}/tcp: address already in use\n"
    assert result.stderr == expected


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--host", "0.0.0.0"], "not a loopback address"),
        (["--host", "192.0.2.7"], "not a loopback address"),
        (["--host", "example.com"], "not an IP address"),
        (["gopher"], "unknown lab service 'gopher'"),
        (["echo:99999"], "port must be a number"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(argv: list[str], fragment: str) -> None:
    status, out, err = run_in_process(*argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and fragment in err


def test_help_names_the_services() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "netbench", "lab", "--help"], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert result.returncode == 0
    for name in ("echo", "discard", "daytime", "chargen", "http", "loopback"):
        assert name in result.stdout


def test_a_port_scan_leaves_the_lab_quiet() -> None:
    """A scanner connects and closes (or resets) at once: normal traffic, no tracebacks."""
    with lab_process("--json") as process:
        ports = ",".join(str(e["port"]) for e in json.loads(read_line(process))["services"])
        for _ in range(3):
            subprocess.run(
                [sys.executable, "-m", "netbench", "scan", "127.0.0.1", "-p", ports],
                capture_output=True,
                timeout=60,
                check=False,
            )
        for entry in ports.split(","):  # and a reset right after connecting, to every service
            with socket.create_connection(("127.0.0.1", int(entry)), timeout=TIMEOUT) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        status, stderr = stop(process, signal.SIGINT)
    assert status == 0
    assert stderr == ""


def test_each_protocol_service_gets_a_hint_that_fits_it() -> None:
    """The DNS hint is not ``netbench connect`` (useless for a binary protocol), and each hint runs."""
    from netbench.commands.lab import render_table
    from netbench.lab import running

    with running("smtp", "redis", "memcached", "dns", "telnet", "echo") as lab:
        table = render_table(lab)
        dns, telnet = lab["dns"].port, lab["telnet"].port
        assert f"netbench repl udp://127.0.0.1:{dns}, then /dns A lab.test" in table
        assert f"dig @127.0.0.1 -p {dns} lab.test" in table
        assert f"netbench connect 127.0.0.1 {dns}" not in table
        assert f"netbench repl 127.0.0.1 {lab['smtp'].port}   (smtp: EHLO me, then /smtp" in table
        assert f"netbench repl 127.0.0.1 {lab['redis'].port}   (redis: PING" in table
        assert f"netbench repl 127.0.0.1 {lab['memcached'].port}   (memcached: version" in table
        assert f"netbench repl telnet://127.0.0.1:{telnet}   (telnet: log in as guest" in table
        assert f"netbench connect 127.0.0.1 {lab['echo'].port}   (echo; -u for UDP)" in table
        # the DNS hint, run as written: the answer comes back decoded
        status, out, err = run_main(["repl", f"udp://127.0.0.1:{dns}"], stdin="/dns A lab.test\n/wait 5\n")
        assert status == 0, err
        assert "status: NOERROR" in out and "127.0.0.1" in out
