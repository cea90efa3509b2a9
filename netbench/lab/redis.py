"""The lab's Redis server: RESP2 (and inline commands typed by hand) over TCP.

Commands: PING, ECHO, SET (EX/PX/NX/XX), GET, DEL, EXISTS, INCR/DECR,
EXPIRE/TTL, KEYS, LPUSH/LRANGE, HSET/HGET, FLUSHALL, QUIT (and COMMAND, as
redis-cli asks for it), with Redis's own error replies: ``-ERR unknown
command 'x', with args beginning with: ...``, ``-ERR wrong number of
arguments for 'get' command``, ``-WRONGTYPE ...``. Every connection of one
server shares one keyspace (:class:`Keyspace`). Memory is bounded: a value
of at most :data:`MAX_VALUE` bytes, :data:`MAX_KEYS` keys and
:data:`MAX_BYTES` bytes in all, past which writes get ``-OOM`` as a Redis
with ``maxmemory`` and no eviction answers. A malformed request gets
``-ERR Protocol error: ...`` and the connection closes, as in Redis.
"""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Callable
from typing import TypeVar

from netbench.core import resp
from netbench.core.resp import Array, BulkString, Error, Integer, SimpleString, Value
from netbench.errors import ProtocolError
from netbench.lab.shared import BufferedStream, per_server

MAX_VALUE = 1024 * 1024
MAX_KEYS = 10_000
MAX_BYTES = 64 * 1024 * 1024
MAX_ARGS = 1024
FLUSH_AT = 64 * 1024  # answers are written once this many bytes are ready

OK = SimpleString("OK")
NIL = BulkString(None)
WRONGTYPE = Error("WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_INTEGER = Error("ERR value is not an integer or out of range")
SYNTAX = Error("ERR syntax error")
OOM = Error("OOM command not allowed when used memory > 'maxmemory'.")

Entry = bytes | list[bytes] | dict[bytes, bytes]


def entry_size(key: bytes, value: Entry) -> int:
    """Bytes *key* and *value* count for against :data:`MAX_BYTES`."""
    if isinstance(value, bytes):
        return len(key) + len(value)
    if isinstance(value, list):
        return len(key) + sum(len(item) for item in value)
    return len(key) + sum(len(field) + len(item) for field, item in value.items())


def _integer(text: bytes) -> int | None:
    """Redis's integer syntax: optional minus, digits, within a signed 64-bit range."""
    body = text[1:] if text[:1] == b"-" else text
    if not body.isdigit() or (len(body) > 1 and body[:1] == b"0"):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


class Keyspace:
    """The keys of one lab Redis: values, deadlines (monotonic seconds), and the bytes used."""

    def __init__(self) -> None:
        self.values: dict[bytes, Entry] = {}
        self.deadlines: dict[bytes, float] = {}
        self.used = 0

    def get(self, key: bytes) -> Entry | None:
        """The live value of *key* (an expired key is removed first)."""
        deadline = self.deadlines.get(key)
        if deadline is not None and deadline <= time.monotonic():
            self.delete(key)
        return self.values.get(key)

    def delete(self, key: bytes) -> bool:
        value = self.values.pop(key, None)
        self.deadlines.pop(key, None)
        if value is None:
            return False
        self.used -= entry_size(key, value)
        return True

    def room_for(self, key: bytes, extra: int) -> bool:
        """True when *extra* more bytes (and *key*, if new) fit under the caps."""
        if self.used + extra <= MAX_BYTES and (key in self.values or len(self.values) < MAX_KEYS):
            return True
        for name in [k for k in self.deadlines if self.deadlines[k] <= time.monotonic()]:
            self.delete(name)  # expired keys first make room
        return self.used + extra <= MAX_BYTES and (key in self.values or len(self.values) < MAX_KEYS)

    def put(self, key: bytes, value: Entry, *, keep_ttl: bool = False) -> None:
        deadline = self.deadlines.get(key) if keep_ttl else None
        self.delete(key)
        self.values[key] = value
        self.used += entry_size(key, value)
        if deadline is not None:
            self.deadlines[key] = deadline

    def clear(self) -> None:
        self.values.clear()
        self.deadlines.clear()
        self.used = 0


Handler = Callable[[Keyspace, list[bytes]], Value]
COMMANDS: dict[str, tuple[int, Handler]] = {}
"""Command name -> (arity, handler); arity as Redis states it: N exact, -N at least N (with the name)."""


def command(name: str, arity: int) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (arity, handler)
        return handler

    return register


@command("ping", -1)
def _ping(keys: Keyspace, args: list[bytes]) -> Value:
    if len(args) > 2:
        return Error("ERR wrong number of arguments for 'ping' command")
    return BulkString(args[1]) if len(args) == 2 else SimpleString("PONG")


@command("echo", 2)
def _echo(keys: Keyspace, args: list[bytes]) -> Value:
    return BulkString(args[1])


@command("command", -1)
def _command(keys: Keyspace, args: list[bytes]) -> Value:
    return Array(())  # redis-cli asks for command docs; it does without them


@command("set", -3)
def _set(keys: Keyspace, args: list[bytes]) -> Value:
    key, value = args[1], args[2]
    ttl: float | None = None
    condition: bytes | None = None
    keep_ttl = False
    options = iter(args[3:])
    for option in options:
        word = option.upper()
        if word in (b"NX", b"XX") and condition is None:
            condition = word
        elif word == b"KEEPTTL" and ttl is None:
            keep_ttl = True
        elif word in (b"EX", b"PX") and ttl is None and not keep_ttl:
            amount = _integer(next(options, b""))
            if amount is None:
                return NOT_INTEGER
            if amount <= 0:
                return Error("ERR invalid expire time in 'set' command")
            ttl = amount if word == b"EX" else amount / 1000
        else:
            return SYNTAX
    exists = keys.get(key) is not None
    if (condition == b"NX" and exists) or (condition == b"XX" and not exists):
        return NIL
    if len(value) > MAX_VALUE or not keys.room_for(key, len(key) + len(value)):
        return OOM
    keys.put(key, value, keep_ttl=keep_ttl)
    if ttl is not None:
        keys.deadlines[key] = time.monotonic() + ttl
    return OK


@command("get", 2)
def _get(keys: Keyspace, args: list[bytes]) -> Value:
    value = keys.get(args[1])
    if value is None:
        return NIL
    return BulkString(value) if isinstance(value, bytes) else WRONGTYPE


@command("del", -2)
def _del(keys: Keyspace, args: list[bytes]) -> Value:
    return Integer(sum(keys.get(key) is not None and keys.delete(key) for key in args[1:]))


@command("exists", -2)
def _exists(keys: Keyspace, args: list[bytes]) -> Value:
    return Integer(sum(keys.get(key) is not None for key in args[1:]))


def _add(keys: Keyspace, key: bytes, delta: int) -> Value:
    value = keys.get(key)
    if value is not None and not isinstance(value, bytes):
        return WRONGTYPE
    number = _integer(value) if value is not None else 0
    if number is None:
        return NOT_INTEGER
    if not -(2**63) <= number + delta < 2**63:
        return Error("ERR increment or decrement would overflow")
    if not keys.room_for(key, len(key) + 20):
        return OOM
    keys.put(key, b"%d" % (number + delta), keep_ttl=True)
    return Integer(number + delta)


@command("incr", 2)
def _incr(keys: Keyspace, args: list[bytes]) -> Value:
    return _add(keys, args[1], 1)


@command("decr", 2)
def _decr(keys: Keyspace, args: list[bytes]) -> Value:
    return _add(keys, args[1], -1)


@command("expire", 3)
def _expire(keys: Keyspace, args: list[bytes]) -> Value:
    seconds = _integer(args[2])
    if seconds is None:
        return NOT_INTEGER
    if keys.get(args[1]) is None:
        return Integer(0)
    if seconds <= 0:
        keys.delete(args[1])
    else:
        keys.deadlines[args[1]] = time.monotonic() + seconds
    return Integer(1)


@command("ttl", 2)
def _ttl(keys: Keyspace, args: list[bytes]) -> Value:
    if keys.get(args[1]) is None:
        return Integer(-2)
    deadline = keys.deadlines.get(args[1])
    if deadline is None:
        return Integer(-1)
    return Integer(max(0, math.floor(deadline - time.monotonic() + 0.5)))


@command("keys", 2)
def _keys(keys: Keyspace, args: list[bytes]) -> Value:
    pattern = args[1].decode("latin-1")
    found = [key for key in list(keys.values) if keys.get(key) is not None]
    return Array(
        tuple(BulkString(key) for key in found if fnmatch.fnmatchcase(key.decode("latin-1"), pattern))
    )


Container = TypeVar("Container", list[bytes], dict[bytes, bytes])


def _writable(keys: Keyspace, key: bytes, kind: type[Container], items: list[bytes]) -> Container | Error:
    """The *kind* value at *key* that *items* are about to be written into (stored empty when
    the key is missing), or the reply instead: WRONGTYPE when the key holds another kind,
    OOM when an item or the total would pass the caps. LPUSH and HSET share it."""
    value = keys.get(key)
    if value is not None and not isinstance(value, kind):
        return WRONGTYPE
    extra = sum(len(item) for item in items) + (0 if value is not None else len(key))
    if any(len(item) > MAX_VALUE for item in items) or not keys.room_for(key, extra):
        return OOM
    if value is None:
        value = kind()
        keys.put(key, value)
    return value


@command("lpush", -3)
def _lpush(keys: Keyspace, args: list[bytes]) -> Value:
    key, items = args[1], args[2:]
    value = _writable(keys, key, list, items)
    if isinstance(value, Error):
        return value
    value[:0] = reversed(items)
    keys.used += sum(len(item) for item in items)
    return Integer(len(value))


@command("lrange", 4)
def _lrange(keys: Keyspace, args: list[bytes]) -> Value:
    start, stop = _integer(args[2]), _integer(args[3])
    if start is None or stop is None:
        return NOT_INTEGER
    value = keys.get(args[1])
    if value is None:
        return Array(())
    if not isinstance(value, list):
        return WRONGTYPE
    size = len(value)
    start = max(start + size if start < 0 else start, 0)
    stop = stop + size if stop < 0 else min(stop, size - 1)
    if start > stop:
        return Array(())
    return Array(tuple(BulkString(item) for item in value[start : stop + 1]))


@command("hset", -4)
def _hset(keys: Keyspace, args: list[bytes]) -> Value:
    if len(args) % 2:
        return Error("ERR wrong number of arguments for 'hset' command")
    key, pairs = args[1], args[2:]
    value = _writable(keys, key, dict, pairs)
    if isinstance(value, Error):
        return value
    added = 0
    for field, item in zip(pairs[::2], pairs[1::2], strict=True):
        old = value.get(field)
        keys.used += len(item) - (len(old) if old is not None else -len(field))
        added += old is None
        value[field] = item
    return Integer(added)


@command("hget", 3)
def _hget(keys: Keyspace, args: list[bytes]) -> Value:
    value = keys.get(args[1])
    if value is None:
        return NIL
    if not isinstance(value, dict):
        return WRONGTYPE
    item = value.get(args[2])
    return BulkString(item) if item is not None else NIL


@command("flushall", -1)
def _flushall(keys: Keyspace, args: list[bytes]) -> Value:
    keys.clear()
    return OK


def _quoted_args(args: list[bytes]) -> str:
    shown = [repr(arg.decode("utf-8", "replace")[:128])[1:-1] for arg in args[:16]]
    return "".join(f"'{text}' " for text in shown)


def execute(keys: Keyspace, args: list[bytes]) -> Value:
    """Run one command (``args[0]`` its name, any case) against *keys*; return the reply."""
    name = args[0].decode("utf-8", "replace")
    found = COMMANDS.get(name.lower())
    if found is None:
        shown = repr(name[:128])[1:-1]
        return Error(f"ERR unknown command '{shown}', with args beginning with: {_quoted_args(args[1:])}")
    arity, handler = found
    if (arity > 0 and len(args) != arity) or (arity < 0 and len(args) < -arity):
        return Error(f"ERR wrong number of arguments for '{name.lower()}' command")
    return handler(keys, args)


class RedisStream(BufferedStream):
    """One Redis client connection: requests in, RESP2 replies out, in order."""

    max_buffer = MAX_VALUE + 64 * 1024

    def process(self) -> None:
        keys = per_server(self.state, Keyspace)
        out = bytearray()
        while self.buffer and not self.lingering and not self.write_paused:
            try:
                found = resp.parse_request(self.buffer)
            except ProtocolError as error:
                self.buffer.clear()
                out += resp.encode(Error(f"ERR {error}"))
                self.send(bytes(out))
                self.close_gracefully()
                return
            if found is None:
                break
            args, used = found
            del self.buffer[:used]
            if not args:
                continue  # an empty inline line: Redis ignores it
            if len(args) > MAX_ARGS:
                out += resp.encode(Error(f"ERR too many arguments (at most {MAX_ARGS} in the lab)"))
                continue
            if self.state.log is not None:
                self.note(f"{args[0].decode('utf-8', 'replace')[:32]!r} ({len(args) - 1} args)")
            if args[0].lower() == b"quit":
                out += resp.encode(OK)
                self.send(bytes(out))
                self.close_gracefully()
                return
            out += resp.encode(execute(keys, args))
            if len(out) >= FLUSH_AT:
                self.send(bytes(out))  # may pause writing: then the loop stops
                out.clear()
        if out:
            self.send(bytes(out))

    def overflow(self) -> None:
        self.send(resp.encode(Error("ERR Protocol error: request too big for the lab")))
        self.close_gracefully()
