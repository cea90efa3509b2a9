"""`netbench listen` against real clients on loopback: nc, socat, plain sockets."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.pipe_helpers import (
    file_sha256,
    payload_fixture,  # noqa: F401 - the payload fixture
    read_listening_port,
    readline_within,
    sha256,
    start_netbench,
    wait_listening,
)
from tests.support.peers import require_binary
from tests.support.sockets import has_ipv6_loopback, read_until_eof


def _finish(process: subprocess.Popen[bytes], timeout: float = 15) -> tuple[int, bytes]:
    try:
        _out, err = process.communicate(timeout=timeout)
    finally:
        process.kill()
    return process.returncode, err


@pytest.mark.peers
@pytest.mark.parametrize("peer", ["nc", "socat"])
def test_listen_receives_10mib(peer: str, payload: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    with open(out, "wb") as sink:
        listener = start_netbench("listen", "0", stdout=sink, stdin=subprocess.DEVNULL)
    port = read_listening_port(listener)
    if peer == "nc":
        client = [require_binary("nc"), "-N", "127.0.0.1", str(port)]
    else:
        client = [require_binary("socat"), "-u", "STDIN", f"TCP:127.0.0.1:{port}"]
    with open(payload, "rb") as source:
        sent = subprocess.run(client, stdin=source, stdout=subprocess.DEVNULL, timeout=30)
    status, err = _finish(listener)
    assert sent.returncode == 0
    assert status == 0, err
    assert file_sha256(out) == file_sha256(payload)


@pytest.mark.peers
@pytest.mark.parametrize("peer", ["nc", "socat"])
def test_listen_sends_10mib(peer: str, payload: Path) -> None:
    with open(payload, "rb") as source:
        listener = start_netbench("listen", "127.0.0.1:0", stdin=source, stdout=subprocess.DEVNULL)
    port = read_listening_port(listener)
    if peer == "nc":
        client = [require_binary("nc"), "127.0.0.1", str(port)]
    else:
        client = [require_binary("socat"), "-u", f"TCP:127.0.0.1:{port}", "STDOUT"]
    received = subprocess.run(client, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=30)
    status, err = _finish(listener)
    assert status == 0, err
    assert sha256(received.stdout) == file_sha256(payload)


def _deliver(listener: subprocess.Popen[bytes], client: socket.socket, data: bytes) -> bytes:
    """Send *data* from *client* to *listener* (started with an empty stdin), half-close,
    see the listener close without sending anything; it must then exit 0.
    Returns what the listener wrote on its stdout."""
    client.sendall(data)
    client.shutdown(socket.SHUT_WR)
    assert read_until_eof(client) == b""  # our stdin is empty: listen half-closed
    out, err = listener.communicate(timeout=15)
    assert listener.returncode == 0, err
    return out


def test_listen_is_loopback_by_default_and_port_is_printed() -> None:
    listener = start_netbench("listen", "0", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    port = read_listening_port(listener)
    try:
        wait_listening(port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            out = _deliver(listener, client, b"one line\n")
    finally:
        listener.kill()
    assert out == b"one line\n"


def test_keep_open_accepts_one_client_after_another() -> None:
    listener = start_netbench("listen", "-k", "0", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    port = read_listening_port(listener)
    try:
        for index in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
                client.sendall(f"client {index}\n".encode())
                client.shutdown(socket.SHUT_WR)
                client.settimeout(10)
                assert read_until_eof(client) == b""
            assert readline_within(listener, listener.stdout) == f"client {index}\n".encode()
        listener.send_signal(signal.SIGINT)
        out, err = listener.communicate(timeout=15)
    finally:
        listener.kill()
    assert out == b""
    assert listener.returncode == 130
    assert b"Traceback" not in err


def test_ctrl_c_while_waiting_exits_130_without_traceback() -> None:
    listener = start_netbench("listen", "0", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    read_listening_port(listener)
    listener.send_signal(signal.SIGINT)
    status, err = _finish(listener)
    assert status == 130
    assert b"Traceback" not in err
    assert err.decode().strip().splitlines() == ["netbench: interrupted"]


def test_listen_udp_first_sender_is_the_peer() -> None:
    listener = start_netbench("listen", "-u", "-w", "1", "0", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    port = read_listening_port(listener)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(10)
        client.sendto(b"hello listener\n", ("127.0.0.1", port))
        assert listener.stdin is not None
        time.sleep(0.2)
        listener.stdin.write(b"hello client\n")
        listener.stdin.flush()
        reply, _ = client.recvfrom(1000)
    out, err = listener.communicate(timeout=15)  # closes stdin; -w 1 ends it once quiet
    assert listener.returncode == 0, err
    assert reply == b"hello client\n"
    assert out == b"hello listener\n"


def test_listen_unix(tmp_path: Path) -> None:
    path = tmp_path / "l.sock"
    listener = start_netbench("listen", f"unix:{path}", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    read_listening_port_line = listener.stderr.readline()  # type: ignore[union-attr]
    assert read_listening_port_line.startswith(b"listening on unix:")
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(10)
        client.connect(str(path))
        assert _deliver(listener, client, b"via unix\n") == b"via unix\n"
    assert not path.exists()


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 on loopback")
def test_listen_ipv6() -> None:
    listener = start_netbench("listen", "[::1]:0", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    port = read_listening_port(listener)
    with socket.create_connection(("::1", port), timeout=10) as client:
        assert _deliver(listener, client, b"six\n") == b"six\n"


def test_listen_then_connect_round_trip(tmp_path: Path) -> None:
    """netbench on both ends: a file up, a reply down."""
    reply = tmp_path / "reply.txt"
    reply.write_bytes(b"thanks\n")
    with open(reply, "rb") as source:
        listener = start_netbench("listen", "0", stdin=source, stdout=subprocess.PIPE)
    port = read_listening_port(listener)
    from tests.pipe_helpers import netbench

    result = netbench("connect", "127.0.0.1", str(port), input=b"upload\x00\xff\n")
    out, err = listener.communicate(timeout=15)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"thanks\n"
    assert listener.returncode == 0, err
    assert out == b"upload\x00\xff\n"


def test_keep_open_hands_stdin_to_the_client_of_the_moment() -> None:
    listener = start_netbench("listen", "-k", "-v", "0", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    port = read_listening_port(listener)
    assert listener.stdin is not None
    try:
        listener.stdin.write(b"first\n")
        listener.stdin.flush()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as one:
            assert readline_within(listener, listener.stderr).startswith(b"connection from 127.0.0.1:")
            assert one.recv(100) == b"first\n"
            one.sendall(b"bye from one\n")
        assert readline_within(listener, listener.stdout) == b"bye from one\n"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as two:
            assert readline_within(listener, listener.stderr).startswith(b"connection from 127.0.0.1:")
            listener.stdin.write(b"second\n")  # typed while the second client is connected
            listener.stdin.close()  # stdin ends: the second client gets EOF after it
            two.settimeout(10)
            assert read_until_eof(two) == b"second\n"
        listener.send_signal(signal.SIGINT)
        listener.wait(15)
    finally:
        listener.kill()
    assert listener.returncode == 130
