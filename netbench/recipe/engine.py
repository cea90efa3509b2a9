"""The one engine that runs recipes, for every caller (CLI, pytest, API, serve tests).

``await run(recipe, target=..., variables=..., environ=...)`` opens a
session (:mod:`netbench.net.session`), runs the steps in order and returns a
:class:`Result`: data, per step, of what was expected, what arrived and the
time taken. It stops at the first step that fails. Nothing is printed; an
``on_step`` callback sees each step's result as it completes.

Outcomes and statuses: a check that does not hold, and anything that goes
wrong while *waiting* for an expectation (a timeout, the peer closing, a
malformed HTTP answer) fail the step with status 1; a connection that cannot
be made or used (refused, TLS failure, reset while sending) gives that
network status (3, 4, 5, 7); an undefined variable or an invalid value is a
recipe error (2). Secret values never appear in a result: ``***`` does.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netbench.errors import NetbenchError, NetworkError, ProtocolError, RecipeError, Reset, TimedOut
from netbench.recipe import match
from netbench.recipe.describe import describe_expect, describe_step
from netbench.recipe.model import Expect, Recipe, Step
from netbench.recipe.template import Context
from netbench.status import ExitStatus

if TYPE_CHECKING:
    from netbench.core.http import HttpConnection, HttpResponse
    from netbench.net.session import Session
    from netbench.net.target import Target

_METHOD = re.compile(rb"^([A-Z][A-Z0-9_-]*) \S")


@dataclass(frozen=True)
class StepResult:
    """How one step went. ``index`` is 1-based (0 is the connection itself)."""

    index: int
    line: int
    summary: str
    ok: bool
    status: int = ExitStatus.OK
    message: str = ""
    expected: bytes | None = None
    received: bytes | None = None
    duration: float = 0.0


@dataclass(frozen=True)
class Result:
    """The outcome of one recipe run; ``status`` is the exit status it stands for."""

    name: str
    path: str
    target: str
    steps: tuple[StepResult, ...]
    status: int
    total_steps: int
    duration: float = 0.0
    captures: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == ExitStatus.OK

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failure(self) -> StepResult | None:
        """The step that failed, if one did."""
        return next((step for step in self.steps if not step.ok), None)

    @property
    def message(self) -> str:
        """One line: why the recipe failed (empty when it passed)."""
        failed = self.failure
        return failed.message if failed else ""

    def report(self, color: bool = False) -> str:
        """The failure report (file:line, step, expected vs received, diff or hexdump)."""
        from netbench.recipe.report import render_result

        return render_result(self, color=color)


class StepFailed(Exception):
    """Internal: a step did not hold. Carries what to report."""

    def __init__(
        self,
        message: str,
        status: int = ExitStatus.EXPECTATION_FAILED,
        expected: bytes | None = None,
        received: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.expected = expected
        self.received = received


OnStep = Callable[[StepResult], object]


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
            await session.send(data)
        elif step.http is not None:
            request = step.http
            self.method = ctx.expand_text(request.method).upper()
            headers = [(name, ctx.expand_text(value)) for name, value in request.headers]
            body = ctx.expand(request.body) if request.body is not None else None
            session = await self.current()
            data = self._request(self.method, ctx.expand_text(request.url), headers, body)
            await session.send(data)
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
        what = describe_expect(expect) or "an HTTP response"
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
                received += await session.receive_until_eof(timeout)
        except TimedOut as error:
            self.http = None
            raise StepFailed(
                f"timed out after {timeout:g} s waiting for {what}",
                expected=_wanted(expect),
                received=error.partial,
            ) from None
        except Reset as error:
            self.http = None
            raise StepFailed(
                f"{error} while waiting for {what}", expected=_wanted(expect), received=error.partial
            ) from None
        except ProtocolError as error:
            self.http = None
            raise StepFailed(f"not a valid HTTP response: {error}", received=error.partial) from None
        return received, response

    async def _stream(self, session: Session, expect: Expect, timeout: float) -> bytes:
        ctx = self.context
        if expect.exact is not None:
            wanted = ctx.expand(expect.exact)
            piece = await session.receive_exactly(len(wanted), timeout)
            _check(match.check_piece(Expect(exact=wanted), piece))
            return piece
        if expect.line is not None:
            wanted = ctx.expand(expect.line)
            piece = await session.receive_line(timeout)
            _check(match.check_piece(Expect(line=wanted), piece))
            return piece
        if expect.contains is not None:
            return await session.receive_until(ctx.expand(expect.contains), timeout)
        if expect.regex is not None:
            found = await session.receive_match(self._pattern(expect.regex), timeout)
            return found.string[: found.end()]
        if expect.count is not None:
            return await session.receive_exactly(expect.count, timeout)
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
        deadline = time.monotonic() + timeout
        response = None
        while response is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimedOut("timed out", partial=parser.raw)
            try:
                data = await session.receive_some(remaining)
            except TimedOut:
                raise TimedOut("timed out", partial=parser.raw) from None
            response = parser.feed(data) if data else parser.feed_eof()
        if parser.leftover:
            _unread(session, parser.leftover)
        ctx = self.context
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

    def _pattern(self, pattern: str) -> re.Pattern[bytes]:
        text = self.context.expand_text(pattern)
        try:
            return match.compile_regex(text)
        except re.error as error:
            raise RecipeError(f"invalid regular expression /{text}/: {error}") from None


def _expand_match(ctx: Context, value: Any) -> Any:
    from dataclasses import replace

    return replace(value, value=ctx.expand_text(value.value))


def _wanted(expect: Expect) -> bytes | None:
    if expect.exact is not None:
        return expect.exact
    return expect.line if expect.line is not None else expect.contains


def _check(problem: match.Mismatch | None) -> None:
    if problem is not None:
        raise StepFailed(problem.message, expected=problem.expected, received=problem.received)


def _unread(session: Session, data: bytes) -> None:
    """Give back bytes read past the end of an HTTP response (the next one's start)."""
    unread = getattr(session, "unread", None)
    if unread is not None:
        unread(data)
    else:
        session._buffer.feed(data)


def resolve_target(recipe: Recipe, override: str | None, context: Context) -> Target | None:
    """The target to aim at: *override*, else the recipe's (None: use the lab)."""
    from netbench.net.target import parse_target

    base = parse_target(context.expand_text(recipe.target)) if recipe.target else None
    if override:
        text = context.expand_text(override)
        named = "://" in text or text.startswith("unix:")
        return parse_target(text, None if named or base is None else base.transport)
    if recipe.lab:
        return None
    if base is None:
        raise RecipeError("no target: add 'target:' or 'lab:' to the recipe, or give --target", recipe.where)
    return base


def make_context(recipe: Recipe, variables: Mapping[str, str] | None, environ: Mapping[str, str]) -> Context:
    """Variables in force at the start: the recipe's vars (expanded in order), then *variables*."""
    context = Context(environ=environ)
    for name, value in recipe.vars:
        if variables and name in variables:
            continue
        context.variables[name] = context.expand_text(value)
    context.variables.update(variables or {})
    return context


async def run(
    recipe: Recipe,
    *,
    target: str | None = None,
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
    on_step: OnStep | None = None,
) -> Result:
    """Run *recipe* and return its :class:`Result` (never raises for a failing recipe)."""
    import os

    started = time.monotonic()
    if timeout is not None:
        from dataclasses import replace

        recipe = replace(recipe, timeout=timeout)
    context = Context(environ=os.environ if environ is None else environ)
    results: list[StepResult] = []
    shown = target or recipe.target or f"lab {recipe.lab}"
    lab_server: Any = None
    runner: Runner | None = None

    def finish(status: int) -> Result:
        return Result(
            recipe.name, recipe.where, shown, tuple(results), status, len(recipe.steps),
            time.monotonic() - started, {k: context.mask(v) for k, v in context.variables.items()},
        )

    def record(result: StepResult) -> None:
        results.append(result)
        if on_step is not None:
            on_step(result)

    try:
        context = make_context(recipe, variables, context.environ)
        aim = resolve_target(recipe, target, context)
        if aim is None:
            aim, lab_server = await _start_lab(recipe, context)
        shown = str(aim)
        runner = Runner(recipe, aim, context, recipe.timeout)
        begin = time.monotonic()
        try:
            await runner.connect()
        except NetworkError as error:
            record(StepResult(0, 1, f"connect to {aim}", False, error.status, context.mask(str(error)),
                              duration=time.monotonic() - begin))
            return finish(error.status)
        for index, step in enumerate(recipe.steps, 1):
            begin = time.monotonic()
            summary = describe_step(step)
            try:
                captured = await runner.step(step)
            except StepFailed as failure:
                record(_failed(step, index, summary, context, failure, begin))
                return finish(failure.status)
            except RecipeError as error:
                message = f"{recipe.where}:{step.line}: step {index}: {context.mask(error.reason)}"
                record(StepResult(index, step.line, summary, False, ExitStatus.USAGE, message,
                                  duration=time.monotonic() - begin))
                return finish(ExitStatus.USAGE)
            except NetworkError as error:
                broken = StepFailed(str(error), error.status, received=getattr(error, "partial", None))
                record(_failed(step, index, summary, context, broken, begin))
                return finish(error.status)
            context.variables.update(captured)
            record(StepResult(index, step.line, summary, True, duration=time.monotonic() - begin))
        return finish(ExitStatus.OK)
    except NetbenchError as error:
        record(StepResult(0, 1, "start", False, error.status, context.mask(str(error))))
        return finish(error.status)
    finally:
        if runner is not None:
            await runner.close()
        if lab_server is not None:
            await lab_server.close()


def _failed(
    step: Step, index: int, summary: str, context: Context, failure: StepFailed, begin: float
) -> StepResult:
    return StepResult(
        index,
        step.line,
        summary,
        False,
        failure.status,
        context.mask(failure.message),
        context.mask_bytes(failure.expected) if failure.expected is not None else None,
        context.mask_bytes(failure.received) if failure.received is not None else None,
        time.monotonic() - begin,
    )


async def _start_lab(recipe: Recipe, context: Context) -> tuple[Target, Any]:
    from netbench.lab import start
    from netbench.net.target import Target

    name = recipe.lab or ""
    transport = "tcp"
    if recipe.target:
        from netbench.net.target import parse_target

        transport = parse_target(context.expand_text(recipe.target)).transport
    server = await start(name)
    if transport not in server.transports:
        await server.close()
        raise RecipeError(f"lab service {name} does not speak {transport}", recipe.where)
    return Target(transport, server.host, server.port), server  # type: ignore[arg-type]
