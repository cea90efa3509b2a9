"""What a recipe run gives back: data per step, and the run's exit status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from netbench.core.frozen import Frozen
from netbench.status import ExitStatus

if TYPE_CHECKING:
    from netbench.recipe.model import Step

_set = object.__setattr__  # how __init__ sets a field of a frozen object


class StepResult(Frozen):
    """How one step went. ``index`` is 1-based (0 is the connection itself).

    Frozen (:class:`~netbench.core.frozen.Frozen`), not a dataclass: start-up.
    ``summary`` (``send "x" -> expect line "y"``) of a step that held is written
    when first read (:meth:`held`): a quiet run or a pytest item that passes
    never shows it, and describing a step costs a pass of the escaper.
    """

    __slots__ = (
        "_described",
        "_summary",
        "duration",
        "expected",
        "index",
        "line",
        "message",
        "ok",
        "received",
        "status",
    )
    __match_args__ = (
        "index",
        "line",
        "summary",
        "ok",
        "status",
        "message",
        "expected",
        "received",
        "duration",
    )
    index: int
    line: int
    _summary: str | None
    _described: tuple[Step, int] | None  # the step and its attempts, until the summary is written
    ok: bool
    status: ExitStatus
    message: str
    expected: bytes | None
    received: bytes | None
    duration: float

    def __init__(
        self,
        index: int,
        line: int,
        summary: str,
        ok: bool,
        status: ExitStatus = ExitStatus.OK,
        message: str = "",
        expected: bytes | None = None,
        received: bytes | None = None,
        duration: float = 0.0,
    ) -> None:
        _set(self, "index", index)
        _set(self, "line", line)
        _set(self, "_summary", summary)
        _set(self, "ok", ok)
        _set(self, "status", status)
        _set(self, "message", message)
        _set(self, "expected", expected)
        _set(self, "received", received)
        _set(self, "duration", duration)
        _set(self, "_described", None)

    @classmethod
    def held(cls, index: int, step: Step, attempts: int, duration: float) -> StepResult:
        """The result of step number *index* that held after *attempts* attempts."""
        result = cls(index, step.line, "", True, duration=duration)
        _set(result, "_summary", None)
        _set(result, "_described", (step, attempts))
        return result

    @property
    def summary(self) -> str:
        """What the step does, in one line (with ``(N attempts)`` when it took more than one)."""
        if self._summary is None and self._described is not None:
            from netbench.recipe.describe import describe_step

            step, attempts = self._described
            _set(self, "_summary", describe_step(step) + (f" ({attempts} attempts)" if attempts > 1 else ""))
            _set(self, "_described", None)
        return self._summary or ""


class Result(Frozen):
    """The outcome of one recipe run; ``status`` is the exit status it stands for."""

    __slots__ = __match_args__ = (
        "name",
        "path",
        "target",
        "steps",
        "status",
        "total_steps",
        "duration",
        "captures",
    )
    name: str
    path: str
    target: str
    steps: tuple[StepResult, ...]
    status: ExitStatus
    total_steps: int
    duration: float
    captures: Mapping[str, str]

    def __init__(
        self,
        name: str,
        path: str,
        target: str,
        steps: tuple[StepResult, ...],
        status: ExitStatus,
        total_steps: int,
        duration: float = 0.0,
        captures: Mapping[str, str] | None = None,
    ) -> None:
        _set(self, "name", name)
        _set(self, "path", path)
        _set(self, "target", target)
        _set(self, "steps", steps)
        _set(self, "status", status)
        _set(self, "total_steps", total_steps)
        _set(self, "duration", duration)
        _set(self, "captures", {} if captures is None else captures)

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
        status: ExitStatus = ExitStatus.EXPECTATION_FAILED,
        expected: bytes | None = None,
        received: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = ExitStatus(status)
        self.expected = expected
        self.received = received
