"""Running steps over one blocking session: the I/O half of the engine.

A :class:`Runner` holds the session (:mod:`netbench.net.blocking`), the
variables and the HTTP state of one recipe run; :meth:`Runner.step` runs one
step and raises :class:`~netbench.recipe.result.StepFailed` when it does not
hold (the rules for what counts as what are in :mod:`netbench.recipe.engine`).
A step is its action (:meth:`Runner.act`: send, an HTTP request, a close, a
sleep), then its expectation (:meth:`Runner.expect`; raw answers are read by
:mod:`netbench.recipe.rawanswer`), then its captures (:meth:`Runner.capture`);
each waits under the step's timeout.

HTTP keep-alive never hands the bytes of one answer to another step: an
``http`` step goes on a fresh connection when the last response ended
keep-alive (``Connection: close``, Content-Length with Transfer-Encoding,
bytes after it that no request asked for) or when anything arrived on the
idle connection since; bytes left after a response are never fed to a
parser again. After a raw ``send`` whose answer was read as HTTP, an
``http`` step goes on the same connection unless that answer ended it.
"""

from __future__ import annotations

import time
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from netbench.core.buffer import KEEP_WHEN_DISCARDING, MAX_ANSWER
from netbench.errors import ExpectationFailed, NetbenchError, ProtocolError, RecipeError, Reset, TimedOut
from netbench.recipe import match as checks
from netbench.recipe.failures import waiting_failed
from netbench.recipe.model import Expect, HttpRequest, Recipe, Step
from netbench.recipe.patterns import set_deadline
from netbench.recipe.rawanswer import receive_datagram, receive_stream
from netbench.recipe.result import StepFailed

if TYPE_CHECKING:
    from netbench.core.address import Target
    from netbench.core.http import HttpConnection, HttpResponse, ResponseParser
    from netbench.core.http_message import Headers
    from netbench.net.blocking import BlockingSession
    from netbench.recipe.cookies import RunCookies
    from netbench.recipe.template import Context


class Runner:
    """State of one run: the session, the variables, the last request method."""

    def __init__(self, recipe: Recipe, target: Target, context: Context, connect_timeout: float) -> None:
        self.recipe = recipe
        self.target = target
        self.context = context
        self.connect_timeout = connect_timeout
        self.session: BlockingSession | None = None
        self._method = "GET"
        self._unsniffed: list[bytes] = []  # raw sends not yet looked at for a request method
        self.http: HttpConnection | None = None  # h11 state of the http steps on this connection
        self.used = False  # whether anything was sent on the current connection
        self.raw_ended = False  # a raw step's HTTP answer ended the connection (close, broken framing)
        self._cookies: RunCookies | None = None
        self.attempts = 1  # how many attempts the last step took (retry)

    @property
    def cookies(self) -> RunCookies:
        """The run's cookie jar (``cookies: false`` turns it off), made on first use: the jar's
        modules (http.cookiejar, urllib.request) import ssl, which a raw TCP recipe never needs."""
        if self._cookies is None:
            from netbench.recipe.cookies import RunCookies

            self._cookies = RunCookies(self.recipe.cookies)
        return self._cookies

    @property
    def method(self) -> str:
        """The method of the last request sent (an http step's, or a raw send that starts like one):
        how the next answer read as HTTP is framed (a HEAD's has no body). A raw send is looked at
        only when an answer needs it: the request sniffer's regexes cost start-up that a raw
        recipe whose answers are never HTTP does not pay."""
        return self._sniffed()

    @method.setter
    def method(self, value: str) -> None:
        self._unsniffed.clear()
        self._method = value

    def _sniffed(self) -> str:
        for data in reversed(self._unsniffed):  # the newest send that is a request decides
            found = _request_method(data)
            if found:
                self._method = found
                break
        self._unsniffed.clear()
        return self._method

    # -- the connection ------------------------------------------------------------

    def connect(self) -> BlockingSession:
        """A new connection (the one dialer; TLS options from the recipe)."""
        from netbench.net.blocking import open_blocking

        tls = None
        spec = self.recipe.tls
        if spec is not None:
            from netbench.net.tls import TLSOptions

            tls = TLSOptions(insecure=spec.insecure, sni=spec.sni, cafile=spec.cafile)
        self.http = None
        self.used = False
        self.raw_ended = False
        self.session = open_blocking(self.target, timeout=self.connect_timeout, tls=tls)
        return self.session

    def current(self) -> BlockingSession:
        """The open connection, connecting again after a ``close: both``."""
        if self.session is None or self.session.closed:
            return self.connect()
        return self.session

    def close(self) -> None:
        """Close the connection (idempotent); the next step that needs one reconnects."""
        self.http = None
        if self.session is not None:
            self.session.close()
            self.session = None

    # -- one step ------------------------------------------------------------------

    def step(self, step: Step) -> dict[str, str]:
        """Run one step (an include, or with its retries); raise :class:`StepFailed` when it does not hold."""
        self.attempts = 1
        if step.include is not None:
            from netbench.recipe.compose import run_included

            captured = run_included(step.include, self.step, self.context)
            self.attempts = 1
            return captured
        if step.retry is None:
            return self.attempt(step)
        from netbench.recipe.compose import run_with_retry

        captured, self.attempts = run_with_retry(
            step.retry, lambda: self.attempt(step), lambda: self.again(step)
        )
        return captured

    def again(self, step: Step) -> None:
        """Before another attempt: raw steps reconnect (an http step sends again on what send_http picks)."""
        if step.http is None:
            self.reconnect()

    def attempt(self, step: Step) -> dict[str, str]:
        """One attempt at a step: its action, expectation (and ``expect.time``) and captures."""
        timeout = step.timeout or self.recipe.timeout
        started = time.monotonic()
        self.act(step, timeout)
        if step.expect is None and step.http is None:
            return {}
        expect = step.expect or Expect()
        received, response = self.expect(expect, step.http is not None or expect.is_http, timeout)
        if expect.time_max is not None:
            from netbench.recipe.checks import require_time

            require_time(expect.time_max, time.monotonic() - started)
        return self.capture(step, received, response)

    def act(self, step: Step, timeout: float) -> None:
        """The step's action: send bytes, send an HTTP request, close, or sleep."""
        if step.send is not None:
            data = self.context.expand(step.send)
            self._unsniffed.append(data)  # its method is looked at when an answer needs it
            if len(self._unsniffed) > 64:  # a long run of raw sends keeps no more than that
                self._sniffed()
            self.http = None
            self.send(data, timeout)
        elif step.http is not None:
            self.send_http(step.http, timeout)
        elif step.close == "write":
            self.current().send_eof()
        elif step.close == "both":
            self.close()
        elif step.sleep is not None:
            time.sleep(step.sleep)

    def send(self, data: bytes, timeout: float) -> None:
        """Send *data* under the step's deadline: a peer that stops reading cannot hang the run."""
        session = self.current()
        try:
            session.send(data, time.monotonic() + timeout)
        except TimedOut:
            raise TimedOut(
                f"timed out after {timeout:g} s sending to {session.peer} (the peer is not reading)",
                session.peer,
            ) from None
        self.used = True

    def send_http(self, request: HttpRequest, timeout: float) -> None:
        """An ``http`` step's request, on a connection that holds nothing nobody asked for."""
        ctx = self.context
        self.method = ctx.expand_text(request.method).upper()
        headers = [(name, ctx.expand_text(value)) for name, value in request.headers]
        headers = self.cookies.prepare(self.target, ctx.expand_text(request.url), headers)
        body = ctx.expand(request.body) if request.body is not None else None
        session = self.current()
        ended = self.raw_ended if self.http is None else not self.http.reusable
        if self.used and (ended or session.has_unread()):
            session = self.reconnect()
        self.send(self._request(self.method, ctx.expand_text(request.url), headers, body), timeout)

    def reconnect(self) -> BlockingSession:
        self.close()
        return self.connect()

    def _request(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None) -> bytes:
        """The bytes of an http step, on the connection's h11 state (a fresh one when needed)."""
        if self.http is None or not self.http.reusable:
            self.http = _http_module().HttpConnection()
        try:
            return self.http.request(method, url, headers, body, host=self.target.display)
        except NetbenchError as error:
            self.http = None
            raise RecipeError(f"http: {self.context.mask(str(error))}") from None

    # -- expectations ----------------------------------------------------------------

    def expect(self, expect: Expect, is_http: bool, timeout: float) -> tuple[bytes, HttpResponse | None]:
        """Wait for what *expect* asks for (one deadline) and check it; the bytes and the response."""
        session = self.current()
        deadline = time.monotonic() + timeout
        set_deadline(deadline)  # regex searches end by it too
        response = None
        try:
            if is_http:
                response = self._http(session, expect, deadline)
                received = response.raw
            elif not session.target.is_stream:
                received = receive_datagram(session, expect, self.context, deadline)
            else:
                received = receive_stream(session, expect, self.context, deadline)
            if expect.closed:
                if not session.target.is_stream:
                    raise RecipeError("expect closed: a UDP peer cannot close (use it over TCP)")
                received += session.receive_until_eof(deadline, KEEP_WHEN_DISCARDING)
        except (TimedOut, Reset, ProtocolError) as error:
            self.http = None
            raise waiting_failed(error, expect, timeout) from None
        except ExpectationFailed as error:
            raise StepFailed(str(error), received=session.buffer.peek()[:KEEP_WHEN_DISCARDING]) from None
        return received, response

    def _http(self, session: BlockingSession, expect: Expect, deadline: float) -> HttpResponse:
        http_step = self.http is not None
        if self.http is not None:
            parser = self.http.parser(max_decoded=MAX_ANSWER)
        else:
            parser = _http_module().ResponseParser(self.method, max_decoded=MAX_ANSWER)
        response = self.read_response(session, parser, deadline)
        self.check_truncated(parser, response)
        self.answered(response.headers, http_step)
        if parser.framing_conflict or (http_step and parser.leftover):
            self.close()  # bytes nobody asked for, or framing nobody can trust: a new connection
        elif parser.leftover:
            session.buffer.feed(parser.leftover)  # a raw send's next answer (it sent them all)
        if not http_step:  # an http step after this raw exchange goes on if the answer allowed it
            self.raw_ended = parser.broken or _ends_connection(response)
        self.check_response(expect, response)
        return response

    def answered(self, headers: Headers, http_step: bool) -> None:
        """Hand an answer's headers to the cookie jar (:meth:`RunCookies.answered`), skipped when
        it would change nothing: an http step's answer without Set-Cookie while the jar is empty."""
        cookies = self.cookies
        empty = cookies.enabled and http_step and cookies.jar is None and cookies.target is not None
        if empty and "set-cookie" not in " ".join(map(_name, headers)).lower():  # C loops, not Python
            return
        cookies.answered(headers, http_step)

    def check_truncated(self, parser: ResponseParser, response: HttpResponse) -> None:
        """Fail the step when its decoded body reached the cap (a gzip/deflate bomb); the
        connection is cut where reading stopped, so it is closed."""
        if parser.truncated:
            self.close()
            raise StepFailed(
                f"the {response.content_encoding or 'encoded'} body decodes to more than "
                f"{MAX_ANSWER // (1024 * 1024)} MiB",
                received=response.raw[:KEEP_WHEN_DISCARDING],
            )

    def check_response(self, expect: Expect, response: HttpResponse) -> None:
        """Check *response* against *expect* (status, headers, body, JSON, cookies)."""
        ctx = self.context
        expanded = expect  # check_http reads status, headers and body: only those need expanding
        body = expect.body
        if (body is not None and "$" in body.value) or any("$" in m.value for _, m in expect.headers):
            expanded = Expect(
                status=expect.status,
                headers=tuple((n, _expand_match(ctx, m)) for n, m in expect.headers),
                body=_expand_match(ctx, expect.body) if expect.body is not None else None,
            )
        problems = checks.check_http(expanded, response)
        if expect.json or expect.cookies:
            from netbench.recipe.checks import check_answer

            problems += check_answer(expect, response, ctx.expand_text, self.cookies.view)
        if problems:
            first = problems[0]
            message = "; ".join(p.message for p in problems)
            raise StepFailed(message, expected=first.expected, received=first.received or response.raw)

    def read_response(
        self, session: BlockingSession, parser: ResponseParser, deadline: float
    ) -> HttpResponse:
        """One HTTP response through *parser*, at most :data:`MAX_ANSWER` bytes of it."""
        response = parser.feed(session.buffer.take_all()) if len(session.buffer) else None
        try:
            while response is None:
                if session.eof:
                    response = parser.feed_eof()
                    break
                if parser.raw_size > MAX_ANSWER:
                    raise StepFailed(
                        f"the response is larger than {MAX_ANSWER // (1024 * 1024)} MiB",
                        received=parser.raw[:KEEP_WHEN_DISCARDING],
                    )
                data = session.receive_some(deadline)
                if data:
                    response = parser.feed(data)
        except TimedOut as error:
            raise TimedOut(str(error), error.address, partial=parser.raw) from None
        assert response is not None  # feed_eof returns a response or raises
        return response

    # -- captures --------------------------------------------------------------------

    def capture(self, step: Step, received: bytes, response: HttpResponse | None) -> dict[str, str]:
        """The values the step's ``capture`` takes from its answer."""
        captured: dict[str, str] = {}
        for spec in step.capture:
            try:
                captured[spec.name] = checks.capture(spec, received, response, self.cookies.view)
            except checks.CaptureFailed as error:
                raise StepFailed(f"capture {spec.name}: {error}", received=received) from None
        return captured


_name = itemgetter(0)  # of a (name, value) header
_HTTP: Any = None  # netbench.core.http, imported by the first HTTP step (a raw recipe never needs h11)


def _http_module() -> Any:
    """:mod:`netbench.core.http`, imported once: an import statement in a per-step function
    costs microseconds every step (the module's ``__getattr__`` is asked for ``__path__``)."""
    global _HTTP
    if _HTTP is None:
        from netbench.core import http

        _HTTP = http
    return _HTTP


def _request_method(data: bytes) -> str | None:
    """:func:`netbench.core.http_sniff.request_method`, imported when an answer first needs a raw
    send's method (the module's regexes and dataclasses cost start-up that a raw recipe whose
    answers are never read as HTTP, and an http-only recipe, never need)."""
    global _REQUEST_METHOD
    if _REQUEST_METHOD is None:
        from netbench.core.http_sniff import request_method

        _REQUEST_METHOD = request_method
    return _REQUEST_METHOD(data)


_REQUEST_METHOD: Any = None


def _ends_connection(response: HttpResponse) -> bool:
    """Whether *response* ends its connection (``Connection: close``, or HTTP/1.0 without keep-alive)."""
    tokens = {
        token.strip().lower() for value in response.header_values("Connection") for token in value.split(",")
    }
    return "close" in tokens or (response.http_version == "1.0" and "keep-alive" not in tokens)


def _expand_match(ctx: Context, value: Any) -> Any:
    return value.replace(value=ctx.expand_text(value.value))
