"""The lab's HTTP/1.1 server: h11's server-side Connection on an asyncio protocol.

Bytes in, h11 events out, :func:`netbench.lab.pages.route` picks the reply,
h11 frames it (Content-Length, chunked, HEAD, 304, keep-alive, pipelining).
Every reply carries ``Date`` and ``Server: netbench-lab``. A request h11
rejects gets its error status (400, or 431 for oversized headers) and the
connection closes. A connection idle for :data:`IDLE_TIMEOUT` seconds closes.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from urllib.parse import urlsplit

from netbench.core.escape import escape
from netbench.core.h11lib import h11
from netbench.lab import accounts
from netbench.lab.base import Connections, TrackedProtocol, peer_of
from netbench.lab.pages import MAX_BODY, Reply, route, simple
from netbench.lab.rejections import explain, http09_answer, http09_line
from netbench.lab.shared import per_server

SERVER = b"netbench-lab"
IDLE_TIMEOUT = 300.0
_MAYBE_STATEFUL = re.compile(rb"/(?:login|me|ready-after)(?:[?#]|$)")  # cheap, before urlsplit
OPENING_LIMIT = 8192  # the most of a first line looked at for HTTP/0.9

_date_second = -1
_date_value = b""


def http_date() -> bytes:
    """The current time as an HTTP date, computed at most once per second."""
    global _date_second, _date_value
    now = int(time.time())
    if now != _date_second:
        _date_second, _date_value = now, email.utils.formatdate(now, usegmt=True).encode()
    return _date_value


_validated: dict[int, tuple[bytes, h11.Response]] = {}


def _response(reply: Reply, close: bool) -> h11.Response:
    """The h11 Response for *reply*, with Date and Server.

    For a static reply the Response is built (and its headers validated by
    h11) once per second and reused: the per-request path stays lean.
    """
    date = http_date()
    if reply.static and not close:
        cached = _validated.get(id(reply))
        if cached is not None and cached[0] is date:
            return cached[1]
    headers = [(b"Date", date), (b"Server", SERVER), *reply.headers]
    if close:
        headers.append((b"Connection", b"close"))
    response = h11.Response(status_code=reply.status, headers=headers, reason=reply.reason)
    if reply.static and not close:
        _validated[id(reply)] = (date, response)
    return response


class HttpStream(TrackedProtocol):
    """One HTTP connection: any number of requests, answered in order."""

    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.conn = h11.Connection(h11.SERVER)
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._busy = False  # a reply is pending (e.g. /slow): don't read further events
        self._write_paused = False  # the client does not read its answers fast enough
        self._timer: asyncio.TimerHandle | None = None
        self._pending: asyncio.TimerHandle | None = None  # a delayed reply
        self._last_activity = 0.0
        self._opening: bytearray | None = bytearray()  # the first line, until it is seen whole

    # -- asyncio callbacks ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        loop = asyncio.get_running_loop()
        self._last_activity = loop.time()
        self._timer = loop.call_later(IDLE_TIMEOUT, self._check_idle)

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return  # closing: what the client still sends is discarded
        self._last_activity = asyncio.get_running_loop().time()
        if self._opening is not None and self._opened_http09(data):
            return
        self.conn.receive_data(data)
        self._process()

    def _opened_http09(self, data: bytes) -> bool:
        """Answer at once when the connection opens with an HTTP/0.9 line (``GET /``)."""
        assert self._opening is not None
        self._opening += data
        line = http09_line(bytes(self._opening))
        if line is not None:
            self._send(simple(400, http09_answer(line) + "\n"), close=True)
            return True
        if b"\n" in self._opening or len(self._opening) > OPENING_LIMIT:
            self._opening = None  # a request line (or not HTTP at all): h11 takes it from here
        return False

    def eof_received(self) -> bool:
        if self.lingering:
            return False
        # A half-close after a request (nc -N) still gets its answer.
        self.conn.receive_data(b"")
        self._process()
        return True

    def pause_writing(self) -> None:
        self._write_paused = True
        self._flow()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._flow()

    def _flow(self) -> None:
        """Read from the socket only while a reply can follow what is read.

        While a reply is pending (``/slow``) or the client is not reading its
        answers, the server stops reading: a pipelining client then fills the
        kernel's buffers and its own sends block, as with any real server,
        instead of growing h11's buffer without bound. A closing connection
        reads on, to see the client's EOF.
        """
        if self.transport.is_closing():
            return
        if (self._busy or self._write_paused) and not self.lingering:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        for handle in (self._timer, self._pending):
            if handle is not None:
                handle.cancel()
        self._timer = self._pending = None
        super().connection_lost(exc)

    def _check_idle(self) -> None:
        loop = asyncio.get_running_loop()
        left = self._last_activity + IDLE_TIMEOUT - loop.time()
        if left <= 0 and not self._busy:
            self.transport.close()
        else:
            self._timer = loop.call_later(max(left, 1.0), self._check_idle)

    # -- the request/response cycle ------------------------------------------

    def _process(self) -> None:
        conn = self.conn
        while not self._busy and not self.lingering and not self.transport.is_closing():
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as error:
                self._reject(error)
                return
            if isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > MAX_BODY:
                    self._send(simple(413, f"request body over {MAX_BODY} bytes\n"), close=True)
                    return
            elif isinstance(event, h11.Request):
                self._request = event
                self._body.clear()
                if conn.they_are_waiting_for_100_continue:
                    self.transport.write(
                        conn.send(h11.InformationalResponse(status_code=100, headers=self._common()))
                    )
            elif isinstance(event, h11.EndOfMessage):
                self._respond()
            elif event is h11.NEED_DATA or event is h11.PAUSED:
                return
            elif isinstance(event, h11.ConnectionClosed):
                self.transport.close()  # the client closed first: nothing to linger for
                return

    def _respond(self) -> None:
        request = self._request
        assert request is not None
        headers = request.headers.raw_items()
        reply = self._stateful(request, headers) if _MAYBE_STATEFUL.search(request.target) else None
        if reply is None:
            reply = route(request.method, request.target, headers, bytes(self._body), request.http_version)
        if reply.delay > 0:
            self._busy = True
            self._pending = asyncio.get_running_loop().call_later(reply.delay, self._send_later, reply)
            self._flow()
        else:
            self._send(reply)

    def _stateful(self, request: h11.Request, headers: list[tuple[bytes, bytes]]) -> Reply | None:
        """The reply of a page that remembers (``/login``, ``/me``, ``/ready-after``), or None."""
        parts = urlsplit(request.target.decode("latin-1"))
        if parts.path not in accounts.PATHS:
            return None
        peer = self.transport.get_extra_info("peername")
        state = per_server(self._connections, accounts.SiteState)
        client = str(peer[0]) if peer else ""
        return accounts.answer(
            request.method, parts.path, parts.query, headers, bytes(self._body), client, state
        )

    def _send_later(self, reply: Reply) -> None:
        self._busy = False
        self._pending = None
        if not self.transport.is_closing():
            self._send(reply)
            self._process()
            self._flow()

    @staticmethod
    def _common() -> list[tuple[bytes, bytes]]:
        return [(b"Date", http_date()), (b"Server", SERVER)]

    def _send(self, reply: Reply, *, close: bool = False) -> None:
        """Write *reply* in one go; then start the next cycle or close."""
        conn = self.conn
        try:
            out = conn.send(_response(reply, close or reply.close))
            request = self._request
            if reply.status != 304 and (request is None or request.method != b"HEAD"):
                for chunk in reply.chunks:
                    out += conn.send(h11.Data(data=chunk))
            out += conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            self.transport.abort()  # a bug in a reply: don't leave the client hanging
            return
        self.transport.write(out)
        if self._connections.log is not None:
            self._log(reply)
        self._request = None
        if conn.our_state is h11.MUST_CLOSE or conn.their_state in (h11.CLOSED, h11.MUST_CLOSE):
            self.close_gracefully()
        elif conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        # else: the client is still sending its body (e.g. 413): nothing more to read

    def _log(self, reply: Reply) -> None:
        request = self._request
        if request is None:
            what = "(malformed request)"
        else:
            line = b"%s %s HTTP/%s" % (request.method, request.target, request.http_version)
            what = f'"{escape(line)}"'
        self._connections.note(f"{peer_of(self.transport)} {what} {reply.status}")

    def _reject(self, error: h11.RemoteProtocolError) -> None:
        """Answer a malformed request with h11's status hint, then close."""
        status = error.error_status_hint
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self._request = None
            self._send(simple(status, f"bad request: {explain(str(error))}\n"), close=True)
        self.close_gracefully()
