"""The lab's memcached server, spoken to over a raw socket as protocol.txt describes it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from netbench.lab import Lab, running
from netbench.lab import memcached as lab_memcached
from tests.support.lab_clients import write_buffer_once_stalled
from tests.support.sockets import read_until_eof

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("memcached") as servers:
        yield servers


class Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.data = b""

    def ask(self, request: bytes, until: bytes = b"\r\n") -> bytes:
        """Send *request*; return what arrives up to and including *until*."""
        self.sock.sendall(request)
        data = bytearray(self.data)
        start = 0
        while (found := data.find(until, start)) < 0:
            start = max(0, len(data) - len(until))
            chunk = self.sock.recv(1 << 20)
            assert chunk, f"closed; got {bytes(data[:200])!r}"
            data += chunk
        end = found + len(until)
        answer, self.data = bytes(data[:end]), bytes(data[end:])
        return answer

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def mc(lab: Lab) -> Iterator[Client]:
    client = Client(lab["memcached"].port)
    assert client.ask(b"flush_all\r\n") == b"OK\r\n"
    yield client
    client.close()


def test_set_get_gets_and_multi_get(mc: Client) -> None:
    assert mc.ask(b"set a 5 0 3\r\nabc\r\n") == b"STORED\r\n"
    assert mc.ask(b"set b 0 0 4\r\n\r\n\x00\xff\r\n") == b"STORED\r\n"
    assert mc.ask(b"get a nothing b\r\n", b"END\r\n") == (
        b"VALUE a 5 3\r\nabc\r\nVALUE b 0 4\r\n\r\n\x00\xff\r\nEND\r\n"
    )
    gets = mc.ask(b"gets a\r\n", b"END\r\n")
    assert gets.startswith(b"VALUE a 5 3 ") and gets.endswith(b"\r\nabc\r\nEND\r\n")
    assert mc.ask(b"get missing\r\n") == b"END\r\n"


def test_add_replace_append_prepend(mc: Client) -> None:
    assert mc.ask(b"replace k 0 0 1\r\nx\r\n") == b"NOT_STORED\r\n"
    assert mc.ask(b"add k 0 0 1\r\nx\r\n") == b"STORED\r\n"
    assert mc.ask(b"add k 0 0 1\r\ny\r\n") == b"NOT_STORED\r\n"
    assert mc.ask(b"replace k 0 0 1\r\ny\r\n") == b"STORED\r\n"
    assert mc.ask(b"append k 0 0 2\r\n>>\r\n") == b"STORED\r\n"
    assert mc.ask(b"prepend k 0 0 2\r\n<<\r\n") == b"STORED\r\n"
    assert mc.ask(b"get k\r\n", b"END\r\n") == b"VALUE k 0 5\r\n<<y>>\r\nEND\r\n"


def test_a_cas_round(mc: Client) -> None:
    mc.ask(b"set counter 0 0 1\r\n1\r\n")
    header = mc.ask(b"gets counter\r\n", b"END\r\n").split(b"\r\n")[0]
    unique = int(header.split()[4])
    assert mc.ask(b"cas counter 0 0 1 %d\r\n2\r\n" % unique) == b"STORED\r\n"
    assert mc.ask(b"cas counter 0 0 1 %d\r\n3\r\n" % unique) == b"EXISTS\r\n"  # someone else won
    assert mc.ask(b"cas nothing 0 0 1 1\r\n3\r\n") == b"NOT_FOUND\r\n"
    assert mc.ask(b"get counter\r\n", b"END\r\n") == b"VALUE counter 0 1\r\n2\r\nEND\r\n"


def test_incr_decr_delete(mc: Client) -> None:
    assert mc.ask(b"incr n 1\r\n") == b"NOT_FOUND\r\n"
    mc.ask(b"set n 0 0 2\r\n10\r\n")
    assert mc.ask(b"incr n 5\r\n") == b"15\r\n"
    assert mc.ask(b"decr n 100\r\n") == b"0\r\n"  # never below zero
    mc.ask(b"set n 0 0 20\r\n18446744073709551615\r\n")
    assert mc.ask(b"incr n 2\r\n") == b"1\r\n"  # wraps at 2**64
    assert mc.ask(b"incr n x\r\n") == b"CLIENT_ERROR invalid numeric delta argument\r\n"
    mc.ask(b"set word 0 0 3\r\nabc\r\n")
    assert mc.ask(b"incr word 1\r\n") == b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
    assert mc.ask(b"delete word\r\n") == b"DELETED\r\n"
    assert mc.ask(b"delete word\r\n") == b"NOT_FOUND\r\n"


def test_noreply_expiry_touch_flush_version(mc: Client) -> None:
    mc.sock.sendall(b"set quiet 0 0 1 noreply\r\nq\r\ndelete nothing noreply\r\n")
    assert mc.ask(b"get quiet\r\n", b"END\r\n") == b"VALUE quiet 0 1\r\nq\r\nEND\r\n"
    assert mc.ask(b"set gone 0 -1 1\r\nx\r\n") == b"STORED\r\n"
    assert mc.ask(b"get gone\r\n") == b"END\r\n"
    assert mc.ask(b"touch quiet 1000\r\n") == b"TOUCHED\r\n"
    assert mc.ask(b"touch gone 10\r\n") == b"NOT_FOUND\r\n"
    assert mc.ask(b"set soon 0 1 1\r\nx\r\n") == b"STORED\r\n"
    time.sleep(1.2)
    assert mc.ask(b"get soon\r\n") == b"END\r\n"
    assert mc.ask(b"flush_all\r\n") == b"OK\r\n"
    assert mc.ask(b"get quiet\r\n") == b"END\r\n"
    assert mc.ask(b"version\r\n").startswith(b"VERSION 1.6")


def test_errors(mc: Client) -> None:
    assert mc.ask(b"bogus\r\n") == b"ERROR\r\n"
    assert mc.ask(b"\r\n") == b"ERROR\r\n"
    assert mc.ask(b"set k 0 0\r\n") == b"ERROR\r\n"
    assert mc.ask(b"set k x 0 1\r\nv\r\n") == b"CLIENT_ERROR bad command line format\r\n"
    assert mc.ask(b"get k\r\n") == b"END\r\n"  # the data block "v" was dropped, not run as a command
    long_key = b"k" * 251
    assert mc.ask(b"get " + long_key + b"\r\n") == b"CLIENT_ERROR bad command line format\r\n"
    assert mc.ask(b"set k 0 0 1\r\nabc\r\n") == b"CLIENT_ERROR bad data chunk\r\n"
    assert mc.ask(b"get k\r\n") == b"END\r\n"


def test_memory_is_bounded(mc: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    too_big = lab_memcached.MAX_VALUE + 1
    answer = mc.ask(b"set big 0 0 %d\r\n" % too_big + b"z" * too_big + b"\r\n")
    assert answer == b"SERVER_ERROR object too large for cache\r\n"
    assert mc.ask(b"get big\r\n") == b"END\r\n"  # and the block was not taken for commands
    monkeypatch.setattr(lab_memcached, "MAX_ITEMS", 3)
    for key in (b"a", b"b", b"c"):
        mc.ask(b"set %s 0 0 1\r\nx\r\n" % key)
    mc.ask(b"get a\r\n", b"END\r\n")  # a is now the most recently used
    mc.ask(b"set d 0 0 1\r\nx\r\n")
    assert mc.ask(b"get a b c d\r\n", b"END\r\n").count(b"VALUE") == 3
    assert b"VALUE b" not in mc.ask(b"get b\r\n", b"END\r\n")  # the least recently used went


def test_quit_closes_and_long_lines_are_refused(lab: Lab) -> None:
    port = lab["memcached"].port
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"version\r\nquit\r\nversion\r\n")
        assert read_until_eof(sock).count(b"VERSION") == 1
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"get " + b"x" * 10_000)
        assert read_until_eof(sock) == b"CLIENT_ERROR line too long\r\n"


def test_garbage_and_resets_leave_the_server_serving(lab: Lab) -> None:
    port = lab["memcached"].port
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(bytes(range(256)) * 4 + b"\r\nquit\r\n")
        assert b"ERROR" in read_until_eof(sock)
    reset = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    reset.sendall(b"set half 0 0 100\r\nonly some")
    reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    reset.close()
    client = Client(port)
    assert client.ask(b"version\r\n").startswith(b"VERSION")
    client.close()


def test_a_multi_get_is_written_as_the_client_reads(lab: Lab) -> None:
    """get of 200 keys of 1 MiB each: answered piece by piece, never 200 MiB at once."""
    port = lab["memcached"].port
    client = Client(port)
    value = b"m" * lab_memcached.MAX_VALUE
    for index in range(3):
        client.ask(b"set big%d 0 0 %d\r\n" % (index, len(value)) + value + b"\r\n")
    keys = b" ".join(b"big%d" % (n % 3) for n in range(200))
    client.sock.sendall(b"get " + keys + b"\r\nversion\r\n")
    buffered = write_buffer_once_stalled(lab["memcached"])
    assert buffered < 4 * lab_memcached.MAX_VALUE
    answer = client.ask(b"", b"END\r\n")
    assert answer.count(b"VALUE big") == 200 and len(answer) > 200 * len(value)
    assert client.ask(b"", b"\r\n").startswith(b"VERSION")  # the next request, answered after
    client.close()
