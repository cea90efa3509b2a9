"""Recognise HTTP in raw traffic: a request typed by hand and what came back.

Sans-IO. :func:`sniff_exchange` parses the exchange when *sent* starts with a
request line, or returns a falsy :class:`NotHttp` saying why not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from netbench.core.escape import escape
from netbench.core.http_message import Headers, HttpResponse, _text
from netbench.core.http_parser import ResponseParser
from netbench.errors import ProtocolError, Reset

_REQUEST_LINE = re.compile(rb"([A-Z][A-Z0-9_-]*) (\S+) HTTP/(1\.[01])\r?\n")


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
class _RequestHead:
    method: str
    target: str
    line: str
    headers: Headers = ()
    body: bytes = b""


def _parse_request_head(sent: bytes) -> _RequestHead | NotHttp:
    match = _REQUEST_LINE.match(sent)
    if match is None:
        first = sent.split(b"\n", 1)[0][:60]
        return NotHttp(f"what was sent does not start with a request line: {escape(first)!s}")
    head_end = re.search(rb"\r?\n\r?\n", sent)
    if head_end is None:
        return NotHttp("the request head is not finished (no empty line yet)", incomplete=True)
    lines = sent[match.end() : head_end.end()].splitlines()
    headers = []
    for line in lines:
        if not line.strip():
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            return NotHttp(f"request header line without a colon: {escape(line[:60])}")
        headers.append((_text(name.strip()), _text(value.strip())))
    method, target = match.group(1).decode(), match.group(2).decode("latin-1")
    request_line = sent[: match.end()].rstrip(b"\r\n").decode("latin-1")
    return _RequestHead(method, target, request_line, tuple(headers), sent[head_end.end() :])


def sniff_exchange(sent: bytes, received: bytes, *, closed: bool = False) -> HttpExchange | NotHttp:
    """Parse a hand-typed exchange, or say why it is not HTTP.

    *sent* must start with a request line (``GET / HTTP/1.1``); *received*
    is parsed as the response to it. ``closed`` says the peer closed the
    connection after *received* (a body delimited by the close is complete
    only then). A falsy :class:`NotHttp` is returned, never raised.
    """
    head = _parse_request_head(sent)
    if isinstance(head, NotHttp):
        return head
    if not received:
        return NotHttp("no response yet", incomplete=not closed)
    if not re.match(rb"HTTP/\d", received[:6]) and len(received) >= 5:
        first = received.split(b"\n", 1)[0][:60]
        return NotHttp(f"the reply does not start with an HTTP status line: {escape(first)}")
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
