"""RESP2, the Redis serialization protocol (sans-IO): encode, parse, render.

The grammar (https://redis.io/docs/latest/develop/reference/protocol-spec/):
every value starts with a type byte and ends with CRLF: ``+OK`` a simple
string, ``-ERR ...`` an error, ``:42`` an integer, ``$3\\r\\nfoo`` a bulk
string (``$-1`` the null bulk string), ``*2`` an array of that many values
(``*-1`` the null array). A client sends a command as an array of bulk
strings (:func:`encode_command`), or as an *inline command*, a plain line
``SET a 1`` (:func:`parse_request` takes both, as a server does). The
values and their encoding are :mod:`netbench.core.resp_values`, re-exported
here.

:class:`ReplyParser` is fed bytes as they arrive and gives whole values;
:func:`render` shows a value one line per value, arrays indented, for a
person (``bulk string "1"``). Nothing here does I/O. Malformed input raises
:class:`~netbench.errors.ProtocolError`; sizes are capped (see
:class:`ReplyParser`) so a lying peer cannot make a parser grow without
bound, and parsing is linear in the bytes however they are split.
"""

from __future__ import annotations

from netbench.core.escape import escape
from netbench.core.resp_values import (
    Array,
    BulkString,
    Error,
    Integer,
    SimpleString,
    Value,
    encode,
    encode_command,
)
from netbench.errors import ProtocolError

__all__ = [  # the values and their encoding (resp_values) stay reachable as resp.X
    "MAX_BULK",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_LINE",
    "MAX_REPLY",
    "MAX_VALUES",
    "TYPE_NAMES",
    "Array",
    "BulkString",
    "Error",
    "Integer",
    "ReplyParser",
    "SimpleString",
    "Value",
    "describe_reply",
    "encode",
    "encode_command",
    "explain",
    "looks_like_resp",
    "parse_request",
    "render",
    "split_inline",
]

MAX_BULK = 512 * 1024 * 1024
"""The largest bulk string accepted (Redis's own proto-max-bulk-len)."""
MAX_LINE = 64 * 1024
"""The longest type line (``+...``, ``-...``, ``:...``, an inline command) accepted."""
MAX_ITEMS = 1024 * 1024
"""The most items an array may declare."""
MAX_DEPTH = 64
"""How deeply arrays may nest."""
MAX_VALUES = 2 * MAX_ITEMS
"""The most values one reply may hold, counting every item of every nested array."""
MAX_REPLY = 1024 * 1024 * 1024
"""The most bytes one reply (a value with everything nested in it) may take on the wire."""


# --- parsing ----------------------------------------------------------------


class ReplyParser:
    """Incremental RESP2 parser: :meth:`feed` bytes, then :meth:`next_value` until None.

    A value split across any number of feeds comes out whole, once. The
    work is linear in the bytes fed, however they are split: a value is
    parsed once, where it lies, and a partial parse is resumed where it
    stopped (the arrays being filled, the bulk string whose bytes are
    awaited, how far the current line was searched for its CRLF), never
    redone from the start of the reply.

    Caps (a reply past one is a :class:`ProtocolError` saying which): a type
    line of :data:`MAX_LINE` bytes, a bulk string of :data:`MAX_BULK` bytes,
    an array of :data:`MAX_ITEMS` items, arrays nested :data:`MAX_DEPTH` deep,
    :data:`MAX_VALUES` values in one reply (every item of every nested array
    counts, arrays too) and :data:`MAX_REPLY` bytes in one reply. So memory
    is bounded whatever the peer declares or sends. After a
    :class:`ProtocolError` the parser is unusable (the stream has lost its
    framing); every later call raises the same error.
    """

    def __init__(self) -> None:
        self._data = bytearray()
        self._pos = 0  # the first byte of _data not parsed yet
        self._scanned = 0  # _data[_pos:_scanned] holds no CRLF (the current line's search resumes here)
        self._done = 0  # bytes of the current reply parsed and dropped from _data
        self._stack: list[tuple[int, list[Value]]] = []  # arrays being filled: (declared count, items)
        self._bulk: int | None = None  # a bulk string's declared size, its bytes not all here yet
        self._values = 0  # values in the current reply so far
        self._error: ProtocolError | None = None

    def feed(self, data: bytes) -> None:
        """Add bytes that arrived."""
        self._data += data

    @property
    def pending(self) -> int:
        """How many bytes are buffered that do not yet make a whole value."""
        return self._done + len(self._data)

    def next_value(self) -> Value | None:
        """The next whole value, or None when more bytes are needed."""
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except ProtocolError as error:
            self._error = error
            raise

    def values(self) -> list[Value]:
        """Every whole value buffered now."""
        out: list[Value] = []
        while (value := self.next_value()) is not None:
            out.append(value)
        return out

    def _next(self) -> Value | None:
        data = self._data
        while True:
            value = self._bulk_value() if self._bulk is not None else self._line_value()
            if value is None:
                self._compact()
                return None
            self._values += 1
            if self._values > MAX_VALUES:
                raise ProtocolError(f"RESP reply of more than {MAX_VALUES} values")
            if self._done + self._pos > MAX_REPLY:
                raise ProtocolError(f"RESP reply longer than {MAX_REPLY} bytes")
            while self._stack:
                count, items = self._stack[-1]
                items.append(value)
                if len(items) < count:
                    break
                self._stack.pop()
                value = Array(tuple(items))
            else:
                del data[: self._pos]
                self._pos = self._scanned = self._done = self._values = 0
                return value

    def _compact(self) -> None:
        """Drop parsed bytes of a reply not yet whole, once they are the larger part of the buffer."""
        if self._pos > 65536 and self._pos * 2 > len(self._data):
            del self._data[: self._pos]
            self._done += self._pos
            self._scanned -= self._pos
            self._pos = 0

    def _bulk_value(self) -> BulkString | None:
        size = self._bulk
        assert size is not None
        start = self._pos
        if len(self._data) < start + size + 2:
            return None
        if self._data[start + size : start + size + 2] != b"\r\n":
            raise ProtocolError(f"RESP bulk string of {size} bytes not followed by CRLF")
        self._bulk = None
        self._pos = self._scanned = start + size + 2
        return BulkString(bytes(self._data[start : start + size]))

    def _line_value(self) -> Value | None:
        """The value of the type line at _pos; None if it is not whole, or starts an array or bulk."""
        data, start = self._data, self._pos
        while True:
            search = max(start, self._scanned - 1)  # a CR may end what was searched, its LF not here yet
            end = data.find(b"\r\n", search, start + MAX_LINE + 2)
            if end < 0:
                if len(data) - start > MAX_LINE + 1:
                    raise ProtocolError(f"RESP line longer than {MAX_LINE} bytes")
                self._scanned = len(data)
                return None
            line = bytes(data[start:end])
            self._pos = self._scanned = start = end + 2
            kind, rest = line[:1], line[1:]
            if kind == b"+":
                return SimpleString(rest.decode("utf-8", "surrogateescape"))
            if kind == b"-":
                return Error(rest.decode("utf-8", "surrogateescape"))
            if kind == b":":
                return Integer(_number(rest, "integer"))
            if kind == b"$":
                size = _number(rest, "bulk length")
                if size == -1:
                    return BulkString(None)
                if not 0 <= size <= MAX_BULK:
                    raise ProtocolError(f"RESP bulk length {size} out of range (0..{MAX_BULK})")
                if self._done + self._pos + size + 2 > MAX_REPLY:
                    raise ProtocolError(f"RESP reply longer than {MAX_REPLY} bytes")
                self._bulk = size
                return self._bulk_value()
            if kind != b"*":
                shown = escape(line[:40], keep_newlines=False)
                raise ProtocolError(f"not RESP: a value starts with + - : $ or *, not {shown!r}")
            count = _number(rest, "array length")
            if count == -1:
                return Array(None)
            if not 0 <= count <= MAX_ITEMS:
                raise ProtocolError(f"RESP array length {count} out of range (0..{MAX_ITEMS})")
            if len(self._stack) >= MAX_DEPTH:
                raise ProtocolError(f"RESP arrays nested deeper than {MAX_DEPTH}")
            if count == 0:
                return Array(())
            self._stack.append((count, []))
            self._values += 1  # the array counts as a value now; its items follow


def _number(text: bytes, what: str) -> int:
    body = text[1:] if text[:1] == b"-" else text
    if not body.isdigit() or len(body) > 20:
        raise ProtocolError(f"RESP {what}: {escape(text, keep_newlines=False)!r} is not a number")
    return int(text)


def parse_request(data: bytes | bytearray) -> tuple[list[bytes], int] | None:
    """One client request at the start of *data*: ``(arguments, bytes used)``, or None if incomplete.

    A request is a RESP array of bulk strings, or an inline command: a line
    of words (split on spaces and tabs, ``"..."`` and ``'...'`` quoting as
    redis-cli does, CRLF or LF ending). An empty inline line gives ``[]``.
    Raises :class:`ProtocolError` with Redis's own wording for a malformed one.
    Stateless: a caller that calls it again as bytes arrive re-reads the
    request from its start each time (a :class:`ReplyParser` does not).
    """
    if not data:
        return None
    if data[:1] != b"*":
        end = data.find(b"\n", 0, MAX_LINE + 1)
        if end < 0:
            if len(data) > MAX_LINE:
                raise ProtocolError("Protocol error: too big inline request")
            return None
        return split_inline(bytes(data[:end]).rstrip(b"\r")), end + 1
    parser = ReplyParser()
    fed, step = 0, 256
    try:  # fed in doubling pieces: a request at the head of a long pipeline costs its own size
        while (value := parser.next_value()) is None:
            piece = bytes(data[fed : fed + step])
            if not piece:
                return None
            parser.feed(piece)
            fed, step = fed + len(piece), step * 2
    except ProtocolError as error:
        raise ProtocolError(f"Protocol error: {error}") from None
    assert isinstance(value, Array)
    args: list[bytes] = []
    for item in value.items or ():
        if not isinstance(item, BulkString) or item.value is None:
            raise ProtocolError("Protocol error: expected '$', got something else")
        args.append(item.value)
    return args, fed - parser.pending


def split_inline(line: bytes) -> list[bytes]:
    """Split an inline command into words, honouring ``"..."`` (with escapes) and ``'...'``."""
    words: list[bytes] = []
    index, size = 0, len(line)
    while index < size:
        while index < size and line[index] in b" \t":
            index += 1
        if index >= size:
            break
        word = bytearray()
        quote = line[index] if line[index] in b"\"'" else None
        index += 1 if quote else 0
        while index < size:
            char = line[index]
            if quote is None and char in b" \t":
                break
            if quote is not None and char == quote:
                index += 1
                quote = None
                break
            if quote == ord('"') and char == ord("\\") and index + 1 < size:
                index += 1
                word.append(_UNQUOTE.get(line[index], line[index]))
            else:
                word.append(char)
            index += 1
        if quote is not None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        words.append(bytes(word))
    return words


_UNQUOTE = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("a"): 7, ord("b"): 8}


# --- rendering ----------------------------------------------------------------


def _quoted(data: bytes) -> str:
    return '"' + escape(data, keep_newlines=False).replace('"', '\\"') + '"'


def render(value: Value, indent: str = "") -> str:
    """*value* for a person: one line per value, array items numbered and indented.

    ``bulk string "1"``, ``simple string "OK"``, ``error "ERR ..."``,
    ``integer 3``, ``null bulk string (nil)``, ``array of 2`` followed by
    ``  1) ...`` lines. Peer bytes are escaped (never raw control bytes).
    """
    if isinstance(value, SimpleString):
        return f"{indent}simple string {_quoted(value.text.encode('utf-8', 'surrogateescape'))}"
    if isinstance(value, Error):
        return f"{indent}error {_quoted(value.text.encode('utf-8', 'surrogateescape'))}"
    if isinstance(value, Integer):
        return f"{indent}integer {value.value}"
    if isinstance(value, BulkString):
        if value.value is None:
            return f"{indent}null bulk string (nil)"
        return f"{indent}bulk string {_quoted(value.value)}"
    if value.items is None:
        return f"{indent}null array (nil)"
    if not value.items:
        return f"{indent}empty array"
    lines = [f"{indent}array of {len(value.items)}"]
    width = len(str(len(value.items)))
    for number, item in enumerate(value.items, 1):
        label = f"{indent}  {number:>{width}}) "
        inner = render(item, " " * len(label)).lstrip(" ")
        lines.append(label + inner)
    return "\n".join(lines)


def describe_reply(data: bytes) -> str:
    """Every whole RESP value in *data*, rendered (see :func:`render`), one after another.

    Bytes left over after the last whole value are reported as incomplete;
    input that is not RESP gives one line saying why. Never raises.
    """
    parser = ReplyParser()
    parser.feed(data)
    lines: list[str] = []
    try:
        lines.extend(render(value) for value in parser.values())
    except ProtocolError as error:
        lines.append(str(error))
        return "\n".join(lines)
    if parser.pending:
        lines.append(f"(incomplete: {parser.pending} bytes of a value, waiting for the rest)")
    return "\n".join(lines)


def looks_like_resp(data: bytes) -> bool:
    """True when *data* starts like a RESP value (a type byte, then a line ending in CRLF)."""
    return data[:1] in (b"+", b"-", b":", b"$", b"*") and b"\r\n" in data[:MAX_LINE]


TYPE_NAMES = {
    SimpleString: "simple string (+): a short status such as OK or PONG",
    Error: "error (-): the command failed; the first word is the error kind (ERR, WRONGTYPE)",
    Integer: "integer (:): a count or a number, e.g. INCR's new value or DEL's count",
    BulkString: "bulk string ($): a binary-safe string of a stated length; $-1 is nil (no such key)",
    Array: "array (*): a list of values, e.g. KEYS or LRANGE; *-1 is nil",
}
"""What each RESP2 type means, for ``/explain``."""


def explain(value: Value) -> str:
    """One line on what kind of reply *value* is (RESP spec), for a learner."""
    return TYPE_NAMES[type(value)]
