"""Why the lab's HTTP server rejects a request, said in words (sans-IO).

h11 reports a malformed request in its own terse text and quotes the bytes
as a Python repr (``illegal request line: bytearray(b'GET /')``). The lab
is a place to learn, so :func:`explain` turns each of h11's messages into a
sentence a learner can act on, quoting the bytes through the one escaper
(:func:`netbench.core.escape.escape`); a message it does not know is passed
on, made terminal-safe. :func:`http09_line` recognises the classic HTTP/0.9
request (``GET /`` with no version) so the server can answer it at once,
before the client's empty line; :data:`HTTP09` says what it is.
"""

from __future__ import annotations

import ast
import re

from netbench.core.escape import escape, quote, scrub
from netbench.core.http_sniff import request_line, request_method

TLS_START = b"\x16\x03"  # a TLS record: handshake, version 3.x

HTTP09 = (
    "{line} is an HTTP/0.9 request: a request line with no version, as in the first web of 1991. "
    "This server speaks HTTP/1.1: send '{method} {target} HTTP/1.1', then 'Host: localhost', "
    "then an empty line."
)

_BYTES = re.compile(r"""(?:bytearray\()?(b(['"]).*\2)\)?""", re.DOTALL)

_WORDS: tuple[tuple[str, str], ...] = (
    ("illegal request line", "the request line {quoted} is not METHOD /path HTTP/1.1"),
    ("no request line received", "the request starts with an empty line; the request line comes first"),
    ("illegal header line", "the header line {quoted} is not 'Name: value'"),
    ("Illegal header name", "the header name {quoted} holds characters a header name may not"),
    ("Illegal header value", "the header value {quoted} holds characters a header value may not"),
    ("continuation line at start", "the first header line starts with a space or a tab"),
    ("Missing mandatory Host", "an HTTP/1.1 request needs a Host header (for example 'Host: localhost')"),
    ("Found multiple Host", "the request has more than one Host header"),
    ("conflicting Content-Length", "the request has Content-Length headers that disagree"),
    ("bad Content-Length", "the Content-Length header is not a whole number of bytes"),
    ("multiple Transfer-Encoding", "the request has more than one Transfer-Encoding header"),
    ("Only Transfer-Encoding: chunked", "the only Transfer-Encoding this server takes is 'chunked'"),
    ("illegal chunk header", "the chunk size line {quoted} is not a size in hexadecimal digits"),
    ("malformed chunk footer", "a chunk's data does not end with CRLF where its size line says"),
    ("Receive buffer too long", "the request head is over 16 KiB without its empty line"),
)


def _quoted_bytes(message: str) -> bytes | None:
    """The bytes h11 quoted in *message* (the repr after the first ``: ``), or None."""
    _, sep, tail = message.partition(": ")
    match = _BYTES.fullmatch(tail.strip()) if sep else None
    if match is None:
        return None
    try:
        value = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None


def http09_line(data: bytes) -> bytes | None:
    """The request line if *data* starts with an ended HTTP/0.9 line, else None.

    HTTP/0.9 had one method and no version: ``GET /path`` then CRLF (or LF).
    """
    end = data.find(b"\n")
    if end < 0:
        return None
    line = data[:end].rstrip(b"\r")
    if request_line(data) is not None or request_method(line) != "GET" or line.count(b" ") != 1:
        return None
    return line if line.split(b" ", 1)[1].startswith(b"/") else None


def http09_answer(line: bytes) -> str:
    """What the lab says to an HTTP/0.9 request *line* (one line of text)."""
    method, _, target = line.partition(b" ")
    return HTTP09.format(
        line=quote(line),
        method=escape(method, keep_newlines=False),
        target=escape(target, keep_newlines=False),
    )


def explain(message: str) -> str:
    """One sentence (no final newline) saying what is wrong with a request h11 rejected."""
    data = _quoted_bytes(message)
    if data is not None and message.startswith("illegal request line"):
        line = http09_line(data + b"\n")
        if line is not None:
            return http09_answer(line)
    if message.startswith("illegal request line"):
        if data is None:
            return "the first byte is not the start of a request line (a method such as GET comes first)"
        if data.startswith(TLS_START):
            return "this is a TLS handshake, and this port speaks plain HTTP (http://, not https://)"
    for prefix, words in _WORDS:
        if message.startswith(prefix):
            return words.format(quoted=quote(data) if data is not None else "")
    return "the request is not valid HTTP/1.1 (" + scrub(message) + ")"
