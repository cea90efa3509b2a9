"""Undo a Content-Encoding (gzip, deflate) incrementally, and pick a text charset.

Sans-IO: bytes in, bytes out. A :class:`BodyDecoder` takes the body as it
arrives in pieces of any size and yields the decoded bytes in pieces of at
most :data:`PIECE` bytes, so a big body (or a small body that expands a
thousandfold) can be streamed to a file with flat memory. ``deflate`` is accepted both
as zlib-wrapped data (RFC 9110) and as the raw deflate some servers send.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence

SUPPORTED = ("gzip", "x-gzip", "deflate", "identity")
PIECE = 1 << 20  # the most decoded bytes produced at once


class DecodeError(ValueError):
    """The body does not decode with its Content-Encoding (the message says why)."""


def parse_encodings(value: str | None) -> tuple[str, ...]:
    """``"gzip, identity"`` -> ``("gzip",)`` (lower case, identity dropped)."""
    if not value:
        return ()
    names = (part.strip().lower() for part in value.split(","))
    return tuple(name for name in names if name and name != "identity")


def can_decode(encodings: Sequence[str]) -> bool:
    """True when every encoding in *encodings* is one this module undoes."""
    return all(name in SUPPORTED for name in encodings)


def _inflate(inflater: zlib._Decompress, data: bytes) -> Iterator[bytes]:
    """Decompress *data* in pieces of at most :data:`PIECE` bytes."""
    while True:
        out = inflater.decompress(data, PIECE)
        if out:
            yield out
        data = inflater.unconsumed_tail
        if not data and len(out) < PIECE:  # a full piece may leave output pending
            return


class _Gzip:
    """One gzip stream, or several members one after another."""

    name = "gzip"

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._started = False

    def pieces(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._inflater.eof:
                # A new gzip member follows the previous one (RFC 1952 allows this).
                self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._started = True
            yield from _inflate(self._inflater, data)
            data = self._inflater.unused_data if self._inflater.eof else b""

    def finish(self) -> bytes:
        if self._started and not self._inflater.eof:
            raise DecodeError("gzip body is truncated")
        return self._inflater.flush()


class _Deflate:
    """zlib-wrapped deflate, or raw deflate when the first two bytes are no zlib header."""

    name = "deflate"

    def __init__(self) -> None:
        self._head = b""
        self._inflater: zlib._Decompress | None = None

    def pieces(self, data: bytes) -> Iterator[bytes]:
        if self._inflater is None:
            self._head += data
            if len(self._head) < 2:
                return
            cmf, flg = self._head[0], self._head[1]
            wrapped = cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        yield from _inflate(self._inflater, data)

    def finish(self) -> bytes:
        if self._inflater is None:
            if self._head:
                raise DecodeError("deflate body is truncated")
            return b""
        if not self._inflater.eof:
            raise DecodeError("deflate body is truncated")
        return self._inflater.flush()


class BodyDecoder:
    """Undo the encodings of a Content-Encoding header, piece by piece.

    ``BodyDecoder(("gzip",))``; :meth:`pieces` yields the decoded bytes
    available so far, at most :data:`PIECE` at a time; :meth:`feed` returns
    them joined; :meth:`finish` returns the rest (and checks the stream ended).
    All raise :class:`DecodeError` with a one-line reason.
    """

    def __init__(self, encodings: Sequence[str]) -> None:
        if not can_decode(encodings):
            raise DecodeError(f"cannot decode Content-Encoding {', '.join(encodings)}")
        # Encodings are listed in the order they were applied: undo the last first.
        self._stages = [
            _Gzip() if name in ("gzip", "x-gzip") else _Deflate()
            for name in reversed(encodings)
            if name != "identity"
        ]

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Decode one more piece of the encoded body, in bounded pieces."""
        stream: Iterable[bytes] = (data,)
        for stage in self._stages:
            stream = _through(stage, stream)
        yield from stream

    def feed(self, data: bytes) -> bytes:
        """Decode one more piece of the encoded body, joined (for small bodies)."""
        return b"".join(self.pieces(data))

    def finish(self) -> bytes:
        """Flush every stage at the end of the body."""
        data = b""
        for stage in self._stages:
            try:
                data = b"".join(stage.pieces(data)) if data else b""
                data += stage.finish()
            except zlib.error as error:
                raise DecodeError(f"{stage.name} body does not decode: {_reason(error)}") from None
        return data


def _through(stage: _Gzip | _Deflate, pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Run every piece through one decoding *stage*."""
    for piece in pieces:
        try:
            yield from stage.pieces(piece)
        except zlib.error as error:
            raise DecodeError(f"{stage.name} body does not decode: {_reason(error)}") from None


def _reason(error: zlib.error) -> str:
    text = str(error)
    return text.split(": ", 1)[-1] if "while" in text else text


def decode_body(data: bytes, encodings: Sequence[str]) -> bytes:
    """Decode a whole body at once (raises :class:`DecodeError`)."""
    decoder = BodyDecoder(encodings)
    return decoder.feed(data) + decoder.finish()


_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)


def charset_of(content_type: str | None) -> str | None:
    """The charset named in a Content-Type value, if it is one Python knows."""
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def text_of(body: bytes, content_type: str | None) -> str | None:
    """The body as text (charset from Content-Type, else UTF-8), or None if it is not text."""
    charset = charset_of(content_type) or "utf-8"
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return None
