"""Walk a recipe one step at a time (``netbench replay --step``): the I/O loop.

Before each step the :class:`Stepper` shows what the step will send (escaped
bytes and a decoded view, :mod:`netbench.recipe.stepview`) and asks for a
line: Enter runs the step, ``s`` skips it, ``q`` stops, ``c`` runs the rest
without asking again; end of input stops as ``q`` does. After a step it
shows what came back, decoded and explained, and whether the expectation
held. Steps run through the engine's own :class:`~netbench.recipe.runner.Runner`
and :func:`~netbench.recipe.engine.run_step`, so a step held here exactly when
it holds in ``replay``; a failed step ends the walk, as it ends a replay.

``ask(prompt)`` returns the line typed (None at end of input) and
``write(text)`` prints one line: the caller owns the terminal. Secrets show
as ``***`` in everything written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netbench.errors import NetbenchError, NetworkError
from netbench.recipe import stepview as view
from netbench.recipe.engine import make_context, recipe_target, resolve_target, run_step, start_lab
from netbench.recipe.model import Expect, Recipe, Step
from netbench.recipe.result import Result, StepResult
from netbench.recipe.runner import Runner
from netbench.status import ExitStatus

if TYPE_CHECKING:
    from netbench.core.address import Target
    from netbench.core.http import HttpResponse
    from netbench.recipe.template import Context

Ask = Callable[[str], "str | None"]
Write = Callable[[str], object]


@dataclass(frozen=True)
class Answer:
    """What one expectation read: the bytes, the HTTP response when it was one.

    An ``expect: {line: ...}`` reads a line without its ending: ``line_end``
    is where that line stops in ``data`` (None for any other check).
    """

    data: bytes
    response: HttpResponse | None = None
    line_end: int | None = None
    sent: bool = False  # bytes a step sent, not an answer (shown for the steps of an include)

    def for_decoding(self) -> bytes:
        """The bytes with a CRLF back after a line, as the line-based decoders need it."""
        if self.line_end is None:
            return self.data
        return self.data[: self.line_end] + b"\r\n" + self.data[self.line_end :]


class RecordingRunner(Runner):
    """The engine's runner, keeping each answer a step read (for showing it after the step)."""

    def __init__(self, recipe: Recipe, target: Target, context: Context, connect_timeout: float) -> None:
        super().__init__(recipe, target, context, connect_timeout)
        self.answers: list[Answer] = []

    def send(self, data: bytes, timeout: float) -> None:
        super().send(data, timeout)
        self.answers.append(Answer(data, sent=True))

    def expect(self, expect: Expect, is_http: bool, timeout: float) -> tuple[bytes, HttpResponse | None]:
        received, response = super().expect(expect, is_http, timeout)
        line_end = None
        if expect.line is not None and not is_http and self.target.is_stream:
            wanted = self.context.expand(expect.line)  # it held: the line is the wanted text
            line_end = len(wanted) if received.startswith(wanted) else len(received)
        self.answers.append(Answer(received, response, line_end))
        return received, response


class Stepper:
    """One learner's walk through one or more recipes: the choices made so far carry over."""

    def __init__(self, ask: Ask, write: Write, explain_status: Callable[[int], str] | None = None) -> None:
        self.ask = ask
        self.write = write
        self.explain_status = explain_status
        self.asking = True  # False after 'c'
        self.quit = False  # True after 'q' or end of input: later recipes do not start
        self.skipped = 0  # steps skipped in the recipe being walked

    def walk(
        self,
        recipe: Recipe,
        *,
        target: str | None = None,
        variables: Mapping[str, str] | None = None,
        environ: Mapping[str, str],
        timeout: float | None = None,
    ) -> Result:
        """Walk *recipe*; its :class:`Result` holds the steps run (status 0 when each held)."""
        if timeout is not None:
            recipe = recipe.replace(timeout=timeout)
        started = time.monotonic()
        context = make_context(recipe, variables, environ)
        results: list[StepResult] = []
        self.skipped = 0
        with ExitStack() as cleanup:
            base = recipe_target(recipe, context)
            aim = resolve_target(recipe, target, context, base) or start_lab(recipe, base, cleanup)
            runner = RecordingRunner(recipe, aim, context, recipe.timeout)
            cleanup.callback(runner.close)
            self.write(view.heading(recipe, aim))
            status = self._steps(runner, results)
        result = Result(
            recipe.name,
            recipe.where,
            str(aim),
            tuple(results),
            status,
            len(recipe.steps),
            time.monotonic() - started,
            {name: context.mask(value) for name, value in context.variables.items()},
        )
        self._summary(result)
        return result

    def _steps(self, runner: RecordingRunner, results: list[StepResult]) -> ExitStatus:
        """Connect, then offer each step; the status of the walk (0 also when the learner stopped)."""
        begin = time.monotonic()
        try:
            runner.connect()
        except NetworkError as error:
            message = runner.context.mask(str(error))
            results.append(
                StepResult(0, 1, f"connect to {runner.target}", False, error.status, message,
                           duration=time.monotonic() - begin)
            )  # fmt: skip
            return error.status
        protocol = view.protocol_of(runner.recipe, runner.target)
        stream = runner.target.is_stream
        steps = runner.recipe.steps
        for index, step in enumerate(steps, 1):
            try:
                sending, problem = outgoing(runner, step), ""
            except NetbenchError as error:
                sending, problem = None, runner.context.mask(getattr(error, "reason", str(error)))
            for line in view.preview(step, index, len(steps), sending, protocol, stream, problem):
                self.write(line)
            choice = self._choose()
            if choice == view.QUIT:
                self.quit = True
                self.write(f"stopped before step {index} of {len(steps)}")
                return ExitStatus.OK
            if choice == view.SKIP:
                self.skipped += 1
                self.write(view.skipped(step, index, len(steps)))
                continue
            runner.answers.clear()
            result = run_step(runner, step, index)
            results.append(result)
            for line in self._answer(runner, result, protocol, stream, shows_sent=step.include is not None):
                self.write(line)
            self.write(view.outcome(result, len(steps)))
            if not result.ok:
                return result.status
        return ExitStatus.OK

    def _choose(self) -> str:
        """Ask until the answer is one of the choices (not at all after 'c')."""
        while self.asking:
            choice = view.parse_choice(self.ask(view.PROMPT))
            if choice == view.HELP or choice is None:
                self.write(("" if choice else "type Enter, s, q, c or ?: ") + view.HELP_TEXT)
                continue
            if choice == view.CONTINUE:
                self.asking = False
                return view.RUN
            return choice
        return view.RUN

    def _answer(
        self, runner: RecordingRunner, result: StepResult, protocol: str, stream: bool, shows_sent: bool
    ) -> list[str]:
        """What came back in the step, escaped and decoded (secrets masked); with *shows_sent*,
        what it sent too (an include's steps were not shown before it ran)."""
        mask = runner.context.mask
        lines: list[str] = []
        answers = list(runner.answers)
        read = [runner.context.mask_bytes(answer.data) for answer in answers if not answer.sent]
        if not result.ok and result.received is not None and result.received not in read[-1:]:
            answers.append(Answer(result.received))  # what arrived before it failed (not yet shown)
        for answer in answers:
            data = runner.context.mask_bytes(answer.data)
            if answer.sent:
                if shows_sent:
                    lines += [f"  sent ({len(data)} bytes):", *view.show_bytes(data)]
                    lines += view.decode_sent(data, protocol, stream)
                continue
            lines.append(f"  received ({len(data)} bytes):" if data else "  received nothing")
            lines += view.show_bytes(data)
            if answer.line_end is not None:
                lines.append(f"{view.INDENT}(a line: read up to its line ending, CR LF or LF, not shown)")
            decoding = runner.context.mask_bytes(answer.for_decoding())
            decoded = view.decode_received(decoding, answer.response, protocol, stream, self.explain_status)
            lines += [mask(line) for line in decoded]
        return lines

    def _summary(self, result: Result) -> None:
        from netbench.recipe.report import render_result

        skipped = f", {self.skipped} skipped" if self.skipped else ""
        if not result.ok:
            self.write(render_result(result))
        elif len(result.steps) + self.skipped == result.total_steps:
            self.write(f"{render_result(result)}{skipped}")
        else:
            held = len(result.steps)
            self.write(f"every step run held ({held} of {result.total_steps}{skipped})")


def outgoing(runner: Runner, step: Step) -> bytes | None:
    """The bytes *step* will send, secrets masked; None when it sends nothing.

    An ``http`` step's request is built as the runner will build it (the
    cookie jar's Cookie header included). Raises the :class:`NetbenchError`
    that running the step would meet (an undefined variable, an invalid header).
    """
    from netbench.core.http import build_request

    ctx = runner.context
    if step.send is not None:
        return ctx.mask_bytes(ctx.expand(step.send))
    if step.http is None:
        return None
    request = step.http
    url = ctx.expand_text(request.url)
    headers = [(name, ctx.expand_text(value)) for name, value in request.headers]
    headers = runner.cookies.prepare(runner.target, url, headers)
    body = ctx.expand(request.body) if request.body is not None else None
    method = ctx.expand_text(request.method).upper()
    return ctx.mask_bytes(build_request(method, url, headers, body, host=runner.target.display))
