"""Run many recipe files one after the other, and the exit status they add up to.

Used by ``netbench replay`` and the Python API. An invalid recipe becomes a
:class:`~netbench.recipe.engine.Result` with status 2 and the loader's
``file:line: what is wrong`` as its message, so one bad file never stops
the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from netbench.errors import RecipeError
from netbench.recipe.cache import load_cached
from netbench.recipe.engine import OnStep, Result, StepResult, run
from netbench.recipe.finding import SUFFIX
from netbench.status import ExitStatus


def invalid_result(path: str, error: RecipeError) -> Result:
    """The result standing for a recipe that could not be loaded."""
    name = Path(path).name.removesuffix(SUFFIX)
    step = StepResult(0, error.line or 0, "load", False, ExitStatus.USAGE, str(error))
    return Result(name, path, "", (step,), ExitStatus.USAGE, 0)


def run_files(
    paths: Sequence[str],
    *,
    target: str | None = None,
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
    on_start: Callable[[int, str, int], object] | None = None,
    on_step: OnStep | None = None,
    on_result: Callable[[Result], object] | None = None,
    pipeline: int = 0,
) -> list[Result]:
    """Load and run each recipe file in turn; return every result, in order.

    ``on_start(index, path, step_count)`` is called before each valid recipe runs.
    """
    results = []
    for index, path in enumerate(paths, 1):
        try:
            recipe = load_cached(path, environ)  # parsed once per change of the file
        except RecipeError as error:
            result = invalid_result(path, error)
        else:
            if on_start is not None:
                on_start(index, path, len(recipe.steps))
            result = run(
                recipe,
                target=target,
                variables=variables,
                environ=environ,
                timeout=timeout,
                on_step=on_step,
                pipeline=pipeline,
            )
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def overall_status(results: Sequence[Result]) -> ExitStatus:
    """The exit status of a run of several recipes.

    2 when any recipe is invalid; else 1 when any expectation failed; else,
    when every recipe that did not pass failed for the same network reason
    (3 refused, 4 timeout, 5 reset, 6 protocol, 7 TLS), that status, and 1
    when the reasons differ; 0 when all passed.
    """
    statuses = {result.status for result in results if not result.ok}
    if not statuses:
        return ExitStatus.OK
    if ExitStatus.USAGE in statuses:
        return ExitStatus.USAGE
    if len(statuses) == 1:
        return statuses.pop()
    return ExitStatus.EXPECTATION_FAILED
