"""What the lab's HTTP server answers: routing from a request to a :class:`Reply`.

Sans-IO: no sockets and no h11 here; :mod:`netbench.lab.http` feeds
requests in and writes replies out. Endpoints:

- ``GET|HEAD /index.html`` and ``/``: the hello-world page, with ``ETag``
  and ``Last-Modified``; ``If-None-Match`` (or ``If-Modified-Since``) that
  matches gives 304.
- ``GET|HEAD /json``: a small JSON document.
- ``GET|HEAD /chunked``: a text body sent in several chunks.
- ``GET|HEAD /slow?delay=SECS``: answers after SECS seconds (default 1, at most 30).
- ``/echo`` (any method): the request (method, target, version, headers, body) as JSON.
- any other path: 404; another method on a page: 405.

``/login``, ``/me`` and ``/ready-after`` remember things between requests
(sessions, counters): :mod:`netbench.lab.accounts` answers them, with the
server's state; :func:`route` stays a pure function of one request.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

Headers = tuple[tuple[bytes, bytes], ...]

HELLO = b"<html><body>hello world</body></html>\n"
ETAG = b'"' + hashlib.sha256(HELLO).hexdigest()[:16].encode() + b'"'
LAST_MODIFIED_AT = float(int(time.time()))
LAST_MODIFIED = email.utils.formatdate(LAST_MODIFIED_AT, usegmt=True).encode()
MAX_DELAY = 30.0
DEFAULT_DELAY = 1.0
MAX_BODY = 1024 * 1024
CHUNKS = tuple(f"chunk {i} of 5: {'.' * (10 * i)}\n".encode() for i in range(1, 6))
JSON_BODY = (
    json.dumps(
        {
            "server": "netbench-lab",
            "hello": "world",
            "endpoints": [
                "/index.html",
                "/json",
                "/chunked",
                "/slow?delay=SECS",
                "/echo",
                "/login",
                "/me",
                "/ready-after?n=N",
            ],
        },
        indent=2,
    ).encode()
    + b"\n"
)
TRY = "(try /index.html, /json, /chunked, /slow?delay=1, /echo, POST /login, /me, /ready-after?n=3)"
PAGE_METHODS = (b"GET", b"HEAD")
PAGES = frozenset({"/", "/index.html", "/json", "/chunked", "/slow"})
"""The paths answered to GET and HEAD only (405 for another method)."""


@dataclass(frozen=True)
class Reply:
    """A response to send: status, headers (without Date/Server), body parts.

    ``chunks`` holds the body; more than one part and no Content-Length
    means the body goes out chunked. ``delay`` is seconds to wait before
    answering; ``close`` asks to close the connection after the reply.
    ``static`` marks the module's constant replies, whose validated headers
    the server may reuse.
    """

    status: int
    headers: Headers
    chunks: tuple[bytes, ...] = ()
    delay: float = 0.0
    close: bool = False
    static: bool = False

    @property
    def reason(self) -> bytes:
        """The reason phrase for the status (``OK``, ``Not Found``, ...)."""
        return REASONS.get(self.status, b"")


REASONS: dict[int, bytes] = {status.value: status.phrase.encode() for status in HTTPStatus}


def simple(
    status: int,
    text: str,
    content_type: bytes = b"text/plain; charset=utf-8",
    *,
    extra: Headers = (),
    delay: float = 0.0,
) -> Reply:
    """A reply with one body part and its Content-Length."""
    body = text.encode()
    headers = ((b"Content-Type", content_type), (b"Content-Length", str(len(body)).encode()))
    return Reply(status, headers + extra, (body,), delay=delay)


INDEX = Reply(
    200,
    (
        (b"Content-Type", b"text/html; charset=utf-8"),
        (b"Content-Length", str(len(HELLO)).encode()),
        (b"ETag", ETAG),
        (b"Last-Modified", LAST_MODIFIED),
        (b"Cache-Control", b"no-cache"),
    ),
    (HELLO,),
    static=True,
)
NOT_MODIFIED = Reply(304, INDEX.headers[2:], static=True)
JSON_REPLY = Reply(
    200,
    ((b"Content-Type", b"application/json"), (b"Content-Length", str(len(JSON_BODY)).encode())),
    (JSON_BODY,),
    static=True,
)
CHUNKED = Reply(200, ((b"Content-Type", b"text/plain; charset=utf-8"),), CHUNKS, static=True)


def _header(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _etag_matches(value: bytes) -> bool:
    """``If-None-Match`` uses the weak comparison: ``W/`` prefixes do not matter."""
    if value.strip() == b"*":
        return True
    tags = (tag.strip() for tag in value.split(b","))
    return any(tag.removeprefix(b"W/") == ETAG for tag in tags)


def _not_modified_since(value: bytes) -> bool:
    try:
        since = email.utils.parsedate_to_datetime(value.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return False
    return since.timestamp() >= LAST_MODIFIED_AT


def index(headers: Sequence[tuple[bytes, bytes]]) -> Reply:
    """The hello page, or 304 when the client's cached copy is current."""
    if_none_match = _header(headers, b"if-none-match")
    if if_none_match is not None:
        return NOT_MODIFIED if _etag_matches(if_none_match) else INDEX
    if_modified_since = _header(headers, b"if-modified-since")
    if if_modified_since is not None and _not_modified_since(if_modified_since):
        return NOT_MODIFIED
    return INDEX


def slow(query: str) -> Reply:
    """Wait ``delay`` seconds (from the query; default 1, capped at 30), then answer."""
    values = parse_qs(query).get("delay")
    delay = DEFAULT_DELAY
    if values:
        try:
            delay = float(values[-1])
        except ValueError:
            delay = -1.0
        if not math.isfinite(delay) or delay < 0:
            return simple(400, f"bad delay {values[-1]!r}: give seconds from 0 to {MAX_DELAY:g}\n")
    delay = min(delay, MAX_DELAY)
    return simple(200, f"waited {delay:g} s\n", delay=delay)


def echo(
    method: bytes, target: bytes, version: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
) -> Reply:
    """The request, as JSON. A body that is not UTF-8 comes back as ``body_hex``."""
    document: dict[str, object] = {
        "method": method.decode("latin-1"),
        "target": target.decode("latin-1"),
        "http_version": version.decode("latin-1"),
        "headers": [[name.decode("latin-1"), value.decode("latin-1")] for name, value in headers],
    }
    try:
        document["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        document["body_hex"] = body.hex()
    return simple(200, _echo_json(document), b"application/json")


def _echo_json(document: dict[str, object]) -> str:
    """Indented JSON with each header pair on one line, so it reads like the request."""
    lines = []
    for key, value in document.items():
        if key == "headers" and isinstance(value, list) and value:
            pairs = ",\n".join(f"    {json.dumps(pair)}" for pair in value)
            lines.append(f'  "headers": [\n{pairs}\n  ]')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def route(
    method: bytes,
    target: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes = b"",
    version: bytes = b"1.1",
) -> Reply:
    """The reply to one complete request. *headers* keep their original case."""
    text = target.decode("latin-1")
    parts = urlsplit(text)
    path = parts.path or "/"
    if path == "/echo":
        return echo(method, target, version, headers, body)
    if path not in PAGES:
        return simple(404, f"not found: {path}\n{TRY}\n")
    if method not in PAGE_METHODS:
        allowed = f"method {method.decode('latin-1')} not allowed on {path}\n"
        return simple(405, allowed, extra=((b"Allow", b"GET, HEAD"),))
    if path == "/json":
        return JSON_REPLY
    if path == "/chunked":
        return CHUNKED
    if path == "/slow":
        return slow(parts.query)
    return index(headers)
