"""The lab's memcached server: the classic text protocol over TCP.

Commands: ``set``/``add``/``replace``/``append``/``prepend`` and ``cas``
(``<cmd> <key> <flags> <exptime> <bytes> [cas-unique] [noreply]``, then the
data block and CRLF), ``get``/``gets``, ``delete``, ``incr``/``decr``,
``touch``, ``flush_all``, ``version``, ``quit``; replies as memcached's
protocol.txt states them: ``STORED``, ``NOT_STORED``, ``EXISTS``,
``NOT_FOUND``, ``DELETED``, ``TOUCHED``, ``END``, ``ERROR`` (an unknown
command), ``CLIENT_ERROR ...``, ``SERVER_ERROR ...``.

Bounds, as a real memcached has them: keys of at most 250 bytes, items of at
most :data:`MAX_VALUE` bytes (``SERVER_ERROR object too large for cache``,
the data block is read and dropped), :data:`MAX_ITEMS` items and
:data:`MAX_BYTES` bytes in all (the least recently used items are evicted),
command lines of :data:`MAX_LINE` bytes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from netbench.lab.base import Connections
from netbench.lab.shared import BufferedStream, per_server

MAX_KEY = 250
MAX_VALUE = 1024 * 1024
MAX_ITEMS = 10_000
MAX_BYTES = 64 * 1024 * 1024
MAX_LINE = 2048
RELATIVE_LIMIT = 60 * 60 * 24 * 30  # exptimes up to 30 days are relative, larger ones Unix times
VERSION = b"1.6.21-netbench-lab"
STORAGE = (b"set", b"add", b"replace", b"append", b"prepend", b"cas")


@dataclass
class Item:
    flags: int
    deadline: float | None  # time.time() after which the item is gone
    data: bytes
    cas: int


class Cache:
    """The items of one lab memcached, least recently used first."""

    def __init__(self) -> None:
        self.items: OrderedDict[bytes, Item] = OrderedDict()
        self.used = 0
        self.next_cas = 1
        self.flushed_at: float | None = None

    def get(self, key: bytes) -> Item | None:
        item = self.items.get(key)
        if item is None:
            return None
        now = time.time()
        if (item.deadline is not None and item.deadline <= now) or (
            self.flushed_at is not None and self.flushed_at <= now
        ):
            self.delete(key)
            return None
        self.items.move_to_end(key)
        return item

    def delete(self, key: bytes) -> bool:
        item = self.items.pop(key, None)
        if item is None:
            return False
        self.used -= len(key) + len(item.data)
        return True

    def store(self, key: bytes, flags: int, deadline: float | None, data: bytes) -> None:
        self.delete(key)
        while self.items and (len(self.items) >= MAX_ITEMS or self.used + len(key) + len(data) > MAX_BYTES):
            oldest = next(iter(self.items))
            self.delete(oldest)  # evict the least recently used, as memcached does
        self.items[key] = Item(flags, deadline, data, self.next_cas)
        self.next_cas += 1
        self.used += len(key) + len(data)

    def flush(self, delay: int) -> None:
        if delay <= 0:
            self.items.clear()
            self.used = 0
            self.flushed_at = None
        else:
            self.flushed_at = time.time() + delay


def deadline_of(exptime: int) -> float | None:
    """memcached's exptime: 0 never, up to 30 days relative seconds, else a Unix time; negative: now."""
    if exptime == 0:
        return None
    if exptime < 0:
        return time.time() - 1
    return time.time() + exptime if exptime <= RELATIVE_LIMIT else float(exptime)


def _number(text: bytes, bits: int, signed: bool = False) -> int | None:
    body = text[1:] if signed and text[:1] == b"-" else text
    if not body.isdigit() or len(body) > 20:
        return None
    value = int(text)
    low = -(2 ** (bits - 1)) if signed else 0
    high = 2 ** (bits - 1) if signed else 2**bits
    return value if low <= value < high else None


def valid_key(key: bytes) -> bool:
    """At most 250 bytes, no spaces or control characters."""
    return 0 < len(key) <= MAX_KEY and all(32 < byte != 127 for byte in key)


BAD_FORMAT = b"CLIENT_ERROR bad command line format\r\n"


def values(cache: Cache, keys: list[bytes], *, with_cas: bool) -> Iterator[bytes]:
    """The answer to ``get``/``gets``: a ``VALUE`` block per key found, then ``END``."""
    for key in keys:
        item = cache.get(key)
        if item is not None:
            cas = b" %d" % item.cas if with_cas else b""
            yield b"VALUE %s %d %d%s\r\n%s\r\n" % (key, item.flags, len(item.data), cas, item.data)
    yield b"END\r\n"


class MemcachedStream(BufferedStream):
    """One memcached client connection."""

    max_buffer = MAX_VALUE + MAX_LINE + 64

    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.waiting: tuple[bytes, bytes, int, float | None, int, int | None, bool] | None = None
        """A storage command whose data block is awaited: cmd, key, flags, deadline, size, cas, noreply."""
        self.swallow = 0  # bytes of a refused data block still to drop

    def process(self) -> None:
        out = bytearray()
        while not self.lingering and not self.write_paused and self.pending is None:
            if self.swallow:
                dropped = min(self.swallow, len(self.buffer))
                del self.buffer[:dropped]
                self.swallow -= dropped
                if self.swallow:
                    break
            if self.waiting is not None:
                size = self.waiting[4]
                if len(self.buffer) < size + 2:
                    break
                block = bytes(self.buffer[: size + 2])
                del self.buffer[: size + 2]
                out += self._store(block)
                continue
            end = self.buffer.find(b"\n")
            if end < 0:
                if len(self.buffer) > MAX_LINE:
                    out += b"CLIENT_ERROR line too long\r\n"
                    self.send(bytes(out))
                    self.close_gracefully()
                    return
                break
            line = bytes(self.buffer[:end]).rstrip(b"\r")
            del self.buffer[: end + 1]
            words = line.split()
            if words and words[0] == b"quit":
                self.send(bytes(out))
                self.close_gracefully()
                return
            out += self.command(words)
        if out:
            self.send(bytes(out))

    def command(self, words: list[bytes]) -> bytes:
        if not words:
            return b"ERROR\r\n"
        name, args = words[0], words[1:]
        if self.state.log is not None:
            self.note(f"memcached {name[:16].decode('ascii', 'replace')!r}")
        cache = per_server(self.state, Cache)
        if name in STORAGE:
            return self._storage(name, args)
        if name in (b"get", b"gets"):
            if not args or not all(valid_key(key) for key in args):
                return b"ERROR\r\n" if not args else BAD_FORMAT
            if len(args) == 1:
                return b"".join(values(cache, args, with_cas=name == b"gets"))
            # many keys of up to 1 MiB each: written one value at a time, as the client reads
            self.pending = values(cache, args, with_cas=name == b"gets")
            return b""
        noreply = bool(args) and args[-1] == b"noreply"
        if noreply:
            args = args[:-1]
        answer = self._other(cache, name, args)
        return b"" if noreply and not answer.startswith(b"ERROR") else answer

    def _other(self, cache: Cache, name: bytes, args: list[bytes]) -> bytes:
        if name == b"delete":
            if len(args) != 1 or not valid_key(args[0]):
                return BAD_FORMAT
            return (
                b"DELETED\r\n"
                if cache.get(args[0]) is not None and cache.delete(args[0])
                else b"NOT_FOUND\r\n"
            )
        if name in (b"incr", b"decr"):
            if len(args) != 2 or not valid_key(args[0]):
                return BAD_FORMAT
            delta = _number(args[1], 64)
            if delta is None:
                return b"CLIENT_ERROR invalid numeric delta argument\r\n"
            item = cache.get(args[0])
            if item is None:
                return b"NOT_FOUND\r\n"
            current = _number(item.data, 64)
            if current is None:
                return b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
            value = (current + delta) % 2**64 if name == b"incr" else max(current - delta, 0)
            cache.store(args[0], item.flags, item.deadline, b"%d" % value)
            return b"%d\r\n" % value
        if name == b"touch":
            exptime = _number(args[1], 32, signed=True) if len(args) == 2 else None
            if exptime is None or not valid_key(args[0]):
                return BAD_FORMAT
            item = cache.get(args[0])
            if item is None:
                return b"NOT_FOUND\r\n"
            item.deadline = deadline_of(exptime)
            return b"TOUCHED\r\n"
        if name == b"flush_all":
            delay = _number(args[0], 32) if args else 0
            if delay is None or len(args) > 1:
                return BAD_FORMAT
            cache.flush(delay)
            return b"OK\r\n"
        if name == b"version":
            return b"VERSION %s\r\n" % VERSION
        return b"ERROR\r\n"

    def _storage(self, name: bytes, args: list[bytes]) -> bytes:
        noreply = bool(args) and args[-1] == b"noreply"
        if noreply:
            args = args[:-1]
        expected = 5 if name == b"cas" else 4
        if len(args) != expected:
            return b"ERROR\r\n"
        key = args[0]
        flags, exptime, size = _number(args[1], 32), _number(args[2], 32, signed=True), _number(args[3], 32)
        cas = _number(args[4], 64) if name == b"cas" else None
        if (
            not valid_key(key)
            or flags is None
            or exptime is None
            or size is None
            or (name == b"cas" and cas is None)
        ):
            if size is not None and size <= MAX_VALUE:
                self.swallow = size + 2  # the data block that follows is not a command
            return BAD_FORMAT
        if size > MAX_VALUE:
            self.swallow = size + 2
            return b"SERVER_ERROR object too large for cache\r\n"
        self.waiting = (name, key, flags, deadline_of(exptime), size, cas, noreply)
        return b""

    def _store(self, block: bytes) -> bytes:
        assert self.waiting is not None
        name, key, flags, deadline, size, cas, noreply = self.waiting
        self.waiting = None
        if block[size:] != b"\r\n":
            self.buffer[:0] = block[size:]  # memcached swallows up to the next line; so do we
            end = self.buffer.find(b"\n")
            if end >= 0:
                del self.buffer[: end + 1]
            return b"CLIENT_ERROR bad data chunk\r\n"
        data = block[:size]
        cache = per_server(self.state, Cache)
        item = cache.get(key)
        if name == b"cas":
            if item is None:
                answer = b"NOT_FOUND\r\n"
            elif item.cas != cas:
                answer = b"EXISTS\r\n"
            else:
                cache.store(key, flags, deadline, data)
                answer = b"STORED\r\n"
        elif (name == b"add" and item is not None) or (name != b"set" and name != b"add" and item is None):
            answer = b"NOT_STORED\r\n"
        elif name in (b"append", b"prepend"):
            assert item is not None
            joined = item.data + data if name == b"append" else data + item.data
            if len(joined) > MAX_VALUE:
                answer = b"SERVER_ERROR object too large for cache\r\n"
            else:
                cache.store(key, item.flags, item.deadline, joined)
                answer = b"STORED\r\n"
        else:
            cache.store(key, flags, deadline, data)
            answer = b"STORED\r\n"
        return b"" if noreply else answer
