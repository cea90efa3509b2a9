"""Incremental HTTP response parsing over h11 (sans-IO).

:class:`ResponseParser` takes the bytes of one response as they arrive, in
pieces of any size, and produces an :class:`HttpResponse`. A malformed
response raises :class:`~netbench.errors.ProtocolError` (h11's reason, made
terminal-safe); the peer closing in the middle raises
:class:`~netbench.errors.Reset` saying how much arrived.
"""

from __future__ import annotations

from collections.abc import Callable

from netbench.core.decoding import BodyDecoder, DecodeError, can_decode, parse_encodings
from netbench.core.escape import escape
from netbench.core.h11lib import h11
from netbench.core.http_message import (
    DEFAULT_MAX_HEADER_SIZE,
    MAX_HEADER_COUNT,
    Headers,
    HttpResponse,
    Informational,
    decode_headers,
    find_header,
    h11_reason,
    latin1_text,
    request_events,
    send_events,
)
from netbench.errors import ProtocolError, Reset

# h11's classes bound once: the event loop of _pump tests each event against them.
_NEED_DATA, _PAUSED = h11.NEED_DATA, h11.PAUSED
_DATA, _RESPONSE, _END = h11.Data, h11.Response, h11.EndOfMessage
_INTERIM, _CLOSED, _SEND_BODY = h11.InformationalResponse, h11.ConnectionClosed, h11.SEND_BODY

MAX_INFORMATIONAL = 64  # interim (1xx) responses before the final one; more is a protocol error
# A Content-Length body with more than this left may be read past h11 (body_left, feed_body):
# h11 copies each piece three times (into its buffer, out of it, into bytes), which capped a
# 1 GiB download at a third of curl's speed. Smaller bodies go through h11 and keep keep-alive.
BYPASS_MIN = 1 << 20


class _HeadCache:
    """The last final head's header fields as h11 gave them, decoded, and their lower-case names.

    A keep-alive run's answers often repeat their head byte for byte (nginx's change with
    the Date, once a second): an equal one takes the decoded fields instead of decoding
    again. Immutable values only, so sharing them between responses is safe.
    """

    __slots__ = ("entry",)

    def __init__(self) -> None:
        self.entry: tuple[list[tuple[bytes, bytes]], Headers, frozenset[str]] | None = None

    def lookup(self, raw: list[tuple[bytes, bytes]]) -> tuple[Headers, frozenset[str]]:
        """*raw* decoded (:func:`decode_headers`) and the set of its lower-case names."""
        entry = self.entry
        if entry is not None and entry[0] == raw:
            return entry[1], entry[2]
        headers = decode_headers(raw)
        names = frozenset([name.lower() for name, _ in headers])
        self.entry = (raw, headers, names)
        return headers, names


_HEADS = _HeadCache()


class ResponseParser:
    """Parse one response from bytes fed in pieces of any size.

    ``feed(data)`` and ``feed_eof()`` return the :class:`HttpResponse` once it
    is complete (also left in ``.response``), else None. More than
    :data:`MAX_INFORMATIONAL` interim (1xx) responses raise
    :class:`~netbench.errors.ProtocolError`. ``method`` is the
    request's method (a HEAD response has no body). ``sink``, when given,
    receives the decoded body piece by piece instead of it being kept (flat
    memory for big bodies); ``keep_raw=False`` does not keep the wire bytes.
    Bytes after the end of the response stay in ``.leftover``: on a
    connection with one request in flight they are bytes nobody asked for,
    and :attr:`must_close` says the connection must not carry another request.
    A response with both Content-Length and Transfer-Encoding is read as
    chunked (RFC 9112 section 6.3) and also sets :attr:`must_close`.

    ``max_decoded`` caps a body whose Content-Encoding is undone (a gzip or
    deflate bomb): at that many decoded bytes the parser stops, returns the
    response so far with :attr:`truncated` set, and the connection cannot be
    used again (:attr:`must_close`).
    """

    # State that starts the same in every parser (set on the instance when it changes):
    # a parser is made per response, and a keep-alive run makes thousands.
    _start_ok = False
    _decoder: BodyDecoder | None = None
    _encodings: tuple[str, ...] = ()
    head: h11.Response | None = None
    headers: Headers = ()
    response: HttpResponse | None = None
    encoded_size = 0
    body_size = 0
    leftover = b""
    framing_conflict = False  # both Content-Length and Transfer-Encoding in the head
    truncated = False  # the decoded body reached max_decoded and reading stopped there
    _drained = False  # h11 is in the body with its buffer empty (it asked for more data)
    _bypass_left: int | None = None  # body bytes due past h11, once feed_body started

    def __init__(
        self,
        method: str = "GET",
        *,
        connection: h11.Connection | None = None,
        sink: Callable[[bytes], object] | None = None,
        keep_raw: bool = True,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        on_head: Callable[[HttpResponse], object] | None = None,
        max_decoded: int | None = None,
    ) -> None:
        if connection is None:
            connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header_size)
            events = request_events(method, "/", (), None, "netbench", False)
            send_events(connection, events)
        self._conn = connection
        self._sink = sink
        self.on_head = on_head
        self._keep_raw = keep_raw
        pending = connection.trailing_data[0]
        self._raw: list[bytes] = [pending] if keep_raw and pending else []
        self._raw_size = len(pending)
        self._start = bytes(pending[:5])
        self._max_header_size = max_header_size
        self._body: list[bytes] = []
        self._informational: list[Informational] = []
        self.max_decoded = max_decoded

    @property
    def expected_size(self) -> int | None:
        """The body size announced by Content-Length, when there is one."""
        value = find_header(self.headers, "Content-Length") if self.head else None
        return int(value) if value and value.strip().isdigit() else None

    @property
    def interim(self) -> int:
        """How many interim (1xx) responses came so far."""
        return len(self._informational)

    @property
    def must_close(self) -> bool:
        """True when the connection may not carry another request after this response:
        its framing was ambiguous (Content-Length with Transfer-Encoding), or bytes
        followed it that no request asked for."""
        return self.broken or bool(self.leftover)

    @property
    def broken(self) -> bool:
        """True when the connection cannot go on after this response whatever follows it:
        ambiguous framing, a body cut at ``max_decoded``, or a body read past h11."""
        return self.framing_conflict or self.truncated or self._bypass_left is not None

    def body_left(self) -> int:
        """How many body bytes the caller may read itself and hand to :meth:`feed_body`.

        Nonzero only for a Content-Length body (no Transfer-Encoding) with more
        than :data:`BYPASS_MIN` bytes to come, h11's buffer empty, and the wire
        bytes not kept. Once :meth:`feed_body` was called, it is the exact
        number of bytes still due, and :meth:`feed` must not be called again
        (``feed_eof`` may: the peer closed early). The connection cannot be
        reused after such a body (:attr:`must_close`).
        """
        if self._bypass_left is not None:
            return self._bypass_left
        if not self._drained or self.response is not None or self._keep_raw or self.framing_conflict:
            return 0
        expected = self.expected_size
        if expected is None or find_header(self.headers, "Transfer-Encoding") is not None:
            return 0
        left = expected - self.encoded_size
        return left if left > BYPASS_MIN else 0

    def feed_body(self, data: bytes) -> HttpResponse | None:
        """Body bytes read past h11 (at most :meth:`body_left`): the response once complete."""
        if self._bypass_left is None:
            self._bypass_left = self.body_left()
        self._raw_size += len(data)
        self._bypass_left -= len(data)
        self._on_data(data)
        if self.truncated:
            self.response = self._response(b"", ())
            return self.response
        if self._bypass_left <= 0:
            return self._finish(())
        return None

    @property
    def raw_size(self) -> int:
        """How many bytes of this response were fed so far (kept or not)."""
        return self._raw_size

    @property
    def raw(self) -> bytes:
        """The bytes received for this response so far (when kept)."""
        return b"".join(self._raw)

    def feed(self, data: bytes) -> HttpResponse | None:
        """Take more bytes of the response."""
        if self.response is not None:
            self.leftover += data
            return self.response
        if data:
            self._raw_size += len(data)
            if self._keep_raw:
                self._raw.append(bytes(data))
            elif len(self._start) < 5:
                self._start += data[: 5 - len(self._start)]
            if not self._start_ok:
                self._check_start()
            self._conn.receive_data(data)
        return self._pump()

    def feed_eof(self) -> HttpResponse | None:
        """The peer closed the connection: finish or fail."""
        if self.response is not None:
            return self.response
        if self._conn.their_state is not h11.CLOSED:
            self._conn.receive_data(b"")
        return self._pump(eof=True)

    def _pump(self, eof: bool = False) -> HttpResponse | None:
        conn = self._conn
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as error:
                raise self._failure(error, eof) from None
            if event is _NEED_DATA:
                if eof:
                    raise self._closed_early()
                self._drained = conn.their_state is _SEND_BODY
                return None
            if event is _PAUSED:
                return None
            if isinstance(event, _DATA):
                self._on_data(bytes(event.data))
                if self.truncated:
                    self.response = self._response(self.raw, ())
                    return self.response
            elif isinstance(event, _RESPONSE):
                self._on_head(event)
            elif isinstance(event, _END):
                trailers = event.headers
                return self._finish(decode_headers(trailers.raw_items()) if trailers else ())
            elif isinstance(event, _INTERIM):
                self._on_informational(event)
            elif isinstance(event, _CLOSED):
                raise self._closed_early()

    def _on_head(self, event: h11.Response) -> None:
        self.head = event
        self.headers, names = _HEADS.lookup(event.headers.raw_items())  # names: one pass, not one per lookup
        headers = self.headers
        self._check_head_size()
        if "transfer-encoding" in names:
            self.framing_conflict = "content-length" in names
        if "content-encoding" in names:
            encodings = parse_encodings(find_header(headers, "Content-Encoding"))
            if encodings and can_decode(encodings):
                self._decoder = BodyDecoder(encodings)
            self._encodings = encodings
        if self.on_head is not None:
            self.on_head(self._response(b"", ()))

    def _on_informational(self, event: h11.InformationalResponse) -> None:
        if len(self._informational) >= MAX_INFORMATIONAL:
            raise ProtocolError(
                f"malformed response: more than {MAX_INFORMATIONAL} interim (1xx) responses",
                partial=self.raw,
            )
        headers = decode_headers(event.headers.raw_items())
        self._informational.append(Informational(event.status_code, latin1_text(event.reason), headers))

    def _on_data(self, data: bytes) -> None:
        self.encoded_size += len(data)
        if self._decoder is None:
            self._deliver(data)
            return
        try:
            for piece in self._decoder.pieces(data):  # bounded: a small body may expand a lot
                if not self._deliver_decoded(piece):
                    return
        except DecodeError as error:
            raise ProtocolError(str(error), partial=self.raw) from None

    def _deliver_decoded(self, data: bytes) -> bool:
        """Deliver decoded bytes up to ``max_decoded``; False (and ``truncated``) past it."""
        cap = self.max_decoded
        if cap is not None and self.body_size + len(data) > cap:
            self._deliver(data[: cap - self.body_size])
            self.truncated = True
            return False
        self._deliver(data)
        return True

    def _deliver(self, data: bytes) -> None:
        if not data:
            return
        self.body_size += len(data)
        if self._sink is not None:
            self._sink(data)
        else:
            self._body.append(data)

    def _finish(self, trailers: Headers) -> HttpResponse:
        if self._decoder is not None:
            try:
                self._deliver_decoded(self._decoder.finish())
            except DecodeError as error:
                raise ProtocolError(str(error), partial=self.raw) from None
        head = self.head
        assert head is not None
        pending = self._conn.trailing_data[0]
        self.leftover = bytes(pending)
        raw = self.raw
        if pending and self._keep_raw:
            raw = raw[: len(raw) - len(pending)]
        self.response = self._response(raw, trailers)
        return self.response

    def _response(self, raw: bytes, trailers: Headers) -> HttpResponse:
        head = self.head
        assert head is not None
        return HttpResponse(
            head.http_version.decode("latin-1"),
            head.status_code,
            head.reason.decode("latin-1"),
            self.headers,
            b"".join(self._body),
            self.encoded_size,
            ", ".join(self._encodings) or None,
            trailers,
            tuple(self._informational),
            raw,
            self.body_size,
            self._decoder is not None,
            self._sink is not None,
        )

    def _failure(self, error: h11.RemoteProtocolError, eof: bool) -> Exception:
        reason = str(error)
        if eof and self.head is None:
            return self._closed_early()
        if eof and "without sending complete message body" in reason:
            return self._closed_early()
        return ProtocolError(f"malformed response: {h11_reason(reason)}", partial=self.raw)

    def _check_start(self) -> None:
        """Fail fast when the reply does not start like an HTTP response (HTTP/0.9, garbage)."""
        start = b"".join(self._raw)[:5] if self._keep_raw else self._start
        if len(start) < 5 and not start.endswith(b"\n"):
            if b"HTTP/".startswith(start):
                return
        elif start.startswith(b"HTTP/"):
            self._start_ok = True
            return
        first = b"".join(self._raw).split(b"\n", 1)[0][:60] if self._keep_raw else start
        raise ProtocolError(
            f"not an HTTP response (no status line): {escape(first, keep_newlines=False)!s}",
            partial=self.raw,
        )

    def _check_head_size(self) -> None:
        count = len(self.headers)
        if count <= MAX_HEADER_COUNT and self._raw_size + count <= self._max_header_size:
            # Each header line on the wire is at least name + ":" + value + CRLF, so the sum
            # below is at most the bytes received plus one per header: no need to count.
            return
        size = sum(len(name) + len(value) + 4 for name, value in self.headers)
        if len(self.headers) > MAX_HEADER_COUNT or size > self._max_header_size:
            raise ProtocolError(
                f"response head too big: {len(self.headers)} headers, {size} bytes "
                f"(limits {MAX_HEADER_COUNT} headers, {self._max_header_size} bytes)",
                partial=self.raw,
            )

    def _closed_early(self) -> Reset:
        if self.head is None:
            where = (
                "before any response"
                if not self._raw_size
                else (f"in the middle of the response head ({self._raw_size} bytes received)")
            )
            return Reset(f"connection closed {where}", partial=self.raw)
        expected = self.expected_size
        if expected is not None:
            text = f"connection closed after {self.encoded_size} of {expected} body bytes"
        else:
            text = f"connection closed in the middle of the body ({self.encoded_size} bytes received)"
        return Reset(text, partial=self.raw)


def parse_response(data: bytes, method: str = "GET") -> HttpResponse:
    """Parse *data*, a whole response followed by the end of the connection."""
    parser = ResponseParser(method)
    response = parser.feed(data)
    if response is None:
        response = parser.feed_eof()
    assert response is not None
    return response
