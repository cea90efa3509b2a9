"""Steps run through other runs: ``include`` and ``retry`` (the runner calls these).

:func:`run_included` runs an included recipe's steps in place of one step,
on the same connection and variables, and names a failure by the included
file and step (``login.recipe.yaml step 2 (line 9): ...``).
:func:`run_with_retry` runs a step up to ``times`` attempts, ``interval``
apart, until it holds; *again* prepares each further attempt (a raw step
reconnects). The last failure says how many attempts ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from netbench.errors import NetworkError, RecipeError
from netbench.recipe.model import Include, Retry, Step
from netbench.recipe.result import StepFailed
from netbench.recipe.template import Context

T = TypeVar("T")


def run_included(include: Include, run: Callable[[Step], dict[str, str]], context: Context) -> dict[str, str]:
    """Run the included steps with *run*; their captures become variables as they come."""
    captured: dict[str, str] = {}
    for index, step in enumerate(include.recipe.steps, 1):
        label = f"{include.label} step {index} (line {step.line})"
        try:
            found = run(step)
        except StepFailed as failure:
            raise StepFailed(
                f"{label}: {failure.message}", failure.status, failure.expected, failure.received
            ) from None
        except RecipeError as error:
            raise RecipeError(f"{label}: {error.reason}") from None
        except NetworkError as error:
            raise StepFailed(
                f"{label}: {error}", error.status, received=getattr(error, "partial", None)
            ) from None
        context.variables.update(found)
        captured.update(found)
    return captured


def run_with_retry(retry: Retry, attempt: Callable[[], T], again: Callable[[], None]) -> tuple[T, int]:
    """*attempt*'s result and how many attempts it took; the last failure when none held."""
    for number in range(1, retry.times + 1):
        try:
            if number > 1:
                again()
            return attempt(), number
        except (StepFailed, NetworkError) as error:
            if number == retry.times:
                message = error.message if isinstance(error, StepFailed) else str(error)
                status = error.status
                received = (
                    error.received if isinstance(error, StepFailed) else getattr(error, "partial", None)
                )
                expected = error.expected if isinstance(error, StepFailed) else None
                attempts = f"{number} attempt{'s' if number > 1 else ''}"
                raise StepFailed(f"{message} ({attempts}, none held)", status, expected, received) from None
        time.sleep(retry.interval)
    raise AssertionError("unreachable: retry.times is at least 1")
