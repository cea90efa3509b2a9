"""`netbench connect` against real peers on loopback: nc, socat, nginx, small servers."""

from __future__ import annotations

import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.pipe_helpers import (
    ENV,
    NETBENCH,
    file_sha256,
    netbench,
    payload_fixture,  # noqa: F401 - the payload fixture
    sha256,
    start_netbench,
    tcp_server,
    wait_listening,
)
from tests.support.peers import HELLO, free_port, require_binary
from tests.support.sockets import full_backlog, has_ipv6_loopback, read_until_eof


def _peer_receiver(peer: str, port: int, out: Path) -> subprocess.Popen[bytes]:
    if peer == "nc":
        command = [require_binary("nc"), "-l", "127.0.0.1", str(port)]
    else:
        command = [require_binary("socat"), "-u", f"TCP-LISTEN:{port},bind=127.0.0.1", "STDOUT"]
    with open(out, "wb") as sink:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink)


def _peer_sender(peer: str, port: int, source: Path) -> subprocess.Popen[bytes]:
    if peer == "nc":
        command = [require_binary("nc"), "-N", "-l", "127.0.0.1", str(port)]
        with open(source, "rb") as data:
            return subprocess.Popen(command, stdin=data, stdout=subprocess.DEVNULL)
    command = [require_binary("socat"), "-u", f"FILE:{source}", f"TCP-LISTEN:{port},bind=127.0.0.1"]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


@contextmanager
def _listening_peer(start: Callable[[int], subprocess.Popen[bytes]]) -> Iterator[int]:
    """Start a peer with ``start(port)`` on a free port; yield the port once it listens.

    After the block the peer must exit 0 by itself within 10 s; it is killed
    on the way out whatever happens.
    """
    port = free_port()
    process = start(port)
    try:
        wait_listening(port)
        yield port
        assert process.wait(10) == 0
    finally:
        process.kill()


@pytest.mark.peers
@pytest.mark.parametrize("peer", ["nc", "socat"])
@pytest.mark.parametrize("stdin_kind", ["file", "pipe"])
def test_connect_sends_10mib_to_peer(peer: str, stdin_kind: str, payload: Path, tmp_path: Path) -> None:
    out = tmp_path / "received.bin"
    with _listening_peer(lambda port: _peer_receiver(peer, port, out)) as port:
        with open(payload, "rb") as source:
            if stdin_kind == "file":
                result = netbench("connect", "127.0.0.1", str(port), stdin=source)
            else:
                cat = subprocess.Popen(["cat"], stdin=source, stdout=subprocess.PIPE)
                result = netbench("connect", f"127.0.0.1:{port}", stdin=cat.stdout)
                assert cat.stdout is not None
                cat.stdout.close()
                cat.wait(10)
        assert result.returncode == 0, result.stderr
    assert file_sha256(out) == file_sha256(payload)


@pytest.mark.peers
@pytest.mark.parametrize("peer", ["nc", "socat"])
@pytest.mark.parametrize("stdout_kind", ["pipe", "file"])
def test_connect_receives_10mib_from_peer(peer: str, stdout_kind: str, payload: Path, tmp_path: Path) -> None:
    with _listening_peer(lambda port: _peer_sender(peer, port, payload)) as port:
        # -d: read nothing from stdin, so no early FIN (nc -l gives up sending on a FIN)
        if stdout_kind == "pipe":
            result = netbench("connect", "-d", "127.0.0.1", str(port))
            received = result.stdout
        else:
            out = tmp_path / "out.bin"
            with open(out, "wb") as sink:
                result = netbench("connect", "-d", "127.0.0.1", str(port), stdout=sink)
            received = out.read_bytes()
        assert result.returncode == 0, result.stderr
    assert sha256(received) == file_sha256(payload)


@pytest.mark.nginx
def test_half_close_against_nginx(nginx: object) -> None:
    request = b"GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n"
    result = netbench("connect", "127.0.0.1", str(nginx.port), input=request)  # type: ignore[attr-defined]
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"HTTP/1.1 200 OK\r\n")
    assert result.stdout.endswith(b"\r\n\r\n" + HELLO)


@pytest.mark.nginx
def test_crlf_turns_typed_lines_into_an_http_request(nginx: object) -> None:
    request = b"GET /index.html HTTP/1.0\nHost: localhost\n\n"
    result = netbench("connect", "--crlf", f"tcp://127.0.0.1:{nginx.port}", input=request)  # type: ignore[attr-defined]
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"HTTP/1.1 200 OK\r\n")
    assert result.stdout.endswith(HELLO)


def test_crlf_keeps_existing_crlf() -> None:
    got: list[bytes] = []
    with tcp_server(lambda conn: got.append(read_until_eof(conn))) as port:
        result = netbench("connect", "-C", "127.0.0.1", str(port), input=b"a\nb\r\n\nc")
    assert result.returncode == 0, result.stderr
    assert got == [b"a\r\nb\r\n\r\nc"]


def test_refused_exits_3() -> None:
    result = netbench("connect", "127.0.0.1", str(free_port()))
    assert result.returncode == 3
    assert result.stderr.decode().startswith("netbench: connection refused")
    assert result.stderr.count(b"\n") == 1


def test_idle_timeout_exits_4() -> None:
    with socket.socket() as listener:  # the kernel completes the handshake; nobody ever answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        started = time.monotonic()
        result = netbench("connect", "-w", "0.5", "127.0.0.1", str(listener.getsockname()[1]), timeout=15)
    assert result.returncode == 4, result.stderr
    assert b"-w" in result.stderr and result.stderr.count(b"\n") == 1
    assert time.monotonic() - started < 14


def test_connect_timeout_on_full_backlog_exits_4() -> None:
    with full_backlog() as port:
        result = netbench("connect", "-w", "1", "127.0.0.1", str(port), timeout=15)
    assert result.returncode == 4, result.stderr
    assert b"timed out" in result.stderr


def _reset_after_reading(conn: socket.socket) -> None:
    conn.recv(100)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_reset_exits_5() -> None:
    with tcp_server(_reset_after_reading) as port:
        proc = start_netbench(
            "connect", "127.0.0.1", str(port), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert proc.stdin is not None
        proc.stdin.write(b"hello\n")
        proc.stdin.flush()  # stdin stays open: the reset, not our EOF, ends it
        try:
            _out, err = proc.communicate(timeout=15)
        finally:
            proc.kill()
    assert proc.returncode == 5, err
    assert err.decode().startswith("netbench: connection reset")


def test_zero_io_mode() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        result = netbench("connect", "-z", "-v", "127.0.0.1", str(listener.getsockname()[1]))
    assert result.returncode == 0
    assert b"connected to 127.0.0.1:" in result.stderr
    assert netbench("connect", "-z", "127.0.0.1", str(free_port())).returncode == 3


def test_quit_after_stdin_ends() -> None:
    release = threading.Event()
    with tcp_server(lambda conn: release.wait(15)) as port:  # a server that never closes
        result = netbench("connect", "-q", "0", "127.0.0.1", str(port), input=b"bye\n", timeout=15)
        release.set()
    assert result.returncode == 0, result.stderr


def test_hex_dump_marks_directions_and_offsets() -> None:
    def echo_twice(conn: socket.socket) -> None:
        data = read_until_eof(conn)
        conn.sendall(data)
        time.sleep(0.2)  # a second piece, so its offset must continue at 6
        conn.sendall(b"!")

    with tcp_server(echo_twice) as port:
        result = netbench("connect", "--hex", "127.0.0.1", str(port), input=b"hello\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hello\n!"
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("> 00000000  68 65 6c 6c 6f 0a ") and lines[0].endswith("|hello.|")
    assert lines[1].startswith("< 00000000  68 65 6c 6c 6f 0a ")
    assert lines[2].startswith("< 00000006  21 ") and lines[2].endswith("|!|")


def test_stdout_reader_going_away_is_not_an_error() -> None:
    def endless(conn: socket.socket) -> None:
        block = b"x" * 65536
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            conn.sendall(block)

    with tcp_server(endless) as port:
        command = f"{' '.join(NETBENCH)} connect -d 127.0.0.1 {port} | head -c 100000 | wc -c"
        result = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, timeout=15
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == b"100000"


def test_udp_round_trip() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(10)

        def serve() -> None:
            try:
                data, address = server.recvfrom(65535)
                server.sendto(data.upper(), address)
            except OSError:
                pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        result = netbench(
            "connect", "-u", "-w", "1", "127.0.0.1", str(server.getsockname()[1]), input=b"ping\n"
        )
        thread.join(10)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"PING\n"


def test_udp_to_a_closed_port_is_refused() -> None:
    result = netbench("connect", "-u", "-w", "2", f"udp://127.0.0.1:{free_port()}", input=b"anyone?\n")
    assert result.returncode == 3, result.stderr


def test_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    got: list[bytes] = []
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(1)
        listener.settimeout(10)

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                got.append(read_until_eof(conn))
                conn.sendall(b"done\n")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        result = netbench("connect", f"unix:{path}", input=b"over unix\n")
        thread.join(10)
    assert result.returncode == 0, result.stderr
    assert got == [b"over unix\n"]
    assert result.stdout == b"done\n"


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 on loopback")
@pytest.mark.parametrize("form", [["-6", "::1"], ["[::1]:{port}"], ["tcp://[::1]:{port}"]])
def test_ipv6_loopback(form: list[str]) -> None:
    def echo(conn: socket.socket) -> None:
        conn.sendall(read_until_eof(conn)[::-1])

    with tcp_server(echo, host="::1") as port:
        words = [word.format(port=port) for word in form]
        if len(words) == 2:
            words.append(str(port))
        result = netbench("connect", *words, input=b"abc")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"cba"


HOSTILE = b"hello \x1b[31mred\x1b[0m \x1b]0;owned\x07 \x9b2J bell\x07 cr\rover\n\xff\xfe end\n"


def test_terminal_never_gets_raw_escapes() -> None:
    pexpect = pytest.importorskip("pexpect")

    def hostile(conn: socket.socket) -> None:
        conn.sendall(HOSTILE)

    with tcp_server(hostile) as port:
        child = pexpect.spawn(
            NETBENCH[0],
            [*NETBENCH[1:], "connect", "127.0.0.1", str(port)],
            env={**ENV, "TERM": "dumb"},
            timeout=15,
        )
        child.expect(pexpect.EOF)  # the peer's close ends an interactive session
        output = child.before
        child.close()
    assert child.exitstatus == 0, output
    assert b"\x1b" not in output and b"\x9b" not in output and b"\x07" not in output
    assert b"hello \\x1b[31mred" in output
    assert b"\\xff\\xfe end" in output


def test_ctrl_c_mid_conversation_exits_130_without_traceback() -> None:
    import signal

    accepted = threading.Event()
    release = threading.Event()

    def hold(conn: socket.socket) -> None:
        accepted.set()
        release.wait(15)

    with tcp_server(hold) as port:
        proc = start_netbench(
            "connect", "127.0.0.1", str(port), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        try:
            assert accepted.wait(15)
            time.sleep(0.3)  # let it settle into the pipe loop
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=15)
        finally:
            proc.kill()
            release.set()
    assert proc.returncode == 130
    assert err.decode().splitlines() == ["netbench: interrupted"]
