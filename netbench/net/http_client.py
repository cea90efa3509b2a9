"""The I/O edge of ``netbench http``: HTTP exchanges over one keep-alive connection.

All HTTP logic (request bytes, response parsing, decoding) is in
:mod:`netbench.core.http`; this module only moves bytes. It uses a blocking
socket with a timeout on every wait, because a one-shot command that sends
requests one after the other has nothing to overlap, and the event loop's
overhead per request measured larger than the parsing itself (see
bench/http.py). TLS uses the session engine's options and context
(:mod:`netbench.net.tls`); errors are translated as for sessions
(:mod:`netbench.net.failures`).

Contracts: every wait is bounded by ``timeout`` (:class:`TimedOut`, exit 4);
the peer closing in the middle of a response raises :class:`Reset` (exit 5)
saying how many of how many bytes arrived; a malformed response raises
:class:`ProtocolError` (exit 6) with the bytes received so far in
``partial``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from netbench.core.address import Target, host_header
from netbench.core.http import HttpConnection, HttpResponse, ResponseParser
from netbench.core.render import Timings
from netbench.errors import NetbenchError, ProtocolError, Reset, TimedOut
from netbench.net.dial import READ_SIZE
from netbench.net.failures import translate
from netbench.net.idle import IdleCheck

if TYPE_CHECKING:
    from netbench.net.tls import CertificateSummary, TLSOptions


class Exchange:
    """One request sent and the response to it (read-only by convention).

    ``certificate`` is the server's TLS certificate when this exchange opened
    a new TLS connection, else None. ``truncated``: the decoded body reached
    the ``max_decoded`` cap and the rest was not read (the connection is closed).
    A plain class, not a frozen dataclass: that costs a millisecond of start-up.
    """

    __slots__ = ("certificate", "request", "response", "timings", "truncated")

    def __init__(
        self,
        request: bytes,
        response: HttpResponse,
        timings: Timings,
        certificate: CertificateSummary | None = None,
        truncated: bool = False,
    ) -> None:
        self.request = request
        self.response = response
        self.timings = timings
        self.certificate = certificate
        self.truncated = truncated

    def __repr__(self) -> str:
        return f"Exchange({self.request!r}, {self.response!r}, {self.timings!r})"


class HttpClient:
    """A client for one host:port; reconnects only when the server ends keep-alive.

    ``exchange(request_bytes)`` sends one request and returns the response.
    Build the bytes with :meth:`request` so the keep-alive state stays right.
    """

    def __init__(
        self,
        target: Target,
        *,
        timeout: float | None = 10.0,
        family: int = socket.AF_UNSPEC,
        tls: TLSOptions | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.family = family
        self.tls = tls
        self.clock = clock
        self.certificate: CertificateSummary | None = None
        self.connections = 0
        self._sock: socket.socket | None = None
        self._idle: IdleCheck | None = None  # the connection's idle check: None exactly when not connected
        self._http = HttpConnection()
        self._connect_time = 0.0
        self._fresh = False
        self._view = memoryview(bytearray(READ_SIZE))
        self.last_response_started = False
        self.first_byte: float | None = None  # clock() at the first byte of the last response
        self._origin = 0.0  # clock() when the current connection's connect began
        self.last_request = b""
        self._host = host_header(self.target)  # the Host header: the same for every request

    # -- connection ------------------------------------------------------------

    def _connect(self) -> None:
        """A new connection through the one dialer (:func:`netbench.net.dial.dial`)."""
        from netbench.net.dial import dial

        start = self.clock()
        sock = dial(self.target, self.family, self.timeout, tls=self.tls)
        if self.target.transport == "tls":
            from netbench.net.tls import TLSOptions, summarize

            verified = not (self.tls or TLSOptions()).insecure
            self.certificate = summarize(sock, verified)  # type: ignore[arg-type]
        sock.settimeout(self.timeout)
        self._sock = sock
        self._idle = IdleCheck(sock)
        self._http = HttpConnection()
        self._connect_time = self.clock() - start
        self._fresh = True
        self.connections += 1

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._idle = None
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- exchanges ---------------------------------------------------------------

    def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None = None,
        chunked: bool = False,
    ) -> bytes:
        """Connect when needed and return the request bytes for :meth:`exchange`.

        A kept-alive connection is used again only when the last response left
        it clean (:attr:`HttpConnection.reusable`) and nothing has arrived on it
        since: bytes no request asked for, or the server's close, mean a new
        connection, so they can never be read as the answer to this request.
        """
        idle = self._idle
        if idle is None or not self._http.reusable or idle():
            self.close()
            self._origin = self.clock()
            self._connect()
        return self._http.request(method, target, headers, body, host=self._host, chunked=chunked)

    def fetch(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None = None,
        *,
        chunked: bool = False,
        sink: Callable[[bytes], object] | None = None,
        keep_raw: bool = True,
        on_head: Callable[[HttpResponse], object] | None = None,
        max_decoded: int | None = None,
    ) -> Exchange:
        """:meth:`request` then :meth:`exchange`, retrying once on a fresh connection when a
        reused keep-alive connection turns out closed before any byte of the response
        (the server dropped an idle connection: curl retries the same way).
        """
        request = self.request(method, target, headers, body, chunked)
        reused = not self._fresh
        try:
            return self.exchange(
                request, sink=sink, keep_raw=keep_raw, on_head=on_head, max_decoded=max_decoded
            )
        except Reset as error:
            if not reused or error.partial or self.last_response_started:
                raise
        self.close()
        request = self.request(method, target, headers, body, chunked)
        return self.exchange(request, sink=sink, keep_raw=keep_raw, on_head=on_head, max_decoded=max_decoded)

    def exchange(
        self,
        data: bytes,
        *,
        sink: Callable[[bytes], object] | None = None,
        keep_raw: bool = True,
        on_head: Callable[[HttpResponse], object] | None = None,
        max_decoded: int | None = None,
    ) -> Exchange:
        """Send *data* (from :meth:`request`) and read its response.

        ``sink`` receives the decoded body piece by piece (flat memory);
        ``on_head`` is called with the head (an HttpResponse without body)
        as soon as it arrived, before any of the body goes to ``sink``;
        ``max_decoded`` caps a decoded (gzip, deflate) body: reading stops
        there and the exchange says ``truncated``.
        """
        self.last_request = data
        sock = self._sock
        assert sock is not None
        parser = self._http.parser(sink=sink, keep_raw=keep_raw, max_decoded=max_decoded)
        if on_head is not None:
            parser.on_head = on_head
        self.last_response_started = False  # a failed write is retried like an empty answer
        start = self.clock()
        try:
            sock.sendall(data)
        except OSError as error:
            raise self._failure(error, parser) from None
        response = self.receive(parser, start)
        if not self._http.reusable:
            self.close()
        return self.finish(data, parser, response, start)

    def open(self) -> bool:
        """Connect when not connected, or when the idle connection holds bytes no request
        asked for (or the server's close); True when this made a new connection."""
        if self._idle is not None:
            if not self._idle():
                return False
            self.close()
        self._origin = self.clock()
        self._connect()
        return True

    @property
    def host(self) -> str:
        """The Host header of this client's requests."""
        return self._host

    def send(self, data: bytes) -> bool:
        """Write *data*; False when the peer has closed or reset the connection (its
        answers to earlier requests may still be there to read)."""
        self.last_request = data
        sock = self._sock
        assert sock is not None
        try:
            sock.sendall(data)
        except TimeoutError:
            self.close()
            address = self.target.display
            raise TimedOut(f"timed out sending to {address}", address) from None
        except (BrokenPipeError, ConnectionResetError):
            return False
        except OSError as error:
            self.close()
            raise translate(error, self.target.display, during="talk to") from None
        return True

    def receive(self, parser: ResponseParser, start: float) -> HttpResponse:
        """Read one response into *parser* (its request was written at *start*).

        The final head is due within ``timeout`` of *start*, however many
        interim (1xx) responses or trickled head bytes come first; then each
        wait for the body gets ``timeout`` again. A long Content-Length body is
        read past h11 (:meth:`ResponseParser.body_left`): two copies of each
        piece instead of five. On any failure the connection is closed and the error
        raised says how far the response got.
        """
        sock = self._sock
        assert sock is not None
        timeout = self.timeout
        deadline = None if timeout is None else start + timeout
        shortened = False  # the socket's timeout is the time left until the head's deadline
        self.first_byte = None
        self.last_response_started = False
        view = self._view
        try:
            response = parser.feed(b"") if parser.raw_size else None  # bytes already buffered
            if response is None and deadline is not None and timeout is not None:
                left = deadline - self.clock()
                if left <= 0:
                    raise TimeoutError
                if left < timeout:  # started earlier (a pipelined request written ahead)
                    sock.settimeout(left)
                    shortened = True
            while response is None:
                # recv_into a reused buffer: recv(256 KiB) would allocate (mmap) 256 KiB per call,
                # which measured as the largest cost per request for small responses.
                chunk = view[: sock.recv_into(view)].tobytes()
                if self.first_byte is None:
                    self.first_byte = self.clock()
                    self.last_response_started = bool(chunk)
                response = parser.feed(chunk) if chunk else parser.feed_eof()
                if response is not None:
                    break
                if deadline is not None and parser.head is None:
                    # The final head is due within -w of the request, however many interim
                    # (1xx) responses or trickled head bytes come first.
                    left = deadline - self.clock()
                    if left <= 0:
                        raise TimeoutError
                    sock.settimeout(left)
                    shortened = True
                    continue
                if shortened:
                    sock.settimeout(timeout)  # the body: an idle timeout again
                    shortened = False
                if parser.body_left():
                    response = self._read_body(sock, parser)
        except (OSError, NetbenchError) as error:
            raise self._failure(error, parser) from None
        if shortened and self._sock is not None:
            sock.settimeout(timeout)
        return response

    def _read_body(self, sock: socket.socket, parser: ResponseParser) -> HttpResponse:
        """The rest of a Content-Length body, read straight into the parser's decoder or sink."""
        view = self._view
        size = len(view)
        while True:
            left = parser.body_left()
            count = sock.recv_into(view, left if left < size else size)
            response = parser.feed_body(view[:count].tobytes()) if count else parser.feed_eof()
            if response is not None:
                return response

    def finish(self, data: bytes, parser: ResponseParser, response: HttpResponse, start: float) -> Exchange:
        """The :class:`Exchange` of *data* and its *response*, read since *start*.

        Its timings count from one origin, as curl's ``-w`` times do: the start
        of the connect on a new connection, else *start* (the request written);
        so ``connect <= first_byte <= total`` always.
        """
        end = self.clock()
        reused, self._fresh = not self._fresh, False
        connect_time, self._connect_time = self._connect_time, 0.0
        origin = start if reused else min(self._origin, start)
        first_byte = self.first_byte if self.first_byte is not None else end
        timings = Timings(connect_time, max(first_byte - origin, connect_time), end - origin, reused)
        certificate = None if reused else self.certificate
        return Exchange(data, response, timings, certificate, parser.truncated)

    def _failure(self, error: BaseException, parser: ResponseParser) -> NetbenchError:
        """*error* while reading *parser*'s response, as the netbench error to raise (closes)."""
        self.close()
        address = self.target.display
        if isinstance(error, TimeoutError):
            what = "a response" if parser.head is None else "the rest of the body"
            return TimedOut(
                f"timed out waiting for {what} from {address}{_progress(parser)}", address, partial=parser.raw
            )
        if isinstance(error, Reset):
            return Reset(f"{address}: {error}", address, partial=error.partial)
        if isinstance(error, ProtocolError):
            return ProtocolError(f"{address}: {error}", partial=error.partial)
        if isinstance(error, NetbenchError):
            return error
        assert isinstance(error, OSError)
        failure = translate(error, address, during="talk to")
        if isinstance(failure, Reset):
            failure = Reset(f"{failure}{_progress(parser)}", address, partial=parser.raw)
        return failure


def _progress(parser: ResponseParser) -> str:
    """`` (after 120 of 1000 body bytes)``: how far a response got, for error messages."""
    if parser.head is None:
        if parser.interim:
            return f" ({parser.interim} interim (1xx) responses, no final one)"
        return f" ({parser.raw_size} bytes of the response head received)" if parser.raw_size else ""
    expected = parser.expected_size
    if expected is not None:
        return f" (after {parser.encoded_size} of {expected} body bytes)"
    return f" (after {parser.encoded_size} body bytes)"
