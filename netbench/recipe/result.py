"""What a recipe run gives back: data per step, and the run's exit status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from netbench.status import ExitStatus


@dataclass(frozen=True)
class StepResult:
    """How one step went. ``index`` is 1-based (0 is the connection itself)."""

    index: int
    line: int
    summary: str
    ok: bool
    status: ExitStatus = ExitStatus.OK
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
    status: ExitStatus
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
        status: ExitStatus = ExitStatus.EXPECTATION_FAILED,
        expected: bytes | None = None,
        received: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = ExitStatus(status)
        self.expected = expected
        self.received = received
