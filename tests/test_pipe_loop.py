"""The one-thread pipe (netbench/net/pipe_loop.py): `connect` over TLS, UDP and --telnet, blocking.

Real peers on loopback: TLS servers made with trustme certificates and the
ssl module, UDP sockets. What is checked is what a user sees: the bytes on
stdout, the exit status, the one line on stderr, and what the peer received
(a close_notify, no half-close). No timing is asserted; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from netbench.core import telnet
from tests.pipe_helpers import (
    ENV,
    NETBENCH,
    file_sha256,
    netbench,
    payload_fixture,  # noqa: F401 - the payload fixture
    readline_within,
    start_netbench,
    tcp_server,
)
from tests.support.peers import free_port

trustme = pytest.importorskip("trustme")


@pytest.fixture(scope="module")
def ca() -> object:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_context(ca: object) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)  # type: ignore[attr-defined]
    return context


def tls_peer(
    context: ssl.SSLContext, handler: Callable[[ssl.SSLSocket], None], *, ragged_eof_is_error: bool = False
) -> AbstractContextManager[int]:
    """One TLS connection on 127.0.0.1, served by *handler* in a thread; yields the port.

    With *ragged_eof_is_error*, a client closing TCP without close_notify makes the
    peer's read raise SSLEOFError instead of returning b"".
    """

    def wrap(conn: socket.socket) -> ssl.SSLSocket:
        return context.wrap_socket(conn, server_side=True, suppress_ragged_eofs=not ragged_eof_is_error)

    return tcp_server(handler, wrap=wrap)  # type: ignore[arg-type]


def connect_tls(port: int, *args: str, **run: object) -> subprocess.CompletedProcess[bytes]:
    return netbench("connect", "--insecure", *args, f"tls://127.0.0.1:{port}", **run)  # type: ignore[arg-type]


def read_line(tls: ssl.SSLSocket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = tls.recv(100)
        if not chunk:
            break
        data += chunk
    return data


# -- TLS --------------------------------------------------------------------------------------------


def test_tls_stdin_end_is_no_half_close_and_the_late_answer_arrives(server_context: ssl.SSLContext) -> None:
    seen: list[str] = []

    def answer_late(tls: ssl.SSLSocket) -> None:
        seen.append(read_line(tls).decode())
        tls.settimeout(0.5)
        try:
            seen.append(f"then {tls.recv(100)!r}")  # a half-close would show as b'' (or an error)
        except TimeoutError:
            seen.append("then nothing: the connection is still open")
        tls.settimeout(15)
        tls.sendall(b"late answer\n")
        tls.unwrap()

    with tls_peer(server_context, answer_late) as port:
        result = connect_tls(port, input=b"question\n")
    assert result.returncode == 0, result.stderr
    assert seen == ["question\n", "then nothing: the connection is still open"]
    assert result.stdout == b"late answer\n"
    assert result.stderr == b""


def test_tls_ends_with_our_close_notify(server_context: ssl.SSLContext) -> None:
    seen: list[bytes | str] = []

    def record(tls: ssl.SSLSocket) -> None:
        seen.append(read_line(tls))
        try:
            seen.append(tls.recv(100))  # b"": a close_notify came; SSLEOFError: TCP closed without it
        except ssl.SSLEOFError:
            seen.append("closed without close_notify")

    with tls_peer(server_context, record, ragged_eof_is_error=True) as port:
        result = connect_tls(port, "-q", "0", input=b"bye\n")
    assert result.returncode == 0, result.stderr
    assert seen == [b"bye\n", b""]


def test_tls_peer_closing_without_close_notify_is_an_end_not_a_failure(
    server_context: ssl.SSLContext,
) -> None:
    def ragged(tls: ssl.SSLSocket) -> None:
        tls.sendall(b"bye " + read_line(tls))
        tls.shutdown(socket.SHUT_RDWR)  # TCP only: no close_notify

    with tls_peer(server_context, ragged) as port:
        result = connect_tls(port, input=b"now\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"bye now\n"
    assert result.stderr == b""


def test_tls_peer_gone_before_all_of_stdin_was_sent_exits_5(server_context: ssl.SSLContext) -> None:
    def leave(tls: ssl.SSLSocket) -> None:
        tls.recv(10)

    with tls_peer(server_context, leave) as port:
        result = connect_tls(port, input=os.urandom(20 << 20))
    assert result.returncode == 5, result.stderr
    assert result.stderr.decode() == f"netbench: connection reset by peer: 127.0.0.1:{port}\n"


@pytest.mark.parametrize("stalled", ["silent", "not reading"])
def test_tls_stalled_peer_and_w_exits_4(server_context: ssl.SSLContext, stalled: str) -> None:
    release = threading.Event()

    def stall(tls: ssl.SSLSocket) -> None:
        if stalled == "silent":
            tls.recv(100)
        release.wait(20)

    # "not reading": 20 MiB cannot all fit in the socket buffers, so the send waits, bounded by -w too.
    stdin = b"hello\n" if stalled == "silent" else os.urandom(20 << 20)
    with tls_peer(server_context, stall) as port:
        try:
            result = connect_tls(port, "-w", "1", input=stdin)
        finally:
            release.set()
    assert result.returncode == 4, result.stderr
    assert result.stderr.decode() == f"netbench: no data to or from 127.0.0.1:{port} for 1s (-w)\n"


def test_tls_handshake_with_a_silent_peer_is_bounded_by_w() -> None:
    release = threading.Event()
    with tcp_server(lambda conn: release.wait(20)) as port:  # accepts, never answers the hello
        try:
            result = netbench("connect", "--tls", "-w", "1", "127.0.0.1", str(port), input=b"x")
        finally:
            release.set()
    assert result.returncode == 4, result.stderr
    assert result.stderr.decode() == f"netbench: timed out in the TLS handshake with 127.0.0.1:{port}\n"


@pytest.mark.parametrize("stdin_kind", ["file", "pipe"])
def test_tls_10mib_both_ways_byte_for_byte(
    server_context: ssl.SSLContext, payload: Path, tmp_path: Path, stdin_kind: str
) -> None:
    size = payload.stat().st_size

    def echo(tls: ssl.SSLSocket) -> None:
        moved = 0
        while moved < size:
            data = tls.recv(1 << 16)
            if not data:
                break
            tls.sendall(data)
            moved += len(data)
        tls.unwrap()

    out = tmp_path / "echoed.bin"
    with tls_peer(server_context, echo) as port:
        command = [*NETBENCH, "connect", "--insecure", f"tls://127.0.0.1:{port}"]
        with open(out, "wb") as sink:
            if stdin_kind == "file":
                with open(payload, "rb") as source:
                    done = subprocess.run(
                        command, stdin=source, stdout=sink, stderr=subprocess.PIPE, timeout=60, env=ENV
                    )
            else:
                cat = subprocess.Popen(["cat", str(payload)], stdout=subprocess.PIPE)
                done = subprocess.run(
                    command, stdin=cat.stdout, stdout=sink, stderr=subprocess.PIPE, timeout=60, env=ENV
                )
                assert cat.stdout is not None
                cat.stdout.close()
                cat.wait(10)
    assert done.returncode == 0, done.stderr
    assert file_sha256(out) == file_sha256(payload)


def test_tls_hex_trace_and_crlf(server_context: ssl.SSLContext) -> None:
    def echo_line(tls: ssl.SSLSocket) -> None:
        tls.sendall(read_line(tls))
        tls.unwrap()

    with tls_peer(server_context, echo_line) as port:
        result = connect_tls(port, "--hex", "--crlf", input=b"hi\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hi\r\n"
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("> 00000000  68 69 0d 0a ") and lines[0].endswith("|hi..|")
    assert lines[1].startswith("< 00000000  68 69 0d 0a ")


HOSTILE = b"hello \x1b[31mred\x1b[0m \x1b]0;owned\x07 \x9b2J cr\rover\n\xff\xfe end\n"


def test_tls_terminal_never_gets_raw_escapes(server_context: ssl.SSLContext) -> None:
    pexpect = pytest.importorskip("pexpect")

    def hostile(tls: ssl.SSLSocket) -> None:
        tls.sendall(HOSTILE)
        tls.unwrap()

    with tls_peer(server_context, hostile) as port:
        child = pexpect.spawn(
            NETBENCH[0],
            [*NETBENCH[1:], "connect", "--insecure", f"tls://127.0.0.1:{port}"],
            env={**ENV, "TERM": "dumb"},
            timeout=15,
        )
        child.expect(pexpect.EOF)  # the peer's close ends an interactive session
        output = child.before
        child.close()
    assert child.exitstatus == 0, output
    assert b"\x1b" not in output and b"\x9b" not in output and b"\x07" not in output
    assert b"hello \\x1b[31mred" in output and b"\\xff\\xfe end" in output
    assert b"certificate NOT verified" in output  # stdout and stderr both a terminal: the summary


def test_telnet_over_tls_answers_negotiation_on_the_wire(server_context: ssl.SSLContext) -> None:
    got = bytearray()

    def negotiate(tls: ssl.SSLSocket) -> None:
        tls.sendall(bytes([telnet.IAC, telnet.WILL, telnet.ECHO]) + b"login: ")
        while len(got) < 3:
            data = tls.recv(100)
            if not data:
                break
            got.extend(data)
        tls.sendall(b"bye\r\n")
        tls.unwrap()

    with tls_peer(server_context, negotiate) as port:
        result = connect_tls(port, "--telnet", "-d", "-v")
    assert result.returncode == 0, result.stderr
    assert bytes(got) == bytes([telnet.IAC, telnet.DO, telnet.ECHO])
    assert result.stdout == b"login: bye\r\n"
    assert "telnet: <- IAC WILL ECHO\ntelnet: -> IAC DO ECHO\n" in result.stderr.decode()


# -- -q with a peer that never stops talking ----------------------------------------------------------


def flood(send: Callable[[bytes], object], stop: threading.Event) -> None:
    """Send without a pause until *stop*, or 25 s (longer than the test's own bound)."""
    block = b"chatter\n" * 8192
    deadline = time.monotonic() + 25
    while not stop.is_set() and time.monotonic() < deadline:
        send(block)


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_quit_after_ends_even_while_the_peer_keeps_talking(
    server_context: ssl.SSLContext, transport: str
) -> None:
    # --hex makes netbench slower than the flood, so there is always something to read:
    # -q must still be looked at. (The dump goes to /dev/null.)
    stop = threading.Event()
    peer: AbstractContextManager[int]
    if transport == "tcp":
        peer = tcp_server(lambda conn: flood(conn.sendall, stop))
        options = ["--hex", "-q", "1", "tcp://127.0.0.1:{port}"]
    else:
        peer = tls_peer(server_context, lambda tls: flood(tls.sendall, stop))
        options = ["--insecure", "--hex", "-q", "1", "tls://127.0.0.1:{port}"]
    try:
        with peer as port:
            done = subprocess.run(
                [*NETBENCH, "connect", *(option.format(port=port) for option in options)],
                input=b"hi\n", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20, env=ENV,
            )  # fmt: skip
    finally:
        stop.set()
    assert done.returncode == 0


# -- UDP ---------------------------------------------------------------------------------------------


def test_udp_refused_is_exit_3_with_one_line() -> None:
    port = free_port(socket.SOCK_DGRAM)
    result = netbench("connect", "-u", "-w", "5", f"udp://127.0.0.1:{port}", input=b"anyone?\n")
    assert result.returncode == 3, result.stderr
    assert result.stderr.decode() == f"netbench: connection refused: 127.0.0.1:{port}\n"


def test_udp_each_read_is_a_datagram_empty_ones_are_skipped_and_w_ends_quietly() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(15)
        process = start_netbench(
            "connect", "-u", "-w", "1", "127.0.0.1", str(peer.getsockname()[1]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        try:
            received = []
            for line in (b"one\n", b"two\x00\xff\n"):
                process.stdin.write(line)
                process.stdin.flush()
                data, address = peer.recvfrom(65535)
                received.append(data)
            peer.sendto(b"", address)  # no end-of-file in UDP: skipped
            peer.sendto(b"\x00bin\xff\n", address)
            assert readline_within(process, process.stdout) == b"\x00bin\xff\n"
            status = process.wait(15)  # stdin still open: going quiet for -w ends it
            err = process.stderr.read() if process.stderr else b""
        finally:
            process.kill()
            process.stdin.close()
    assert received == [b"one\n", b"two\x00\xff\n"]
    assert status == 0, err
    assert err == b""


def test_udp_sigterm_as_stdin_ends_prints_only_terminated() -> None:
    """Stdin closed at several moments just after SIGTERM: one line, exit 143, whatever the order."""
    for attempt in range(6):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.settimeout(15)
            process = start_netbench(
                "connect", "-u", "127.0.0.1", str(peer.getsockname()[1]),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            assert process.stdin is not None and process.stderr is not None
            try:
                process.stdin.write(b"ping\n")
                process.stdin.flush()
                assert peer.recvfrom(100)[0] == b"ping\n"  # the pipe is running
                process.send_signal(signal.SIGTERM)
                if attempt:
                    time.sleep(0.002 * attempt)
                process.stdin.close()
                err = process.stderr.read()
                status = process.wait(15)
            finally:
                process.kill()
                process.stderr.close()
        assert status == 143, err
        assert err.decode().splitlines() == ["netbench: terminated"]


# -- no asyncio on any connect path -------------------------------------------------------------------

PROBE = r"""
import io, json, socket, ssl, sys, threading
from netbench.cli import main
from netbench.environment import Environment

cert, key = sys.argv[1], sys.argv[2]
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
tls_listener = socket.create_server(("127.0.0.1", 0))
tcp_listener = socket.create_server(("127.0.0.1", 0))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
for sock in (tls_listener, tcp_listener, udp):
    sock.settimeout(15)

def tls_echo():
    conn, _ = tls_listener.accept()
    with context.wrap_socket(conn, server_side=True) as tls:
        tls.sendall(tls.recv(100))
        tls.unwrap()

def udp_echo():
    data, address = udp.recvfrom(100)
    udp.sendto(data, address)

def telnet_peer():
    conn, _ = tcp_listener.accept()
    with conn:
        conn.sendall(bytes([255, 251, 1]) + b"hi")
        conn.recv(3)

for serve in (tls_echo, udp_echo, telnet_peer):
    threading.Thread(target=serve, daemon=True).start()

def run(argv):
    with open(sys.argv[3]) as stdin, open("/dev/null", "w") as stdout:
        return int(main(argv, Environment(stdin=stdin, stdout=stdout, stderr=io.StringIO())))

statuses = {
    "tls": run(["connect", "-w", "10", "--insecure", f"tls://127.0.0.1:{tls_listener.getsockname()[1]}"]),
    "udp": run(["connect", "-w", "1", f"udp://127.0.0.1:{udp.getsockname()[1]}"]),
    "telnet": run(["connect", "-d", "-w", "10", "--telnet", "127.0.0.1", str(tcp_listener.getsockname()[1])]),
}
modules = sorted(m for m in sys.modules if m.split(".")[0] in ("asyncio", "prompt_toolkit"))
print(json.dumps({"statuses": statuses, "modules": modules}))
"""


def test_tls_udp_and_telnet_connects_do_not_import_asyncio(ca: object, tmp_path: Path) -> None:
    cert = ca.issue_cert("127.0.0.1")  # type: ignore[attr-defined]
    cert_path, key_path, stdin = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "stdin"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    stdin.write_bytes(b"x\n")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(cert_path), str(key_path), str(stdin)],
        capture_output=True, timeout=60, env=ENV, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report == {"statuses": {"tls": 0, "udp": 0, "telnet": 0}, "modules": []}
