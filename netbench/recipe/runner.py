"""Running steps over one session: the I/O half of the engine.

A :class:`Runner` holds the session, the variables and the HTTP state of
one recipe run; :meth:`Runner.step` runs one step and raises
:class:`~netbench.recipe.result.StepFailed` when it does not hold (the
rules for what counts as what are in :mod:`netbench.recipe.engine`).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from netbench.errors import NetbenchError, ProtocolError, RecipeError, Reset, TimedOut
from netbench.recipe import match
from netbench.recipe.describe import describe_expect
from netbench.recipe.model import Expect, Recipe, Step
from netbench.recipe.reader import StreamReader
from netbench.recipe.result import StepFailed
from netbench.recipe.template import Context

if TYPE_CHECKING:
    from netbench.core.address import Target
    from netbench.core.http import HttpConnection, HttpResponse
    from netbench.net.session import Session

_METHOD = re.compile(rb"^([A-Z][A-Z0-9_-]*) \S")


class Runner:
    """State of one run: the session, the variables, the last request method."""

    def __init__(self, recipe: Recipe, target: Target, context: Context, connect_timeout: float) -> None:
        self.recipe = recipe
        self.target = target
        self.context = context
        self.connect_timeout = connect_timeout
        self.session: Session | None = None
        self.method = "GET"
        self.http: HttpConnection | None = None  # h11 state kept across http steps
        self.reader: StreamReader | None = None

    async def connect(self) -> Session:
        from netbench.net.session import open_session
        from netbench.net.tls import TLSOptions

        spec = self.recipe.tls
        tls = TLSOptions(insecure=spec.insecure, sni=spec.sni, cafile=spec.cafile) if spec else None
        self.http = None
        self.session = await open_session(self.target, timeout=self.connect_timeout, tls=tls)
        return self.session

    async def current(self) -> Session:
        if self.session is None or self.session.state == "closed":
            return await self.connect()
        return self.session

    async def close(self) -> None:
        self.http = None
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def step(self, step: Step) -> dict[str, str]:
        """Run one step; raise :class:`StepFailed` when it does not hold."""
        timeout = step.timeout or self.recipe.timeout
        ctx = self.context
        if step.send is not None:
            data = ctx.expand(step.send)
            session = await self.current()
            found = _METHOD.match(data)
            self.method = found.group(1).decode() if found else self.method
            self.http = None
            await _send(session, data, timeout)
        elif step.http is not None:
            request = step.http
            self.method = ctx.expand_text(request.method).upper()
            headers = [(name, ctx.expand_text(value)) for name, value in request.headers]
            body = ctx.expand(request.body) if request.body is not None else None
            session = await self.current()
            data = self._request(self.method, ctx.expand_text(request.url), headers, body)
            await _send(session, data, timeout)
        elif step.close == "write":
            await (await self.current()).send_eof()
        elif step.close == "both":
            await self.close()
        elif step.sleep is not None:
            await asyncio.sleep(step.sleep)
        if step.expect is None and step.http is None:
            return {}
        expect = step.expect or Expect()
        received, response = await self.expect(expect, step.http is not None or expect.is_http, timeout)
        captured: dict[str, str] = {}
        for spec in step.capture:
            try:
                captured[spec.name] = match.capture(spec, received, response)
            except match.CaptureFailed as error:
                raise StepFailed(f"capture {spec.name}: {error}", received=received) from None
        return captured

    def _request(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None) -> bytes:
        """The bytes of an http step, on the connection's h11 state (a fresh one when needed)."""
        from netbench.core.http import HttpConnection

        for attempt in range(2):
            if self.http is None or not self.http.reusable or attempt:
                self.http = HttpConnection()
            try:
                return self.http.request(method, url, headers, body, host=self.target.display)
            except NetbenchError as error:
                if attempt:
                    self.http = None
                    raise RecipeError(f"http: {self.context.mask(str(error))}") from None
        raise AssertionError("unreachable")

    async def expect(
        self, expect: Expect, is_http: bool, timeout: float
    ) -> tuple[bytes, HttpResponse | None]:
        session = await self.current()
        try:
            if is_http:
                response = await self._http(session, expect, timeout)
                received = response.raw
            elif not session.target.is_stream:
                received = await self._datagram(session, expect, timeout)
                response = None
            else:
                received = await self._stream(session, expect, timeout)
                response = None
            if expect.closed:
                if not session.target.is_stream:
                    raise RecipeError("expect closed: a UDP peer cannot close (use it over TCP)")
                received += await self._reader(session).until_eof(time.monotonic() + timeout)
        except TimedOut as error:
            self.http = None
            raise StepFailed(
                f"timed out after {timeout:g} s waiting for {_what(expect)}",
                expected=_wanted(expect),
                received=error.partial,
            ) from None
        except Reset as error:
            self.http = None
            raise StepFailed(
                f"{error} while waiting for {_what(expect)}", expected=_wanted(expect), received=error.partial
            ) from None
        except ProtocolError as error:
            self.http = None
            raise StepFailed(f"not a valid HTTP response: {error}", received=error.partial) from None
        return received, response

    async def _stream(self, session: Session, expect: Expect, timeout: float) -> bytes:
        ctx = self.context
        reader = self._reader(session)
        deadline = time.monotonic() + timeout
        if expect.exact is not None:
            wanted = ctx.expand(expect.exact)
            piece = await reader.exactly(len(wanted), deadline)
            _check(match.check_piece(Expect(exact=wanted), piece))
            return piece
        if expect.line is not None:
            wanted = ctx.expand(expect.line)
            piece = await reader.line(deadline)
            _check(match.check_piece(Expect(line=wanted), piece))
            return piece
        if expect.contains is not None:
            return await reader.until(ctx.expand(expect.contains), deadline)
        if expect.regex is not None:
            return await reader.match(self._pattern(expect.regex), deadline)
        if expect.count is not None:
            return await reader.exactly(expect.count, deadline)
        return b""

    async def _datagram(self, session: Session, expect: Expect, timeout: float) -> bytes:
        if expect.raw_kind is None:
            return b""
        ctx = self.context
        expanded = Expect(
            exact=ctx.expand(expect.exact) if expect.exact is not None else None,
            contains=ctx.expand(expect.contains) if expect.contains is not None else None,
            line=ctx.expand(expect.line) if expect.line is not None else None,
            regex=expect.regex,
            count=expect.count,
        )
        pattern = self._pattern(expect.regex) if expect.regex is not None else None
        datagram = await session.receive_some(timeout)
        _check(match.check_datagram(expanded, datagram, pattern))
        return datagram

    async def _http(self, session: Session, expect: Expect, timeout: float) -> HttpResponse:
        from netbench.core.http import ResponseParser

        parser = self.http.parser() if self.http is not None else ResponseParser(self.method)
        response = await self._reader(session).response(parser, time.monotonic() + timeout)
        ctx = self.context
        expanded = expect  # check_http reads status, headers and body: only those need expanding
        if expect.headers or expect.body is not None:
            expanded = Expect(
                status=expect.status,
                headers=tuple((n, _expand_match(ctx, m)) for n, m in expect.headers),
                body=_expand_match(ctx, expect.body) if expect.body is not None else None,
            )
        problems = match.check_http(expanded, response)
        if problems:
            first = problems[0]
            message = "; ".join(p.message for p in problems)
            raise StepFailed(message, expected=first.expected, received=first.received or response.raw)
        return response

    def _reader(self, session: Session) -> StreamReader:
        if self.reader is None or self.reader.session is not session:
            self.reader = StreamReader(session)
        return self.reader

    def _pattern(self, pattern: str) -> re.Pattern[bytes]:
        text = self.context.expand_text(pattern)
        try:
            return match.compile_regex(text)
        except re.error as error:
            raise RecipeError(f"invalid regular expression /{text}/: {error}") from None


def _expand_match(ctx: Context, value: Any) -> Any:
    from dataclasses import replace

    return replace(value, value=ctx.expand_text(value.value))


async def _send(session: Session, data: bytes, timeout: float) -> None:
    """Send under the step's deadline: a peer that stops reading cannot hang the run."""
    try:
        async with asyncio.timeout(timeout):  # no task per send, unlike wait_for
            await session.send(data)
    except TimeoutError:
        raise TimedOut(
            f"timed out after {timeout:g} s sending to {session.target.display} (the peer is not reading)",
            session.target.display,
        ) from None


def _what(expect: Expect) -> str:
    return describe_expect(expect) or "an HTTP response"


def _wanted(expect: Expect) -> bytes | None:
    if expect.exact is not None:
        return expect.exact
    return expect.line if expect.line is not None else expect.contains


def _check(problem: match.Mismatch | None) -> None:
    if problem is not None:
        raise StepFailed(problem.message, expected=problem.expected, received=problem.received)
