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

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from netbench.errors import NetbenchError, NetworkError, RecipeError
from netbench.recipe.describe import describe_step
from netbench.recipe.model import Recipe, Step
from netbench.recipe.result import Result, StepFailed, StepResult
from netbench.recipe.runner import Runner
from netbench.recipe.template import Context
from netbench.status import ExitStatus

if TYPE_CHECKING:
    from netbench.core.address import Target

__all__ = ["OnStep", "Result", "StepResult", "make_context", "resolve_target", "run"]

OnStep = Callable[[StepResult], object]


def resolve_target(recipe: Recipe, override: str | None, context: Context) -> Target | None:
    """The target to aim at: *override*, else the recipe's (None: use the lab)."""
    from netbench.core.address import parse_target

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
    shown = target or recipe.target or (f"lab {recipe.lab}" if recipe.lab else "(no target)")
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
        message = str(error)
        if isinstance(error, RecipeError) and not error.path:
            message = f"{recipe.where}: {error.reason}"
        record(StepResult(0, 1, "start", False, error.status, context.mask(message)))
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
    from netbench.core.address import Target
    from netbench.lab import start

    name = recipe.lab or ""
    transport = "tcp"
    if recipe.target:
        from netbench.core.address import parse_target

        transport = parse_target(context.expand_text(recipe.target)).transport
    server = await start(name)
    if transport not in server.transports:
        await server.close()
        raise RecipeError(f"lab service {name} does not speak {transport}", recipe.where)
    return Target(transport, server.host, server.port), server  # type: ignore[arg-type]
