"""A receive buffer and the receive vocabulary, written once (sans-IO).

Sessions (the blocking one the recipe engine uses, :mod:`netbench.net.blocking`,
and the REPL's asyncio one, :mod:`netbench.net.session`) only move bytes: they
feed what arrives into a :class:`ReceiveBuffer` and ask it for a piece. What a
piece is, is said here once, as a :class:`Want`: :func:`until` a delimiter, a
:func:`line`, :func:`exactly` *n* bytes, a :func:`match` of a pattern. Reading
until end-of-file is :meth:`ReceiveBuffer.feed_capped`, which keeps at most
:data:`KEEP_WHEN_DISCARDING` bytes past the cap.

Contracts of :meth:`ReceiveBuffer.next_piece`, the one loop step every session
runs: it returns the piece when it is complete, None when more bytes are
needed; the peer having closed before the piece was complete raises
:class:`~netbench.errors.Reset` with the bytes received as ``partial``; more
than ``cap`` bytes buffered without the piece completing raises
:class:`~netbench.errors.ExpectationFailed` ("gave up: ... did not arrive in
the first 16 MiB"): a hostile peer costs bounded memory. A deadline is the
session's business (it raises :class:`~netbench.errors.TimedOut` with
:meth:`ReceiveBuffer.peek` as the partial data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from netbench.errors import ExpectationFailed, Reset

MAX_ANSWER = 16 * 1024 * 1024
"""Bytes one receive may buffer while waiting for its piece (a hostile peer is cut off there)."""
KEEP_WHEN_DISCARDING = 64 * 1024
"""Bytes kept of an answer past the cap, to show in a report."""

T = TypeVar("T")


def size_text(size: int) -> str:
    """``16 MiB`` for whole mebibytes, else ``N bytes``."""
    mib = 1024 * 1024
    return f"{size // mib} MiB" if size >= mib and size % mib == 0 else f"{size} bytes"


class Searchable(Protocol):
    """A compiled bytes pattern: :class:`re.Pattern` or the recipe engine's time-bounded one."""

    def search(self, data: bytes, pos: int = 0) -> Any: ...


class Want(Generic[T]):
    """What a receive waits for: how to take it from a buffer, and a phrase for messages."""

    __slots__ = ("take", "what")

    def __init__(self, take: Callable[[ReceiveBuffer], T | None], what: str) -> None:
        self.take = take
        self.what = what

    def __repr__(self) -> str:
        return f"Want({self.what})"


def until(delimiter: bytes) -> Want[bytes]:
    """The bytes up to and including *delimiter*."""
    return Want(lambda buffer: buffer.take_until(delimiter), "the expected text")


def line() -> Want[bytes]:
    """One line, without its CRLF or LF."""
    return Want(ReceiveBuffer.take_line, "a full line")


def exactly(count: int) -> Want[bytes]:
    """Exactly *count* bytes."""
    return Want(lambda buffer: buffer.take_exactly(count), f"{count} bytes")


def match(pattern: Searchable) -> Want[Any]:
    """The first match of *pattern* (the bytes through its end are consumed); the match object."""
    return Want(lambda buffer: buffer.take_match(pattern), "a match")


class ReceiveBuffer:
    """Accumulates received bytes; ``take_*`` return a piece or ``None`` if incomplete."""

    def __init__(self, cap: int = MAX_ANSWER) -> None:
        self._data = bytearray()
        self.cap = cap

    def feed(self, data: bytes) -> None:
        """Append bytes that arrived."""
        self._data += data

    def feed_capped(self, data: bytes, limit: int | None = None) -> None:
        """Append what fits in *limit* bytes (default: the cap) and drop the rest (reading until EOF)."""
        room = (self.cap if limit is None else limit) - len(self._data)
        if room > 0:
            self._data += data[:room]

    def __len__(self) -> int:
        return len(self._data)

    def __bytes__(self) -> bytes:
        return bytes(self._data)

    def peek(self) -> bytes:
        """Everything buffered, without consuming it."""
        return bytes(self._data)

    def take_all(self) -> bytes:
        """Consume and return everything buffered."""
        data = bytes(self._data)
        self._data.clear()
        return data

    def take_exactly(self, count: int) -> bytes | None:
        """Consume *count* bytes, or return None when fewer are buffered."""
        if len(self._data) < count:
            return None
        data = bytes(self._data[:count])
        del self._data[:count]
        return data

    def take_until(self, delimiter: bytes, *, include: bool = True) -> bytes | None:
        """Consume up to and including the first *delimiter*, or return None."""
        index = self._data.find(delimiter)
        if index == -1:
            return None
        end = index + len(delimiter)
        data = bytes(self._data[: end if include else index])
        del self._data[:end]
        return data

    def take_line(self) -> bytes | None:
        """Consume one line ending in LF; return it without CRLF/LF, or None."""
        line = self.take_until(b"\n")
        if line is None:
            return None
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]

    def take_match(self, pattern: Searchable) -> Any:
        """Consume up to the end of the first match of *pattern*; the match, or None."""
        found = pattern.search(bytes(self._data))
        if found is None:
            return None
        del self._data[: found.end()]
        return found

    def next_piece(self, want: Want[T], *, eof: bool, peer: str) -> T | None:
        """The piece *want* asks for, or None when more bytes must be received first.

        *eof*: the peer has closed (nothing more will come). *peer* names it in messages.
        """
        piece = want.take(self)
        if piece is not None:
            return piece
        if eof:
            raise Reset(
                f"{peer} closed the connection before {want.what} arrived ({len(self._data)} bytes received)",
                peer,
                partial=self.peek(),
            )
        if len(self._data) > self.cap:
            raise ExpectationFailed(f"gave up: {want.what} did not arrive in the first {size_text(self.cap)}")
        return None
