"""HTTP message model and request bytes (sans-IO, h11): the pieces :mod:`netbench.core.http` exports.

:class:`HttpResponse` and :class:`Informational` are the parsed response;
:func:`build_request` turns a method, target, headers and body into the
exact bytes of a request; :func:`request_events` and :func:`send_events` are
its two halves, which the client and parser modules share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from netbench.core.escape import scrub
from netbench.core.frozen import Frozen, set_fields
from netbench.core.h11lib import h11
from netbench.errors import UsageError

Headers = tuple[tuple[str, str], ...]
HeaderInput = Iterable[tuple[str | bytes, str | bytes]]
DEFAULT_MAX_HEADER_SIZE = 64 * 1024
MAX_HEADER_COUNT = 256


def latin1_text(value: bytes) -> str:
    """*value* as text, byte for byte (latin-1: every byte is one character, nothing fails)."""
    return value.decode("latin-1")


def decode_headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """h11's raw header pairs as :data:`Headers`, names and values decoded as latin-1, order kept."""
    return tuple([(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw])


def find_header(headers: Headers, name: str) -> str | None:
    """The first value of header *name* in *headers* (case-insensitive), or None."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def h11_reason(message: str) -> str:
    """h11's error text (which quotes peer bytes) on one terminal-safe line, via core.escape.scrub.

    h11 quotes bytes as ``bytearray(b'...')``; that is shown as ``b'...'``.
    """
    return scrub(re.sub(r"bytearray\((b'.*?')\)", r"\1", message))


class Informational(Frozen):
    """A 1xx response that came before the final one (100 Continue, 103 Early Hints)."""

    __match_args__ = ("status", "reason", "headers")
    status: int
    reason: str
    headers: Headers

    def __init__(self, status: int, reason: str, headers: Headers = ()) -> None:
        set_fields(self, {"status": status, "reason": reason, "headers": headers})


class HttpResponse(Frozen):
    """A complete HTTP response (immutable; compared and hashed by its fields).

    ``body`` is de-chunked with its Content-Encoding undone when that is gzip
    or deflate (``decoded`` says whether it was); ``encoded_size`` is the
    body's size on the wire before decoding. When the body was streamed to a
    sink instead of kept, ``streamed`` is True and ``body`` is empty, but
    ``body_size`` still counts it. ``raw`` is the exact bytes received for
    this response (empty when not kept). :meth:`replace` makes a changed copy.
    """

    __match_args__ = (
        "http_version",
        "status",
        "reason",
        "headers",
        "body",
        "encoded_size",
        "content_encoding",
        "trailers",
        "informational",
        "raw",
        "body_size",
        "decoded",
        "streamed",
    )
    http_version: str
    status: int
    reason: str
    headers: Headers
    body: bytes
    encoded_size: int
    content_encoding: str | None
    trailers: Headers
    informational: tuple[Informational, ...]
    raw: bytes
    body_size: int
    decoded: bool
    streamed: bool

    def __init__(
        self,
        http_version: str,
        status: int,
        reason: str,
        headers: Headers,
        body: bytes = b"",
        encoded_size: int = 0,
        content_encoding: str | None = None,
        trailers: Headers = (),
        informational: tuple[Informational, ...] = (),
        raw: bytes = b"",
        body_size: int = 0,
        decoded: bool = False,
        streamed: bool = False,
    ) -> None:
        set_fields(
            self,
            {
                "http_version": http_version,
                "status": status,
                "reason": reason,
                "headers": headers,
                "body": body,
                "encoded_size": encoded_size,
                "content_encoding": content_encoding,
                "trailers": trailers,
                "informational": informational,
                "raw": raw,
                "body_size": body_size,
                "decoded": decoded,
                "streamed": streamed,
            },
        )

    def header(self, name: str) -> str | None:
        """The first value of header *name* (case-insensitive), or None."""
        return find_header(self.headers, name)

    def header_values(self, name: str) -> list[str]:
        """Every value of header *name*, in order (Set-Cookie may repeat)."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def status_line(self) -> str:
        """``HTTP/1.1 200 OK``."""
        return f"HTTP/{self.http_version} {self.status} {self.reason}".rstrip()

    @property
    def content_type(self) -> str | None:
        """The Content-Type header."""
        return self.header("Content-Type")


def _header_pairs(headers: HeaderInput) -> list[tuple[bytes, bytes]]:
    out = []
    for name, value in headers:
        name_b = name.encode("latin-1") if isinstance(name, str) else name
        value_b = value.encode("utf-8") if isinstance(value, str) else value
        out.append((name_b, value_b))
    return out


def _host_bytes(host: str) -> bytes:
    try:
        return host.encode("ascii")
    except UnicodeEncodeError:
        try:
            return host.encode("idna")
        except UnicodeError:
            raise UsageError(f"invalid host name {host!r}") from None


def h11_request(method: str, target: str, headers: Any) -> h11.Request:
    """h11's Request for *method*, *target* and *headers* (pairs, or a Request's own headers);
    h11's refusal of a method, target or header becomes UsageError (exit 2)."""
    try:
        return h11.Request(method=method, target=target, headers=headers)
    except h11.LocalProtocolError as error:
        raise UsageError(f"invalid request: {h11_reason(str(error))}") from None


def request_events(
    method: str,
    target: str,
    headers: HeaderInput,
    body: bytes | None,
    host: str | None,
    chunked: bool,
) -> list[h11.Request | h11.Data | h11.EndOfMessage]:
    """The h11 events of one request: Request, Data (when there is a body), EndOfMessage.

    Host is added first when *headers* has none; Content-Length (or, with
    *chunked*, Transfer-Encoding: chunked) is added as :func:`build_request`
    documents. An invalid method, target or header raises UsageError.
    """
    pairs = _header_pairs(headers)
    names = {name.lower() for name, _ in pairs}
    if b"host" not in names:
        pairs.insert(0, (b"Host", _host_bytes(host or "localhost")))
    if chunked:
        if b"transfer-encoding" not in names:
            pairs.append((b"Transfer-Encoding", b"chunked"))
    elif body is not None and b"content-length" not in names and b"transfer-encoding" not in names:
        pairs.append((b"Content-Length", str(len(body)).encode()))
    events: list[h11.Request | h11.Data | h11.EndOfMessage] = [h11_request(method, target, pairs)]
    if body:
        events.append(h11.Data(data=body))
    events.append(END_OF_MESSAGE)
    return events


END_OF_MESSAGE = h11.EndOfMessage()  # one shared instance: h11's events are immutable


def send_events(connection: h11.Connection, events: list) -> bytes:
    """The bytes *connection* writes for *events*, joined; h11's refusal becomes UsageError (exit 2)."""
    send = connection.send
    try:
        return b"".join([send(event) or b"" for event in events])
    except h11.LocalProtocolError as error:
        raise UsageError(f"invalid request: {h11_reason(str(error))}") from None


def build_request(
    method: str,
    target: str,
    headers: HeaderInput = (),
    body: bytes | None = None,
    host: str | None = None,
    chunked: bool = False,
) -> bytes:
    """Return the exact bytes of one HTTP/1.1 request.

    A Host header is added first when *headers* has none (``host``, else
    ``localhost``); Content-Length is added when there is a body, unless
    ``chunked`` asks for Transfer-Encoding: chunked. An invalid method, target
    or header raises :class:`~netbench.errors.UsageError` (exit 2).
    """
    connection = h11.Connection(h11.CLIENT)
    return send_events(connection, request_events(method, target, headers, body, host, chunked))
