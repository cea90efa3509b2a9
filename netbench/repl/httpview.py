"""Recognise HTTP in a hand-typed conversation and show responses parsed.

Sans-IO. :class:`HttpTracker` watches what a session sends and receives.
When what we sent starts with an HTTP request line (typed by hand or built
by ``/get``), the bytes received after it are collected and fed to a
response parser; once the response is complete it is handed back parsed
(:class:`HttpMessage`). Anything else is handed back raw as it comes
(:class:`RawData`). A response the parser rejects, or one the caller gives
up waiting for, is handed back raw, with a :class:`Note` saying why.

The parser is :class:`netbench.core.http.ResponseParser`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netbench.core.escape import scrub
from netbench.core.http_sniff import request_line
from netbench.errors import NetbenchError

if TYPE_CHECKING:  # h11 is imported on the first HTTP request, not at start-up
    from netbench.core.http import HttpResponse, ResponseParser

MAX_COLLECT = 1024 * 1024  # beyond this, a response still incomplete is shown raw
MAX_DECODED = 16 * 1024 * 1024  # a gzip/deflate body is unpacked up to this much, no further
CUT = f"(body cut at {MAX_DECODED >> 20} MiB unpacked: the rest was not decoded)"
OUT_OF_STEP = (
    "(this connection is out of step: {why}; its later answers are shown raw, not parsed as the "
    "answer to a request. /open a new session, as curl would)"
)


@dataclass(frozen=True)
class RawData:
    """Bytes to show as they are (safe-rendered by the caller)."""

    data: bytes


@dataclass(frozen=True)
class HttpMessage:
    """A complete parsed response (for a request with *method*)."""

    response: HttpResponse
    method: str

    @property
    def raw(self) -> bytes:
        """The exact bytes the response came in."""
        return self.response.raw


@dataclass(frozen=True)
class Note:
    """A remark of ours about the conversation (safe text)."""

    text: str


Shown = RawData | HttpMessage | Note


def request_method(sent: bytes) -> str | None:
    """The method if *sent* begins with an HTTP/1.x request line, else None."""
    line = request_line(sent)
    return line.method if line is not None else None


# -- the tracker -----------------------------------------------------------------


@dataclass
class HttpTracker:
    """Follows one session's conversation; decides what to show parsed and what raw."""

    _pending: list[str] = field(default_factory=list)
    _parser: ResponseParser | None = None  # keeps the bytes of the response it is parsing
    answered: bool = False  # a response was parsed on this connection
    out_of_step: bool = False  # bytes no request asked for came after a response (or its framing was unsafe)

    @property
    def waiting(self) -> bool:
        """True while an HTTP response is expected or being collected."""
        return bool(self._pending)

    @property
    def collected(self) -> int:
        """How many bytes of the current response have arrived."""
        return self._parser.raw_size if self._parser is not None else 0

    def on_sent(self, data: bytes) -> Note | None:
        """Note bytes we sent; a send that starts with a request line expects a response.

        On a connection out of step nothing is expected (its answer could be
        someone else's bytes): the returned note says so.
        """
        method = request_method(data)
        if method is None:
            return None
        if self.out_of_step:
            return Note("(this connection is out of step: the answer is shown raw, as it may not be yours)")
        self._pending.append(method)
        return None

    def _stray(self, data: bytes, why: str) -> list[Shown]:
        """Bytes after a response that no request asked for: raw, and the connection flagged once."""
        if self.out_of_step:
            return [RawData(data)]
        self.out_of_step = True
        self._pending.clear()
        return [Note(OUT_OF_STEP.format(why=why)), RawData(data)]

    def on_received(self, data: bytes) -> list[Shown]:
        """Take bytes that arrived; return what to show now."""
        if not self._pending:
            if self.answered and data:
                return self._stray(data, _unasked(data))
            return [RawData(data)]
        shown: list[Shown] = []
        while data and self._pending:
            if self._parser is None:
                from netbench.core.http import ResponseParser

                self._parser = ResponseParser(self._pending[0], max_decoded=MAX_DECODED)
            try:
                response = self._parser.feed(data)
            except NetbenchError as error:
                return [*shown, *self._fail(str(error))]
            if response is None:
                if self._parser.raw_size > MAX_COLLECT:
                    return [*shown, *self.give_up("response too large to collect")]
                return shown
            parser, self._parser = self._parser, None
            data = parser.leftover
            shown.append(HttpMessage(response, self._pending.pop(0)))
            self.answered = True
            if parser.truncated:
                shown.append(Note(CUT))
            if parser.broken:
                why = "the body was cut" if parser.truncated else "the response's framing was ambiguous"
                self.out_of_step = True
                self._pending.clear()
                shown.append(Note(OUT_OF_STEP.format(why=why)))
        if data:
            shown += self._stray(data, _unasked(data))
        return shown

    def on_eof(self) -> list[Shown]:
        """The peer closed: complete a response that runs until EOF, or show what came raw."""
        if self._parser is None:
            self._pending.clear()
            return []
        try:
            response = self._parser.feed_eof()
        except NetbenchError as error:
            return self._fail(str(error))
        if response is None:
            return self._fail("connection closed before the response was complete")
        method = self._pending.pop(0) if self._pending else "GET"
        parser, self._parser = self._parser, None
        self._pending.clear()
        self.answered = True
        if parser.truncated:
            return [
                HttpMessage(response, method),
                Note(CUT),
            ]
        return [HttpMessage(response, method)]

    def give_up(self, why: str) -> list[Shown]:
        """Stop waiting for the current response; return what arrived, raw."""
        if self._parser is None:
            return []
        return self._fail(why)

    def _fail(self, why: str) -> list[Shown]:
        data = self._parser.raw if self._parser is not None else b""
        self._parser = None
        self._pending.clear()
        shown: list[Shown] = [Note(f"(not shown parsed: {scrub(why)})")]  # (why: already safe, once)
        if data:
            shown.append(RawData(data))
        return shown


def _unasked(data: bytes) -> str:
    return f"{len(data)} bytes came after the response that no request asked for"
