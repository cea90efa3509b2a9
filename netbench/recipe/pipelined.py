"""``replay --pipeline``: a run of plain GET/HEAD ``http`` steps written ahead of their answers.

A run is two or more consecutive steps that each send a body-less GET or
HEAD (the method written as such, not a variable) and have no captures, no
retry, no include, no ``expect.closed`` or ``expect.time``, and the same
timeout: nothing one answer does can change the next request, so every
request can be built before the first answer arrives. The requests go
through the one pipelining code of ``netbench http --pipeline``
(:class:`~netbench.net.http_pipeline.PipelinedClient` on
:class:`~netbench.core.http.HttpPipeline`), on the runner's own connection;
the answers are read by the runner's own reader and checked by its own
checks, in order, so each step gives the same :class:`StepResult` as
without ``--pipeline`` (only the durations differ).

- A failing step ends the run as it would one at a time; the requests
  written after it are abandoned with their connection.
- The server closing mid-pipeline (``Connection: close``, or a close
  before any byte of an answer) gets the unanswered requests written once
  more on a fresh connection (the pipelining code's rule).
- An answer that sets a cookie (when the recipe keeps cookies) would change
  the next requests' Cookie header: the rest of the run goes one step at a
  time, on a fresh connection. So does a request h11 refuses to build
  (its step then reports the error it reports without ``--pipeline``).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any, cast

from netbench.core.buffer import MAX_ANSWER
from netbench.errors import NetbenchError, ProtocolError, RecipeError, Reset, TimedOut, UsageError
from netbench.net.http_pipeline import PIPELINED_METHODS, PipelinedClient, Planned
from netbench.recipe.engine import run_step
from netbench.recipe.failures import waiting_failed
from netbench.recipe.model import Expect, Step
from netbench.recipe.patterns import set_deadline
from netbench.recipe.result import StepFailed, StepResult

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse, ResponseParser
    from netbench.net.http_client import HttpClient
    from netbench.recipe.runner import Runner

__all__ = ["pipelinable", "pipelined_run_end", "run_pipelined"]


def pipelinable(step: Step) -> bool:
    """Whether *step* may have its request written before the previous step's answer."""
    request = step.http
    if request is None or request.body is not None or step.capture or step.retry or step.include:
        return False
    if request.method.upper() not in PIPELINED_METHODS:  # a ${VAR} method is not known here
        return False
    expect = step.expect
    return expect is None or (not expect.closed and expect.time_max is None)


def pipelined_run_end(runner: Runner, start: int) -> int:
    """The index past the run of pipelinable steps starting at *start* (``start + 1`` at least)."""
    steps = runner.recipe.steps
    if not runner.target.is_stream or not pipelinable(steps[start]):
        return start + 1
    timeout = steps[start].timeout or runner.recipe.timeout
    end = start + 1
    while (
        end < len(steps)
        and pipelinable(steps[end])
        and (steps[end].timeout or runner.recipe.timeout) == timeout
    ):
        end += 1
    return end


def run_pipelined(runner: Runner, start: int, end: int, depth: int) -> Iterator[StepResult]:
    """Run steps ``start..end-1`` pipelined, yielding each result as its answer is checked.

    Stops after a failed step. It may also stop early with every result so far passed
    (see the module docstring); the caller runs the rest one at a time.
    """
    steps = runner.recipe.steps
    planned = _plan(runner, steps[start:end])
    if len(planned) < 2:
        return  # an undefined variable or a bad value in the second step: one at a time
    timeout = steps[start].timeout or runner.recipe.timeout
    link = _Link(runner, timeout)
    client = PipelinedClient(cast("HttpClient", link), depth)
    answers = cast("Generator[Any, None, None]", client.run(planned, max_decoded=MAX_ANSWER))
    position = start
    begin = time.monotonic()
    keeps_cookies = runner.recipe.cookies
    try:
        while position < start + len(planned):
            step = steps[position]
            expect = step.expect or Expect()
            try:
                answer = next(answers)
            except UsageError:  # h11 refused a request: that step reports it one at a time
                runner.close()
                return
            except (TimedOut, Reset, ProtocolError) as error:
                runner.close()
                failure = waiting_failed(error, expect, timeout)
                yield run_step(runner, step, position + 1, _raise(failure), begin)
                return
            except (NetbenchError, StepFailed) as error:  # a connect or send failure; the size cap
                runner.close()
                yield run_step(runner, step, position + 1, _raise(error), begin)
                return
            set_deadline(answer.deadline)  # regex checks end by the answer's deadline too
            result = run_step(runner, step, position + 1, _checker(runner, expect, answer), begin)
            yield result
            position += 1
            begin = time.monotonic()
            if not result.ok:
                runner.close()  # the answers to the requests written after it are not read
                return
            if keeps_cookies and answer.response.header_values("Set-Cookie"):
                runner.close()  # the next requests were built with the cookies before this answer
                return
        next(answers, None)  # the pipelining code closes a connection the last answer ended
    finally:
        answers.close()
        runner.http = None  # the next step starts a new h11 cycle on a connection left clean
        runner.raw_ended = False


def _plan(runner: Runner, steps: tuple[Step, ...]) -> list[Planned]:
    """The requests of *steps*, expanded now (stops before a step whose expansion fails)."""
    ctx = runner.context
    planned = []
    for step in steps:
        request = step.http
        assert request is not None
        try:
            url = ctx.expand_text(request.url)
            headers = [(name, ctx.expand_text(value)) for name, value in request.headers]
        except RecipeError:
            break
        headers = runner.cookies.prepare(runner.target, url, headers)
        planned.append(Planned(request.method.upper(), url, tuple(headers), url))
    if planned:
        runner.method = planned[-1].method
    return planned


def _raise(error: BaseException) -> Any:
    def action() -> dict[str, str]:
        raise error

    return action


def _checker(runner: Runner, expect: Expect, answer: _Answer) -> Any:
    def action() -> dict[str, str]:
        runner.check_truncated(answer.parser, answer.response)
        runner.answered(answer.response.headers, True)
        runner.check_response(expect, answer.response)
        return {}

    return action


class _Answer:
    """One answer of the pipelined run: its parser, the response, the deadline it was due by."""

    __slots__ = ("deadline", "parser", "response")

    def __init__(self, parser: ResponseParser, response: HttpResponse, deadline: float) -> None:
        self.parser = parser
        self.response = response
        self.deadline = deadline


class _Link:
    """The part of :class:`~netbench.net.http_client.HttpClient` that :class:`PipelinedClient`
    uses, on the runner's session: the same dialer, TLS options, reader and size cap."""

    def __init__(self, runner: Runner, timeout: float) -> None:
        self.runner = runner
        self.timeout = timeout
        self.clock = time.monotonic
        self.last_request = b""
        self._deadline = 0.0

    @property
    def host(self) -> str:
        return self.runner.target.display  # the Host header of an http step

    def open(self) -> bool:
        """Use the runner's connection when it is clean, else a new one (as ``send_http``)."""
        runner = self.runner
        session = runner.session
        if session is None or session.closed:
            runner.connect()
            return True
        ended = runner.raw_ended if runner.http is None else not runner.http.reusable
        if runner.used and (ended or session.has_unread()):
            runner.reconnect()
            return True
        runner.http = None
        return False

    def close(self) -> None:
        self.runner.close()

    def send(self, data: bytes) -> bool:
        """Write *data*; False when the peer closed (its answers so far may still be read)."""
        self.last_request = data
        try:
            self.runner.send(data, self.timeout)
        except Reset:
            return False
        return True

    def receive(self, parser: ResponseParser, start: float) -> HttpResponse:
        """One answer through the runner's reader, due within the timeout of *start*."""
        runner = self.runner
        session = runner.current()
        self._deadline = deadline = start + self.timeout
        try:
            response = parser.feed(b"") if parser.raw_size else None  # already received
            if response is None:
                response = runner.read_response(session, parser, deadline)
        except BaseException:
            runner.close()
            raise
        return response

    def finish(self, _data: bytes, parser: ResponseParser, response: HttpResponse, _start: float) -> _Answer:
        return _Answer(parser, response, self._deadline)
