"""The lab's small services against their RFCs, over real loopback sockets.

echo (RFC 862), discard (RFC 863), daytime (RFC 867), chargen (RFC 864),
each on TCP and UDP at the same port; plus the Python API (start, running).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from netbench.errors import UsageError
from netbench.lab import SERVICES, Lab, LabServer, check_loopback, running, start
from netbench.lab.simple import ChargenStream
from tests.support.peers import free_port, require_binary
from tests.support.sockets import read_until_eof

TIMEOUT = 5.0
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("echo", "discard", "daytime", "chargen") as servers:
        yield servers


def connect(port: int, host: str = HOST) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    return sock


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"EOF after {len(data)} of {size} bytes"
        data += chunk
    return bytes(data)


def udp_socket(host: str = HOST) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    return sock


def expected_chargen(first_line: int, size: int) -> bytes:
    """The RFC 864 pattern written out independently: 72 of the 94 chars 33..126, rotating."""
    alphabet = "".join(chr(c) for c in range(33, 127))
    out = ""
    line = first_line
    while len(out) < size:
        start = line % 94
        out += (alphabet * 2)[start : start + 72] + "\r\n"
        line += 1
    return out[:size].encode()


# --- echo --------------------------------------------------------------------


def test_echo_tcp_returns_every_byte_then_closes_after_half_close(lab: Lab) -> None:
    payload = os.urandom(300_000)
    with connect(lab["echo"].port) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        assert read_until_eof(sock) == payload


def test_echo_tcp_answers_each_line_interactively(lab: Lab) -> None:
    with connect(lab["echo"].port) as sock:
        for line in (b"hello\r\n", b"\x00\xff binary\n", b"x"):
            sock.sendall(line)
            assert receive_exactly(sock, len(line)) == line


def test_echo_udp_returns_each_datagram_whole(lab: Lab) -> None:
    server = lab["echo"]
    with udp_socket() as sock:
        for payload in (b"ping", os.urandom(1200), b""):
            sock.sendto(payload, (HOST, server.port))
            data, source = sock.recvfrom(65536)
            assert data == payload
            assert source == (HOST, server.port)


def test_echo_stops_reading_while_the_client_does_not_read(lab: Lab) -> None:
    """Backpressure: a client that only sends must not grow the server's buffer without bound."""
    server = lab["echo"]
    with connect(server.port) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        sent = 0
        block = b"e" * 65536
        stalled_since = None
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                sent += sock.send(block)
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 0.3:
                    break
                time.sleep(0.01)
        else:
            pytest.fail(f"the server kept reading: {sent} bytes accepted, never stalled")
        buffered = sum(t.get_write_buffer_size() for t in server.connections)
        assert buffered < 4 * 1024 * 1024


# --- discard -------------------------------------------------------------------


def test_discard_tcp_swallows_everything_and_sends_nothing(lab: Lab) -> None:
    with connect(lab["discard"].port) as sock:
        sock.sendall(os.urandom(1_000_000))
        sock.shutdown(socket.SHUT_WR)
        assert read_until_eof(sock) == b""


def test_discard_udp_never_answers(lab: Lab) -> None:
    with udp_socket() as sock:
        sock.sendto(b"anything", (HOST, lab["discard"].port))
        # Then ask echo on the same socket: the first answer must be echo's.
        sock.sendto(b"marker", (HOST, lab["echo"].port))
        data, source = sock.recvfrom(65536)
        assert (data, source[1]) == (b"marker", lab["echo"].port)
        sock.settimeout(0.2)
        with pytest.raises(TimeoutError):
            sock.recvfrom(65536)


# --- daytime ---------------------------------------------------------------------


def check_daytime(line: bytes) -> None:
    assert line.endswith(b"\r\n") and line.count(b"\n") == 1
    text = line[:-2].decode("ascii")
    stamp, _, zone = text.rpartition("-")
    assert zone, text
    moment = datetime.strptime(stamp, "%A, %B %d, %Y %H:%M:%S")
    local_now = datetime.now(UTC).astimezone().replace(tzinfo=None)
    assert abs((local_now - moment).total_seconds()) < 300, text


def test_daytime_tcp_sends_one_line_and_closes(lab: Lab) -> None:
    with connect(lab["daytime"].port) as sock:
        check_daytime(read_until_eof(sock))


def test_daytime_tcp_client_that_talks_first_still_gets_its_line(lab: Lab) -> None:
    """The server closes gracefully: unread input must not turn into a reset that eats the line."""
    server = lab["daytime"]
    for _ in range(5):
        with connect(server.port) as sock:
            try:
                sock.sendall(b"what time is it?\r\n" * 5000)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may be done before we are; the line must still be there
            check_daytime(read_until_eof(sock))
    deadline = time.monotonic() + TIMEOUT
    while server.connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not server.connections  # closed once the clients closed


def test_daytime_udp_answers_any_datagram_with_one_line(lab: Lab) -> None:
    with udp_socket() as sock:
        for query in (b"", b"what time is it?"):
            sock.sendto(query, (HOST, lab["daytime"].port))
            data, _ = sock.recvfrom(65536)
            check_daytime(data)


# --- chargen ---------------------------------------------------------------------


def test_chargen_tcp_streams_the_rotating_pattern(lab: Lab) -> None:
    size = 74 * 94 * 3 + 100  # more than three turns of the pattern
    with connect(lab["chargen"].port) as sock:
        data = receive_exactly(sock, size)
    assert data == expected_chargen(0, size)
    lines = data.split(b"\r\n")
    assert all(len(line) == 72 for line in lines[:-1])
    assert all(33 <= byte <= 126 for line in lines for byte in line)


def test_chargen_tcp_keeps_sending_after_the_client_half_closes(lab: Lab) -> None:
    with connect(lab["chargen"].port) as sock:
        sock.shutdown(socket.SHUT_WR)
        data = receive_exactly(sock, 200_000)
    assert data == expected_chargen(0, 200_000)


def test_chargen_tcp_respects_backpressure(lab: Lab) -> None:
    server = lab["chargen"]
    with connect(server.port) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        receive_exactly(sock, 74)
        sizes = []
        for _ in range(20):  # the client reads nothing more
            time.sleep(0.02)
            sizes.append(sum(t.get_write_buffer_size() for t in server.connections))
        # Never more than the high-water mark plus one block, whatever the time.
        assert max(sizes) <= 64 * 1024 + len(ChargenStream.BLOCK)
        assert receive_exactly(sock, 74 * 10)[:72] == expected_chargen(1, 72)


def test_chargen_udp_answers_with_0_to_512_bytes_of_the_pattern(lab: Lab) -> None:
    sizes = set()
    with udp_socket() as sock:
        for _ in range(30):
            sock.sendto(b"?", (HOST, lab["chargen"].port))
            data, _ = sock.recvfrom(65536)
            assert len(data) <= 512
            sizes.add(len(data))
            if data:
                first_line = data[0] - 33
                assert data == expected_chargen(first_line, len(data))
    assert len(sizes) > 1  # random lengths


# --- the API ---------------------------------------------------------------------


def test_services_catalogue() -> None:
    # The classic services first, in this order; the protocol servers follow them.
    assert list(SERVICES)[:5] == ["echo", "discard", "daytime", "chargen", "http"]
    assert all(isinstance(text, str) and text for text in SERVICES.values())


def test_every_small_service_uses_tcp_and_udp_at_one_port(lab: Lab) -> None:
    for server in lab:
        assert isinstance(server, LabServer)
        assert server.transports == ("tcp", "udp")
        assert server.address == f"127.0.0.1:{server.port}"
        assert server.target.transport == "tcp"
        assert (server.target.host, server.target.port) == (HOST, server.port)


def test_start_inside_a_running_loop_and_close() -> None:
    async def main() -> tuple[int, bytes]:
        server = await start("echo")
        reader, writer = await asyncio.open_connection(HOST, server.port)
        writer.write(b"async\n")
        line = await asyncio.wait_for(reader.readline(), TIMEOUT)
        await server.close()
        rest = await asyncio.wait_for(reader.read(), TIMEOUT)  # closed by the server
        writer.close()
        assert rest == b""
        return server.port, line

    port, line = asyncio.run(main())
    assert line == b"async\n"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, port), timeout=TIMEOUT)


def test_running_with_explicit_ports_and_stop_closes_connections() -> None:
    port = free_port()
    with running(f"echo:{port}", "http") as lab:
        assert lab["echo"].port == port
        assert "http" in lab and "chargen" not in lab
        with pytest.raises(KeyError, match="chargen"):
            lab["chargen"]
        sock = connect(port)
    with sock:
        try:
            assert sock.recv(10) == b""
        except ConnectionResetError:
            pass
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, port), timeout=TIMEOUT)


def test_running_without_specs_starts_everything() -> None:
    with running() as lab:
        assert [server.name for server in lab] == list(SERVICES)
        assert lab["http"].transports == ("tcp",)


def test_a_busy_port_is_a_usage_error_and_nothing_stays_running() -> None:
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        echo_port = free_port()
        message = f"127.0.0.1:{port}/tcp: address already in use"
        with pytest.raises(UsageError, match=message), running(f"echo:{echo_port}", f"http:{port}"):
            pass
    # echo had started first; the failure closed it again.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, echo_port), timeout=TIMEOUT)


def test_a_busy_udp_port_is_a_usage_error() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind((HOST, port))
        with pytest.raises(UsageError, match="/udp: address already in use"), running(f"daytime:{port}"):
            pass


@pytest.mark.parametrize("host", ["192.0.2.1", "0.0.0.0", "::", "example.com"])
def test_only_loopback_addresses_are_accepted(host: str) -> None:
    with pytest.raises(UsageError, match="loopback"), running("echo", host=host):
        pass


@pytest.mark.parametrize("spec", ["gopher", "echo:http", "echo:70000", "echo:-1"])
def test_bad_specs_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError), running(spec):
        pass


@pytest.mark.parametrize(
    ("given", "address"),
    [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("127.1.2.3", "127.1.2.3"), ("[::1]", "::1")],
)
def test_loopback_addresses_are_accepted(given: str, address: str) -> None:
    # Checked without binding: tests only ever bind 127.0.0.1 and ::1.
    assert check_loopback(given) == address


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback() -> None:
    with running("echo", "daytime", host="::1") as lab:
        assert lab["echo"].address == f"[::1]:{lab['echo'].port}"
        with connect(lab["echo"].port, "::1") as sock:
            sock.sendall(b"six")
            assert receive_exactly(sock, 3) == b"six"
        with udp_socket("::1") as sock:
            sock.sendto(b"", ("::1", lab["daytime"].port))
            check_daytime(sock.recvfrom(1024)[0])


# --- real peers ------------------------------------------------------------------


@pytest.mark.peers
def test_openbsd_nc_round_trips_through_echo(lab: Lab) -> None:
    nc = require_binary("nc")
    payload = os.urandom(1024 * 1024)
    result = subprocess.run(
        [nc, "-N", HOST, str(lab["echo"].port)], input=payload, capture_output=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(result.stdout).digest() == hashlib.sha256(payload).digest()


@pytest.mark.peers
def test_nc_reads_daytime_and_chargen(lab: Lab) -> None:
    nc = require_binary("nc")
    result = subprocess.run([nc, "-d", HOST, str(lab["daytime"].port)], capture_output=True, timeout=30)
    check_daytime(result.stdout)
    with subprocess.Popen([nc, "-d", HOST, str(lab["chargen"].port)], stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        head = process.stdout.read(74 * 200)
        process.kill()
    assert head == expected_chargen(0, 74 * 200)


@pytest.mark.peers
def test_socat_udp_echo_and_daytime(lab: Lab) -> None:
    socat = require_binary("socat")
    for name, query in (("echo", b"udp hello"), ("daytime", b"?")):
        result = subprocess.run(
            [socat, "-T", "5", "-", f"UDP:{HOST}:{lab[name].port}"],
            input=query,
            capture_output=True,
            timeout=30,
        )
        if name == "echo":
            assert result.stdout == query
        else:
            check_daytime(result.stdout)
