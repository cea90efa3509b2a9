"""The one engine that runs recipes, for every caller (CLI, pytest, API, serve tests).

``run(recipe, target=..., variables=..., environ=...)`` opens a blocking
session (:mod:`netbench.net.blocking`), runs the steps in order and returns a
:class:`Result`: data, per step, of what was expected, what arrived and the
time taken. It stops at the first step that fails. Nothing is printed; an
``on_step`` callback sees each step's result as it completes.

It is plain blocking code with a deadline on every wait: a recipe is a
sequential conversation, and an event loop per recipe cost more than the
socket round trips (issue 10). A ``lab:`` recipe starts its lab service in
the lab's background thread for the run.

Outcomes and statuses: a check that does not hold, and anything that goes
wrong while *waiting* for an expectation (a timeout, the peer closing, a
malformed HTTP answer) fail the step with status 1; a connection that cannot
be made or used (refused, TLS failure, reset while sending) gives that
network status (3, 4, 5, 7); an undefined variable or an invalid value is a
recipe error (2). Secret values never appear in a result: ``***`` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING

from netbench.errors import NetbenchError, NetworkError, RecipeError
from netbench.recipe.describe import describe_step
from netbench.recipe.model import Recipe, Step
from netbench.recipe.result import Result, StepFailed, StepResult
from netbench.recipe.runner import Runner
from netbench.recipe.template import Context
from netbench.status import ExitStatus

if TYPE_CHECKING:
    from netbench.core.address import Target

__all__ = [
    "OnStep",
    "Result",
    "StepResult",
    "make_context",
    "recipe_target",
    "resolve_target",
    "run",
    "run_step",
    "start_lab",
]

OnStep = Callable[[StepResult], object]


def resolve_target(
    recipe: Recipe, override: str | None, context: Context, base: Target | None
) -> Target | None:
    """The target to aim at: *override*, else the recipe's own *base* (None: use the lab).

    A bare ``HOST:PORT`` override keeps the transport of the recipe's target.
    """
    if override:
        from netbench.core.address import parse_target

        text = context.expand_text(override)
        named = "://" in text or text.startswith("unix:")
        return parse_target(text, None if named or base is None else base.transport)
    if recipe.lab:
        return None
    if base is None:
        raise RecipeError("no target: add 'target:' or 'lab:' to the recipe, or give --target", recipe.where)
    return base


def recipe_target(recipe: Recipe, context: Context) -> Target | None:
    """The recipe's own ``target:``, expanded and parsed (None when it has none)."""
    if not recipe.target:
        return None
    from netbench.core.address import parse_target

    return parse_target(context.expand_text(recipe.target))


def make_context(recipe: Recipe, variables: Mapping[str, str] | None, environ: Mapping[str, str]) -> Context:
    """Variables in force at the start: the recipe's vars (expanded in order), then *variables*."""
    context = Context(environ=environ)
    for name, value in recipe.all_vars:  # included recipes' vars first, as defaults
        if variables and name in variables:
            continue
        context.variables[name] = context.expand_text(value)
    context.variables.update(variables or {})
    return context


def run(
    recipe: Recipe,
    *,
    target: str | None = None,
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
    on_step: OnStep | None = None,
    pipeline: int = 0,
) -> Result:
    """Run *recipe* and return its :class:`Result` (never raises for a failing recipe).

    *pipeline* > 0 writes up to that many requests ahead in each run of consecutive plain
    ``http`` steps (:mod:`netbench.recipe.pipelined`); the results are the same.
    """
    import os

    if timeout is not None:
        recipe = recipe.replace(timeout=timeout)
    shown = target or recipe.target or (f"lab {recipe.lab}" if recipe.lab else "(no target)")
    one = _Run(recipe, Context(environ=os.environ if environ is None else environ), on_step, shown, pipeline)
    with ExitStack() as cleanup:
        try:
            runner = one.prepare(target, variables, cleanup)
            return one.finish(one.steps(runner))
        except NetbenchError as error:
            return one.finish(one.not_started(error))


class _Run:
    """The bookkeeping of one run: the step results so far, the variables, what it aims at."""

    def __init__(
        self, recipe: Recipe, context: Context, on_step: OnStep | None, shown: str, pipeline: int = 0
    ) -> None:
        self.recipe = recipe
        self.pipeline = pipeline  # requests written ahead in a run of plain http steps (0: none)
        self.context = context
        self.on_step = on_step
        self.shown = shown
        self.results: list[StepResult] = []
        self.started = time.monotonic()

    def prepare(self, target: str | None, variables: Mapping[str, str] | None, cleanup: ExitStack) -> Runner:
        """The variables, the target (the lab started when it is the target), and the runner."""
        recipe = self.recipe
        self.context = make_context(recipe, variables, self.context.environ)
        base = recipe_target(recipe, self.context)  # the recipe's target text, parsed once
        aim = resolve_target(recipe, target, self.context, base)
        if aim is None:
            aim = start_lab(recipe, base, cleanup)
        self.shown = str(aim)
        runner = Runner(recipe, aim, self.context, recipe.timeout)
        cleanup.callback(runner.close)
        return runner

    def steps(self, runner: Runner) -> ExitStatus:
        """Connect, then run the steps until one fails; the status that stands for the run."""
        begin = time.monotonic()
        try:
            runner.connect()
        except NetworkError as error:
            message = self.context.mask(str(error))
            duration = time.monotonic() - begin
            self.record(
                StepResult(
                    0, 1, f"connect to {runner.target}", False, error.status, message, duration=duration
                )
            )
            return error.status
        steps = self.recipe.steps
        position = 0  # of the next step to run
        while position < len(steps):
            end = position + 1
            if self.pipeline:
                from netbench.recipe.pipelined import pipelined_run_end, run_pipelined

                end = pipelined_run_end(runner, position)
                if end - position > 1:  # a run of plain GET/HEAD http steps: written ahead
                    for result in run_pipelined(runner, position, end, self.pipeline):
                        self.record(result)
                        if not result.ok:
                            return result.status
                        position += 1
            for index in range(position, end):  # one at a time (and what a pipelined run left)
                result = run_step(runner, steps[index], index + 1)
                self.record(result)
                if not result.ok:
                    return result.status
            position = end
        return ExitStatus.OK

    def not_started(self, error: NetbenchError) -> ExitStatus:
        """A run that could not start (an invalid value, no target, a lab that would not start)."""
        message = str(error)
        if isinstance(error, RecipeError) and not error.path:
            message = f"{self.recipe.where}: {error.reason}"
        self.record(StepResult(0, 1, "start", False, error.status, self.context.mask(message)))
        return error.status

    def record(self, result: StepResult) -> None:
        self.results.append(result)
        if self.on_step is not None:
            self.on_step(result)

    def finish(self, status: ExitStatus) -> Result:
        context, recipe = self.context, self.recipe
        return Result(
            recipe.name,
            recipe.where,
            self.shown,
            tuple(self.results),
            ExitStatus(status),
            len(recipe.steps),
            time.monotonic() - self.started,
            {name: context.mask(value) for name, value in context.variables.items()},
        )


def run_step(
    runner: Runner,
    step: Step,
    index: int,
    action: Callable[[], dict[str, str]] | None = None,
    begin: float | None = None,
) -> StepResult:
    """Run step number *index* and say how it went (its captures go into the variables).

    *action* stands in for ``runner.step(step)`` (a pipelined step checks an answer that
    already arrived), *begin* for now as the step's start.
    """
    context = runner.context
    begin = time.monotonic() if begin is None else begin
    try:
        captured = runner.step(step) if action is None else action()
    except StepFailed as failure:
        return _failed(step, index, context, failure, begin)
    except RecipeError as error:
        message = f"{runner.recipe.where}:{step.line}: step {index}: {context.mask(error.reason)}"
        summary = describe_step(step)
        return StepResult(
            index, step.line, summary, False, ExitStatus.USAGE, message, duration=time.monotonic() - begin
        )
    except NetworkError as error:
        broken = StepFailed(str(error), error.status, received=getattr(error, "partial", None))
        return _failed(step, index, context, broken, begin)
    context.variables.update(captured)
    return StepResult.held(index, step, runner.attempts, time.monotonic() - begin)  # described when read


def _failed(step: Step, index: int, context: Context, failure: StepFailed, begin: float) -> StepResult:
    return StepResult(
        index,
        step.line,
        describe_step(step),
        False,
        ExitStatus(failure.status),
        context.mask(failure.message),
        context.mask_bytes(failure.expected) if failure.expected is not None else None,
        context.mask_bytes(failure.received) if failure.received is not None else None,
        time.monotonic() - begin,
    )


def start_lab(recipe: Recipe, base: Target | None, cleanup: ExitStack) -> Target:
    """Start the recipe's lab service in the lab's background thread until *cleanup* closes."""
    from netbench.core.address import Target
    from netbench.lab import running

    name = recipe.lab or ""
    transport = base.transport if base is not None else "tcp"
    server = cleanup.enter_context(running(name))[name]
    if transport not in server.transports:
        raise RecipeError(f"lab service {name} does not speak {transport}", recipe.where)
    return Target(transport, server.host, server.port)
