"""Recognise HTTP in raw traffic: a request typed by hand and what came back.

Sans-IO. This module owns the HTTP request grammar every other module asks:

- :func:`request_line` -- an HTTP/1.x request line at the start of the bytes
  (``METHOD SP target SP HTTP/1.x`` then CRLF or a bare LF), or None;
- :func:`request_method` -- the method when the bytes start like a request
  (``METHOD SP ...``, HTTP/0.9 ``GET /`` and ``GET / HTTP/2`` included);
- :func:`is_method` -- whether a typed word is a method token;
- :func:`head_end` -- where the head ends (the first empty line, CRLF or LF).

A method is an upper-case token: a letter, then letters, digits, ``-`` or
``_`` (``GET``, ``M-SEARCH``). RFC 9110 allows lower case, but methods are
case-sensitive, every registered one is upper case, and in raw traffic
``hello world HTTP/1.1`` is far likelier to be text than a request, so
``get / HTTP/1.1`` is *not* a request line here (callers that take a method
from the user upper-case it first, as ``/http get`` and ``method: get`` do).

:func:`sniff_exchange` parses the exchange when *sent* starts with a
request line, or returns a falsy :class:`NotHttp` saying why not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from netbench.core.escape import escape
from netbench.errors import ProtocolError, Reset

if TYPE_CHECKING:  # h11 is imported when an exchange is parsed, so the grammar alone stays light
    from netbench.core.http_message import Headers, HttpResponse

_METHOD = rb"[A-Z][A-Z0-9_-]*"
_REQUEST_LINE = re.compile(rb"(" + _METHOD + rb") ([^\x00-\x20\x7f]+) (HTTP/1\.[0-9])\r?\n")
_REQUEST_START = re.compile(rb"(" + _METHOD + rb") [^\x00-\x20\x7f]")
_METHOD_WORD = re.compile(_METHOD.decode("ascii"))
_HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class RequestLine:
    """An HTTP/1.x request line: ``method``, ``target`` (latin-1) and ``version`` (``HTTP/1.1``).

    ``length`` is how many bytes it took, line end included.
    """

    method: str
    target: str
    version: str
    length: int

    def __str__(self) -> str:
        return f"{self.method} {self.target} {self.version}"


def request_line(data: bytes) -> RequestLine | None:
    """The HTTP/1.x request line at the start of *data*, or None.

    The line is ``METHOD SP target SP HTTP/1.x`` ended by CRLF or a bare LF
    (RFC 9112 §2.2 lets a recipient accept LF); single spaces only. HTTP/0.9
    (``GET /``), ``HTTP/2`` and a line not yet ended give None.
    """
    match = _REQUEST_LINE.match(data)
    if match is None:
        return None
    method, target, version = match.groups()
    return RequestLine(method.decode("ascii"), target.decode("latin-1"), version.decode("ascii"), match.end())


def request_method(data: bytes) -> str | None:
    """The method token if *data* starts like an HTTP request (``METHOD SP x...``), else None.

    Looser than :func:`request_line`: ``GET /`` (HTTP/0.9), ``GET / HTTP/2``
    and a line not yet ended all give ``"GET"``; ``get /`` gives None.
    """
    match = _REQUEST_START.match(data)
    return match.group(1).decode("ascii") if match else None


def is_method(word: str) -> bool:
    """True when *word* is a method token as this grammar spells it (``GET``, ``M-SEARCH``)."""
    return _METHOD_WORD.fullmatch(word) is not None


def head_end(data: bytes) -> int | None:
    """The index just past the empty line that ends a message head (CRLF or LF), or None."""
    found = _HEAD_END.search(data)
    return found.end() if found is not None else None


@dataclass(frozen=True)
class HttpExchange:
    """A request typed by hand and the response it got, parsed."""

    method: str
    target: str
    request_line: str
    request_headers: Headers
    request_body: bytes
    response: HttpResponse
    extra: bytes = b""

    def __bool__(self) -> Literal[True]:
        return True


@dataclass(frozen=True)
class NotHttp:
    """Why the bytes are not (yet) an HTTP exchange; ``incomplete`` = more may come."""

    reason: str
    incomplete: bool = False

    def __bool__(self) -> Literal[False]:
        return False


@dataclass
class RequestHead:
    """A hand-typed request: its line's method and target, the header fields, what followed the head."""

    method: str
    target: str
    line: str
    headers: Headers = ()
    body: bytes = b""


def parse_request_head(sent: bytes) -> RequestHead | NotHttp:
    """The request head at the start of *sent* (line and headers), or why it is not one.

    Bytes after the head's empty line are the head's ``body`` as typed; a
    falsy :class:`NotHttp` (``incomplete`` when the head is not finished) is
    returned, never raised.
    """
    start = request_line(sent)
    if start is None:
        first = sent.split(b"\n", 1)[0][:60]
        return NotHttp(f"what was sent does not start with a request line: {escape(first)!s}")
    end = head_end(sent)
    if end is None:
        return NotHttp("the request head is not finished (no empty line yet)", incomplete=True)
    lines = sent[start.length : end].splitlines()
    headers = []
    for line in lines:
        if not line.strip():
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            return NotHttp(f"request header line without a colon: {escape(line[:60])}")
        headers.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))
    return RequestHead(start.method, start.target, str(start), tuple(headers), sent[end:])


def sniff_exchange(sent: bytes, received: bytes, *, closed: bool = False) -> HttpExchange | NotHttp:
    """Parse a hand-typed exchange, or say why it is not HTTP.

    *sent* must start with a request line (``GET / HTTP/1.1``); *received*
    is parsed as the response to it. ``closed`` says the peer closed the
    connection after *received* (a body delimited by the close is complete
    only then). A falsy :class:`NotHttp` is returned, never raised.
    """
    head = parse_request_head(sent)
    if isinstance(head, NotHttp):
        return head
    if not received:
        return NotHttp("no response yet", incomplete=not closed)
    if not re.match(rb"HTTP/\d", received[:6]) and len(received) >= 5:
        first = received.split(b"\n", 1)[0][:60]
        return NotHttp(f"the reply does not start with an HTTP status line: {escape(first)}")
    from netbench.core.http_parser import ResponseParser

    parser = ResponseParser(head.method)
    try:
        response = parser.feed(received)
        if response is None and closed:
            response = parser.feed_eof()
    except (ProtocolError, Reset) as error:
        return NotHttp(str(error))
    if response is None:
        return NotHttp("the response is not complete yet", incomplete=True)
    return HttpExchange(
        head.method, head.target, head.line, head.headers, head.body, response, parser.leftover
    )
