"""How a step fails while it waits or checks: the :class:`~netbench.recipe.result.StepFailed` to raise.

:func:`waiting_failed` names what went wrong while a step waited for its
answer (a timeout, the peer closing, a malformed HTTP answer), with what
was wanted and the partial answer; :func:`check` raises a check's
:class:`~netbench.recipe.match.Mismatch`. Used by the runner and the
pipelined runs of http steps alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netbench.errors import Reset, TimedOut
from netbench.recipe.result import StepFailed

if TYPE_CHECKING:
    from netbench.errors import ProtocolError
    from netbench.recipe.match import Mismatch
    from netbench.recipe.model import Expect


def waiting_failed(error: TimedOut | Reset | ProtocolError, expect: Expect, timeout: float) -> StepFailed:
    """What failed a step while it waited for its answer: a timeout, the peer closing, bad HTTP."""
    if isinstance(error, TimedOut):
        return StepFailed(
            f"timed out after {timeout:g} s waiting for {_what(expect)}",
            expected=_wanted(expect),
            received=error.partial,
        )
    if isinstance(error, Reset):
        return StepFailed(
            f"{error} while waiting for {_what(expect)}", expected=_wanted(expect), received=error.partial
        )
    return StepFailed(f"not a valid HTTP response: {error}", received=error.partial)


def check(problem: Mismatch | None) -> None:
    """Raise *problem* (a check that did not hold) as the step's failure; nothing when it is None."""
    if problem is not None:
        raise StepFailed(problem.message, expected=problem.expected, received=problem.received)


def _what(expect: Expect) -> str:
    from netbench.recipe.describe import describe_expect

    return describe_expect(expect) or "an HTTP response"


def _wanted(expect: Expect) -> bytes | None:
    if expect.exact is not None:
        return expect.exact
    return expect.line if expect.line is not None else expect.contains
