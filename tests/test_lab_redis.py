"""The lab's Redis server against redis-cli and raw RESP over real loopback sockets."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from netbench.core.resp import (
    Array,
    BulkString,
    Error,
    Integer,
    ReplyParser,
    SimpleString,
    Value,
    encode_command,
)
from netbench.lab import Lab, running
from netbench.lab import redis as lab_redis
from tests.support.lab_clients import optional_binary, write_buffer_once_stalled
from tests.support.sockets import read_until_eof

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("redis") as servers:
        yield servers


class Client:
    """A raw RESP client: sends bytes, reads whole replies with the project's parser."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.parser = ReplyParser()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def replies(self, count: int) -> list[Value]:
        got: list[Value] = []
        while len(got) < count:
            got += self.parser.values()
            if len(got) >= count:
                break
            chunk = self.sock.recv(65536)
            assert chunk, f"closed after {got}"
            self.parser.feed(chunk)
        return got

    def call(self, *args: str | bytes) -> Value:
        self.send(encode_command(*args))
        return self.replies(1)[0]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client(lab: Lab) -> Iterator[Client]:
    one = Client(lab["redis"].port)
    one.call("FLUSHALL")
    yield one
    one.close()


def test_ping_echo_set_get(client: Client) -> None:
    assert client.call("PING") == SimpleString("PONG")
    assert client.call("ping", "hi") == BulkString(b"hi")
    assert client.call("ECHO", "a\r\nb") == BulkString(b"a\r\nb")
    assert client.call("SET", "a", "1") == SimpleString("OK")
    assert client.call("GET", "a") == BulkString(b"1")
    assert client.call("GET", "missing") == BulkString(None)


def test_inline_commands_typed_by_hand_and_pipelined(client: Client) -> None:
    client.send(b'SET greeting "hello world"\r\nGET greeting\nINCR n\r\n\r\nINCR n\r\n')
    assert client.replies(4) == [SimpleString("OK"), BulkString(b"hello world"), Integer(1), Integer(2)]


def test_set_options_nx_xx_ex_px(client: Client) -> None:
    assert client.call("SET", "k", "v", "XX") == BulkString(None)
    assert client.call("SET", "k", "v", "NX") == SimpleString("OK")
    assert client.call("SET", "k", "w", "NX") == BulkString(None)
    assert client.call("SET", "k", "w", "XX", "EX", "100") == SimpleString("OK")
    ttl = client.call("TTL", "k")
    assert isinstance(ttl, Integer) and 99 <= ttl.value <= 100
    assert client.call("SET", "k", "v", "EX", "0") == Error("ERR invalid expire time in 'set' command")
    assert client.call("SET", "k", "v", "EX", "soon") == Error("ERR value is not an integer or out of range")
    assert client.call("SET", "k", "v", "BOGUS") == Error("ERR syntax error")
    assert client.call("SET", "short", "v", "PX", "50") == SimpleString("OK")
    time.sleep(0.2)
    assert client.call("GET", "short") == BulkString(None)
    assert client.call("TTL", "short") == Integer(-2)


def test_counter_and_expiry(client: Client) -> None:
    assert client.call("INCR", "hits") == Integer(1)
    assert client.call("DECR", "hits") == Integer(0)
    assert client.call("DECR", "hits") == Integer(-1)
    assert client.call("TTL", "hits") == Integer(-1)
    assert client.call("EXPIRE", "hits", "60") == Integer(1)
    assert client.call("EXPIRE", "nothing", "60") == Integer(0)
    assert client.call("INCR", "hits") == Integer(0)
    assert client.call("TTL", "hits") == Integer(60)  # INCR keeps the time to live
    client.call("SET", "word", "abc")
    assert client.call("INCR", "word") == Error("ERR value is not an integer or out of range")
    client.call("SET", "big", str(2**63 - 1))
    assert client.call("INCR", "big") == Error("ERR increment or decrement would overflow")


def test_del_exists_keys_flushall(client: Client) -> None:
    for key in ("user:1", "user:2", "other"):
        client.call("SET", key, "x")
    assert client.call("EXISTS", "user:1", "user:2", "nope") == Integer(2)
    keys = client.call("KEYS", "user:*")
    assert isinstance(keys, Array) and set(keys.items or ()) == {BulkString(b"user:1"), BulkString(b"user:2")}
    assert client.call("DEL", "user:1", "nope") == Integer(1)
    assert client.call("FLUSHALL") == SimpleString("OK")
    assert client.call("KEYS", "*") == Array(())


def test_lists_hashes_and_wrongtype(client: Client) -> None:
    assert client.call("LPUSH", "l", "a", "b", "c") == Integer(3)
    assert client.call("LRANGE", "l", "0", "-1") == Array(
        (BulkString(b"c"), BulkString(b"b"), BulkString(b"a"))
    )
    assert client.call("LRANGE", "l", "-2", "5") == Array((BulkString(b"b"), BulkString(b"a")))
    assert client.call("LRANGE", "l", "0", "-9") == Array(())
    assert client.call("HSET", "h", "f", "1", "g", "2") == Integer(2)
    assert client.call("HSET", "h", "f", "3") == Integer(0)
    assert client.call("HGET", "h", "f") == BulkString(b"3")
    assert client.call("HGET", "h", "zz") == BulkString(None)
    wrongtype = Error("WRONGTYPE Operation against a key holding the wrong kind of value")
    assert client.call("GET", "l") == wrongtype
    assert client.call("LPUSH", "h", "x") == wrongtype
    assert client.call("HSET", "l", "f", "v") == wrongtype
    assert client.call("HGET", "l", "f") == wrongtype
    assert client.call("INCR", "h") == wrongtype


def test_real_error_replies(client: Client) -> None:
    assert client.call("FOO", "bar", "baz") == Error(
        "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' "
    )
    assert client.call("GET") == Error("ERR wrong number of arguments for 'get' command")
    assert client.call("HSET", "h", "f") == Error("ERR wrong number of arguments for 'hset' command")


def test_quit_answers_ok_then_closes(lab: Lab) -> None:
    with socket.create_connection(("127.0.0.1", lab["redis"].port), timeout=TIMEOUT) as sock:
        sock.sendall(b"QUIT\r\nPING\r\n")
        assert read_until_eof(sock) == b"+OK\r\n"


def test_a_protocol_error_is_reported_and_closes(lab: Lab) -> None:
    with socket.create_connection(("127.0.0.1", lab["redis"].port), timeout=TIMEOUT) as sock:
        sock.sendall(b"*1\r\n:5\r\n")
        assert read_until_eof(sock).startswith(b"-ERR Protocol error: expected '$'")
    with socket.create_connection(("127.0.0.1", lab["redis"].port), timeout=TIMEOUT) as sock:
        sock.sendall(b'SET "a\r\n')
        assert b"unbalanced quotes" in read_until_eof(sock)


def test_garbage_floods_and_resets_leave_the_server_serving(lab: Lab) -> None:
    port = lab["redis"].port
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"x" * (200 * 1024))  # one endless inline line
        assert b"too big" in read_until_eof(sock)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"*1\r\n$99999999\r\n" + b"y" * (1200 * 1024))
        assert b"too big" in read_until_eof(sock)
    reset = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    reset.sendall(b"*3\r\n$3\r\nSET")
    reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    reset.close()  # RST mid-request
    fresh = Client(port)
    assert fresh.call("PING") == SimpleString("PONG")
    fresh.close()


def test_memory_is_bounded(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    oom = Error("OOM command not allowed when used memory > 'maxmemory'.")
    assert client.call("SET", "big", b"x" * (lab_redis.MAX_VALUE + 1)) == oom
    monkeypatch.setattr(lab_redis, "MAX_KEYS", 3)
    for index in range(3):
        assert client.call("SET", f"k{index}", "v") == SimpleString("OK")
    assert client.call("SET", "k3", "v") == oom
    assert client.call("SET", "k0", "overwrite is fine") == SimpleString("OK")
    assert client.call("LPUSH", "newlist", "v") == oom
    client.call("DEL", "k2")
    assert client.call("HSET", "hash", "f", "v") == Integer(1)


def test_keyspace_accounting_returns_to_zero() -> None:
    keys = lab_redis.Keyspace()
    for args in (
        [b"SET", b"a", b"12345"],
        [b"LPUSH", b"l", b"x", b"yy"],
        [b"HSET", b"h", b"f", b"v", b"f", b"vv"],
        [b"INCR", b"n"],
        [b"SET", b"a", b"1"],
    ):
        lab_redis.execute(keys, args)
    assert keys.used == sum(lab_redis.entry_size(k, v) for k, v in keys.values.items())
    lab_redis.execute(keys, [b"DEL", b"a", b"l", b"h", b"n"])
    assert keys.used == 0 and not keys.values


@pytest.fixture
def redis_cli() -> str:
    return optional_binary("redis-cli", "redis-tools")


def cli(path: str, port: int, *args: str) -> str:
    done = subprocess.run(
        [path, "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_redis_cli_talks_to_the_lab(lab: Lab, redis_cli: str) -> None:
    port = lab["redis"].port
    assert cli(redis_cli, port, "PING") == "PONG\n"
    assert cli(redis_cli, port, "SET", "cli:a", "1", "EX", "30") == "OK\n"
    assert cli(redis_cli, port, "INCR", "cli:a") == "2\n"
    assert cli(redis_cli, port, "--no-raw", "GET", "cli:a") == '"2"\n'
    assert cli(redis_cli, port, "--no-raw", "GET", "cli:none") == "(nil)\n"
    assert cli(redis_cli, port, "RPUSH", "x").startswith("ERR unknown command 'RPUSH'")
    cli(redis_cli, port, "LPUSH", "cli:l", "a", "b")
    assert cli(redis_cli, port, "--no-raw", "LRANGE", "cli:l", "0", "-1") == '1) "b"\n2) "a"\n'
    assert cli(redis_cli, port, "DEL", "cli:a", "cli:l") == "2\n"


def test_redis_cli_pipe_mode_sends_many_commands(lab: Lab, redis_cli: str) -> None:
    commands = "".join(f"SET pipe:{n} {n}\r\n" for n in range(500))
    done = subprocess.run(
        [redis_cli, "-h", "127.0.0.1", "-p", str(lab["redis"].port), "--pipe"],
        input=commands,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    assert "errors: 0, replies: 500" in done.stdout, done.stdout + done.stderr


def test_a_client_that_does_not_read_cannot_pile_answers_up(lab: Lab) -> None:
    """100 pipelined GETs of a 1 MiB value: the server answers as the client reads, not all at once."""
    port = lab["redis"].port
    client = Client(port)
    assert client.call("SET", "big", b"v" * lab_redis.MAX_VALUE) == SimpleString("OK")
    client.send(b"GET big\r\n" * 100)
    buffered = write_buffer_once_stalled(lab["redis"])
    assert buffered < 4 * lab_redis.MAX_VALUE
    replies = client.replies(100)
    assert replies == [BulkString(b"v" * lab_redis.MAX_VALUE)] * 100
    client.close()
