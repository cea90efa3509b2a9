"""HTTP/1.1 around h11, sans-IO: request bytes out, parsed responses in.

- :func:`build_request` turns a method, target, headers and body into the
  exact bytes to send (Host added when missing, Content-Length or chunked).
- :class:`ResponseParser` takes the bytes of a response as they arrive, in
  pieces of any size, and produces an :class:`HttpResponse` (status, reason,
  headers in their original case with duplicates kept, body de-chunked and
  its Content-Encoding undone, trailers, 1xx responses, the raw bytes).
- :class:`HttpConnection` is one keep-alive client connection: the next
  request/response cycle on the same bytes stream.
- :class:`HttpPipeline` is one connection with several requests written
  before their answers are read (HTTP/1.1 pipelining).
- :func:`sniff_exchange` recognises HTTP in bytes a user typed by hand.

Errors: a malformed response raises :class:`~netbench.errors.ProtocolError`
(h11's reason, made terminal-safe); the peer closing in the middle of a
response raises :class:`~netbench.errors.Reset` saying how much arrived.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netbench.core.h11lib import h11
from netbench.core.http_message import (
    DEFAULT_MAX_HEADER_SIZE,
    END_OF_MESSAGE,
    HeaderInput,
    Headers,
    HttpResponse,
    Informational,
    build_request,
    h11_request,
    request_events,
    send_events,
)
from netbench.core.http_parser import ResponseParser, parse_response
from netbench.errors import UsageError

if TYPE_CHECKING:
    from netbench.core.http_sniff import HttpExchange, NotHttp, sniff_exchange

_LAZY = {"HttpExchange", "NotHttp", "sniff_exchange"}


def __getattr__(name: str) -> Any:
    """Import the sniffing helpers on first use (``netbench http`` never needs them)."""
    if name in _LAZY:
        from netbench.core import http_sniff

        return getattr(http_sniff, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Headers",
    "HttpConnection",
    "HttpExchange",
    "HttpPipeline",
    "HttpResponse",
    "Informational",
    "NotHttp",
    "ResponseParser",
    "build_request",
    "parse_response",
    "sniff_exchange",
]


class _HeadMemo:
    """The last body-less request's (headers, host) and the h11 Headers they validated to.

    :meth:`events` for a request with the same ones reuses those Headers
    instead of building and validating them again (a keep-alive or pipelined
    run repeats its headers request after request).
    """

    __slots__ = ("_headers", "_key")

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._headers: Any = None

    def events(self, method: str, target: str, headers: tuple[Any, ...], host: str | None) -> list:
        """The h11 events of a body-less request (as :func:`request_events` gives them)."""
        key = (headers, host)
        if key == self._key:
            return [h11_request(method, target, self._headers), END_OF_MESSAGE]
        events = request_events(method, target, headers, None, host, False)
        if isinstance(events[0], h11.Request):
            self._key, self._headers = key, events[0].headers
        return events


class HttpConnection:
    """One keep-alive client connection (sans-IO): request bytes out, parsers in.

    ``request(...)`` returns the bytes to send and starts the next cycle when
    the previous one is done; ``parser(...)`` returns the
    :class:`ResponseParser` for the response to that request. ``reusable``
    says whether another request may follow on the same connection.
    """

    def __init__(self, max_header_size: int = DEFAULT_MAX_HEADER_SIZE) -> None:
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header_size)
        self._method = "GET"
        self._heads = _HeadMemo()
        self._parser: ResponseParser | None = None

    @property
    def reusable(self) -> bool:
        """True when both sides finished their last message and may go on.

        False too when the last response must end the connection (see
        :attr:`ResponseParser.must_close`): bytes after it that no request asked
        for, or ambiguous framing. Those bytes are never read as the answer to
        the next request; the caller opens a new connection, as curl does.
        """
        conn = self._conn
        idle = conn.our_state is h11.IDLE and conn.their_state is h11.IDLE
        done = idle or (conn.our_state is h11.DONE and conn.their_state is h11.DONE)
        return done and not (self._parser is not None and self._parser.must_close)

    def request(
        self,
        method: str,
        target: str,
        headers: HeaderInput = (),
        body: bytes | None = None,
        host: str | None = None,
        chunked: bool = False,
    ) -> bytes:
        """The bytes of the next request on this connection (see :func:`build_request`)."""
        conn = self._conn
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        elif conn.our_state is not h11.IDLE:
            raise UsageError("the previous exchange on this connection is not finished")
        self._method = method
        headers = tuple(headers)
        if body is None and not chunked:
            return send_events(conn, self._heads.events(method, target, headers, host))
        return send_events(conn, request_events(method, target, headers, body, host, chunked))

    def parser(
        self,
        *,
        sink: Callable[[bytes], object] | None = None,
        keep_raw: bool = True,
        max_decoded: int | None = None,
    ) -> ResponseParser:
        """The parser for the response to the last request (options as :class:`ResponseParser`)."""
        parser = ResponseParser(
            self._method, connection=self._conn, sink=sink, keep_raw=keep_raw, max_decoded=max_decoded
        )
        self._parser = parser
        return parser


class HttpPipeline:
    """One connection with several requests written before their answers are read (sans-IO).

    ``request(...)`` returns the bytes of one more request and queues it;
    ``parser(...)`` returns the :class:`ResponseParser` for the oldest queued
    request, since answers come in request order. Each request is built by
    an h11 connection of its own, which then parses its answer (so a HEAD or
    304 answer is framed right, and the request is serialized once); the
    bytes received after one answer (the start of the next ones) are handed
    on to the next request's h11 connection, and its parser starts with them
    (``feed(b"")`` parses what is already there).

    ``reusable`` says whether the connection may carry more after the last
    answer: not after ``Connection: close`` or HTTP/1.0, a cut or bypassed
    body, ambiguous framing, or bytes after the last answer when no request
    is queued (nobody asked for them).
    """

    def __init__(self, max_header_size: int = DEFAULT_MAX_HEADER_SIZE) -> None:
        self._max_header_size = max_header_size
        self._queue: deque[tuple[str, Any]] = deque()  # (method, its h11 connection)
        self._current: Any = None  # the h11 connection of the answer being (or last) parsed
        self._parser: ResponseParser | None = None
        self._heads = _HeadMemo()

    @property
    def queued(self) -> int:
        """Requests written whose parser was not asked for yet."""
        return len(self._queue)

    @property
    def reusable(self) -> bool:
        """True when the next answer (or request) may follow on this connection."""
        conn, parser = self._current, self._parser
        if conn is None or parser is None:
            return True
        done = conn.our_state is h11.DONE and conn.their_state is h11.DONE
        return done and not parser.broken and (bool(self._queue) or not parser.leftover)

    def request(self, method: str, target: str, headers: HeaderInput = (), host: str | None = None) -> bytes:
        """The bytes of one more body-less request (GET, HEAD, ...), queued for its answer."""
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=self._max_header_size)
        data = send_events(conn, self._heads.events(method, target, tuple(headers), host))
        self._queue.append((method, conn))
        return data

    def parser(
        self,
        *,
        sink: Callable[[bytes], object] | None = None,
        keep_raw: bool = True,
        max_decoded: int | None = None,
    ) -> ResponseParser:
        """The parser for the oldest queued request's answer (options as :class:`ResponseParser`)."""
        if self._current is not None and not self.reusable:
            raise UsageError("the previous answer on this connection is not finished")
        method, conn = self._queue.popleft()
        if self._current is not None:
            pending, closed = self._current.trailing_data
            if pending:
                conn.receive_data(pending)
            if closed:
                conn.receive_data(b"")
        self._current = conn
        parser = ResponseParser(
            method, connection=conn, sink=sink, keep_raw=keep_raw, max_decoded=max_decoded
        )
        self._parser = parser
        return parser
