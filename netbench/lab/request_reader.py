"""Read one HTTP/1.x request off a :class:`~netbench.lab.conversation.Conversation`, framed by h11.

h11's server side decides where a request ends, as it does for the lab's
http service: CRLF or bare LF line ends, Content-Length, chunked bodies with
chunk extensions and trailers. :func:`read_request` returns what ``serve``
compares (the request line) and leaves whatever followed the request (a
pipelined next one) in the conversation's buffer.

Bounds: a head is at most :data:`MAX_HEAD` bytes; a body at most
:data:`MAX_BODY` bytes on the wire and, when its Content-Encoding is gzip
or deflate, at most :data:`MAX_BODY` bytes once decoded (the same cap as an
answer in replay), decoded in pieces and thrown away, so a small
compressed bomb costs no memory. A request that breaks a bound, is not
HTTP or does not decode raises :class:`RequestProblem` with one line of
words; the client closing early raises :class:`ClosedEarly`.

A request without ``Host`` is framed as if it had one: h11 insists on it
for HTTP/1.1, but ``serve`` matches loosely and a request typed by hand
often lacks it.
"""

from __future__ import annotations

from dataclasses import dataclass

from netbench.core.decoding import BodyDecoder, DecodeError, can_decode, parse_encodings
from netbench.core.escape import quote
from netbench.core.h11lib import h11
from netbench.lab.conversation import Conversation
from netbench.lab.rejections import explain

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
SAMPLE = 200  # bytes of a request kept to quote when the client closes early


class RequestProblem(Exception):
    """The request cannot be read: the message is one terminal-safe line of words."""


class TooBig(RequestProblem):
    """The request breaks a size bound (its head, its body on the wire or decoded)."""


class ClosedEarly(RequestProblem):
    """The client closed before the request ended; ``partial`` is what had arrived (its start)."""

    def __init__(self, partial: bytes) -> None:
        super().__init__(f"the client closed after {quote(partial)}")
        self.partial = partial


@dataclass(frozen=True)
class RequestSeen:
    """One request as h11 framed it: the request line's parts and the body's size."""

    method: bytes
    target: bytes
    version: bytes
    body_size: int
    decoded_size: int | None = None

    @property
    def line(self) -> bytes:
        """The request line as ``serve`` compares it: ``GET /path HTTP/1.1``."""
        return b"%s %s HTTP/%s" % (self.method, self.target, self.version)


class _Framer:
    """h11's server side for one request, with the bounds above (sans-IO)."""

    def __init__(self, max_head: int, max_body: int) -> None:
        self.max_head, self.max_body = max_head, max_body
        self.parser = h11.Connection(h11.SERVER, max_incomplete_event_size=max_head)
        self.head: bytearray | None = bytearray()  # what was fed before the head ended
        self.sample = b""
        self.request: h11.Request | None = None
        self.size = 0
        self.decoded = 0
        self.decoder: BodyDecoder | None = None
        self.encoding = ""

    def feed(self, data: bytes) -> None:
        if len(self.sample) < SAMPLE:
            self.sample += data[: SAMPLE - len(self.sample)]
        if self.head is not None:
            self.head += data
        self.parser.receive_data(data)

    def next_event(self) -> object:
        try:
            event = self.parser.next_event()
        except h11.RemoteProtocolError as error:
            message = str(error)
            if message.startswith("Missing mandatory Host") and self.head is not None:
                self._reframe_with_host()
                return self.next_event()
            if error.error_status_hint == 431:
                raise TooBig(f"the request head did not end in the first {self.max_head >> 10} KiB") from None
            if message.startswith("peer"):
                raise ClosedEarly(self.sample) from None
            raise RequestProblem(explain(message)) from None
        if isinstance(event, h11.Request):
            self._start(event)
        elif isinstance(event, h11.Data):
            self._body(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            self._decode_rest()
        elif isinstance(event, h11.ConnectionClosed):
            raise ClosedEarly(self.sample)
        return event

    def _reframe_with_host(self) -> None:
        assert self.head is not None
        data = bytes(self.head)
        end = data.find(b"\n") + 1
        self.parser = h11.Connection(h11.SERVER, max_incomplete_event_size=self.max_head)
        self.parser.receive_data(data[:end] + b"Host: -\r\n" + data[end:])
        self.head = None

    def _start(self, request: h11.Request) -> None:
        self.request = request
        self.head = None
        headers = {name: value for name, value in request.headers}
        length = headers.get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.max_body:
            raise TooBig(f"the request says Content-Length {int(length)}, over {self.max_body >> 20} MiB")
        encodings = parse_encodings(headers.get(b"content-encoding", b"").decode("latin-1"))
        if encodings and can_decode(encodings):
            self.decoder = BodyDecoder(encodings)
            self.encoding = ", ".join(encodings)

    def _body(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_body:
            raise TooBig(f"the request body passed {self.max_body >> 20} MiB")
        if self.decoder is not None:
            try:
                for piece in self.decoder.pieces(data):
                    self._count_decoded(len(piece))
            except DecodeError as error:
                raise RequestProblem(f"the request body does not decode: {error}") from None

    def _decode_rest(self) -> None:
        if self.decoder is not None:
            try:
                self._count_decoded(len(self.decoder.finish()))
            except DecodeError as error:
                raise RequestProblem(f"the request body does not decode: {error}") from None

    def _count_decoded(self, size: int) -> None:
        self.decoded += size
        if self.decoded > self.max_body:
            raise TooBig(f"the {self.encoding} request body decodes to more than {self.max_body >> 20} MiB")


async def read_request(
    conversation: Conversation, *, max_head: int = MAX_HEAD, max_body: int = MAX_BODY
) -> RequestSeen:
    """Read one whole request (head and body); what follows it stays for the next read.

    Raises :class:`RequestProblem` (or :class:`ClosedEarly`); the caller sets the deadline.
    """
    framer = _Framer(max_head, max_body)
    while True:
        event = framer.next_event()
        if event is h11.NEED_DATA:
            framer.feed(await conversation.receive())
        elif isinstance(event, h11.EndOfMessage):
            conversation.unread(framer.parser.trailing_data[0])
            request = framer.request
            assert request is not None
            return RequestSeen(
                request.method,
                request.target,
                request.http_version,
                framer.size,
                framer.decoded if framer.decoder is not None else None,
            )
