"""RESP2 values and their wire form (sans-IO): the five types, and encoding them.

``+OK`` a :class:`SimpleString`, ``-ERR ...`` an :class:`Error`, ``:42`` an
:class:`Integer`, ``$3\\r\\nfoo`` a :class:`BulkString` (``$-1`` the null
one), ``*2`` an :class:`Array` (``*-1`` the null one). :func:`encode` writes a
value as a server does, :func:`encode_command` a command as a client does.
Parsing and rendering are :mod:`netbench.core.resp`, which re-exports these.
"""

from __future__ import annotations

from dataclasses import dataclass

from netbench.errors import ProtocolError


@dataclass(frozen=True)
class SimpleString:
    """``+OK``: a status reply."""

    text: str


@dataclass(frozen=True)
class Error:
    """``-ERR unknown command``: an error reply; ``kind`` is its first word (ERR, WRONGTYPE)."""

    text: str

    @property
    def kind(self) -> str:
        return self.text.split(" ", 1)[0]


@dataclass(frozen=True)
class Integer:
    """``:42``."""

    value: int


@dataclass(frozen=True)
class BulkString:
    """``$3\\r\\nfoo``; ``value`` None is the null bulk string ``$-1`` (a missing key)."""

    value: bytes | None


@dataclass(frozen=True)
class Array:
    """``*2 ...``; ``items`` None is the null array ``*-1``."""

    items: tuple[Value, ...] | None


Value = SimpleString | Error | Integer | BulkString | Array
"""Any RESP2 value."""


def _as_bytes(arg: bytes | str | int) -> bytes:
    if isinstance(arg, bytes):
        return arg
    return str(arg).encode("utf-8", "surrogateescape")


def encode_command(*args: bytes | str | int) -> bytes:
    """A command as a client sends it: an array of bulk strings.

    ``encode_command("SET", "a", 1) == b"*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\na\\r\\n$1\\r\\n1\\r\\n"``.
    Raises :class:`ProtocolError` (local) for an empty command.
    """
    if not args:
        raise ProtocolError("a RESP command needs at least a name", remote=False)
    return encode(Array(tuple(BulkString(_as_bytes(arg)) for arg in args)))


def encode(value: Value) -> bytes:
    """The wire form of *value* (as a server writes a reply)."""
    out = bytearray()
    _encode_into(value, out)
    return bytes(out)


def _encode_into(value: Value, out: bytearray) -> None:
    if isinstance(value, SimpleString | Error):
        try:
            text = value.text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate that stands for no byte
            raise ProtocolError(
                "a simple string or error must be text or escaped bytes", remote=False
            ) from None
        if b"\r" in text or b"\n" in text:
            raise ProtocolError("a simple string or error cannot hold CR or LF", remote=False)
        out += (b"+" if isinstance(value, SimpleString) else b"-") + text + b"\r\n"
    elif isinstance(value, Integer):
        out += b":%d\r\n" % value.value
    elif isinstance(value, BulkString):
        if value.value is None:
            out += b"$-1\r\n"
        else:
            out += b"$%d\r\n%s\r\n" % (len(value.value), value.value)
    elif value.items is None:
        out += b"*-1\r\n"
    else:
        out += b"*%d\r\n" % len(value.items)
        for item in value.items:
            _encode_into(item, out)
