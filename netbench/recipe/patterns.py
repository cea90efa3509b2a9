"""Recipe regular expressions that cannot hang a run (issue 11 item 5).

A recipe's ``regex`` (an expect, a header or body check, a capture) comes
from a file nobody vouches for and runs over bytes a peer chose: ``(a+)+$``
against ``aaaa...b`` takes exponential time in a backtracking engine. Every
search here ends by the step's deadline (plus :data:`MARGIN`) and then
raises :class:`~netbench.recipe.result.StepFailed` naming the pattern.

How: the ``regex`` package (a drop-in for ``re`` on the patterns recipes
use) takes a ``timeout``, but it counts CPU time, which on a loaded machine
runs slower than the clock. So a search first runs in the calling thread
with a small CPU budget (:data:`INLINE_BUDGET`: the common case costs no
thread); one that needs more continues in a daemon thread that releases
the GIL (``concurrent=True``), with the rest of the step's time as its CPU
budget, while the caller waits by the wall clock in short slices (so
Ctrl-C is handled within a fraction of a second whichever thread the signal
lands on). A search given up on stops by itself when its budget runs out.
A worker process would be exact too, but would copy up to 16 MiB of answer
per search and cost a process start; threads cost neither.

The deadline is per thread: the runner calls :func:`set_deadline` when a
step starts. With none set a search may take :data:`DEFAULT_SECONDS`.
"""

from __future__ import annotations

import re
import threading
import time
from functools import lru_cache
from typing import Any

from netbench.recipe.result import StepFailed

INLINE_BUDGET = 0.05
MARGIN = 0.25
DEFAULT_SECONDS = 5.0
SLICE = 0.1
_local = threading.local()


def set_deadline(deadline: float | None) -> None:
    """Searches in this thread must end by *deadline* (``time.monotonic()``); None: the default."""
    _local.deadline = deadline


def remaining() -> float:
    """Seconds left for a search started now."""
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return DEFAULT_SECONDS
    return max(0.0, deadline - time.monotonic())


class Pattern:
    """A compiled recipe regex (bytes) whose :meth:`search` keeps to the deadline."""

    __slots__ = ("compiled", "text")

    def __init__(self, text: str, compiled: Any) -> None:
        self.text = text
        self.compiled = compiled

    @property
    def groups(self) -> int:
        return int(self.compiled.groups)

    def _timed_out(self) -> StepFailed:
        return StepFailed(
            f"regex /{self.text}/ did not finish in the step's time: the pattern backtracks too much "
            "(nested repeats such as (a+)+ take exponential time); simplify it"
        )

    def search(self, data: bytes, pos: int = 0) -> Any:
        """The first match in *data* from *pos* (a ``regex`` match object, like ``re``'s), or None."""
        left = remaining()
        try:
            return self.compiled.search(data, pos, timeout=min(INLINE_BUDGET, left + MARGIN))
        except TimeoutError:
            if left <= INLINE_BUDGET:
                raise self._timed_out() from None
        return self._search_in_thread(data, pos, left)

    def _search_in_thread(self, data: bytes, pos: int, left: float) -> Any:
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["match"] = self.compiled.search(data, pos, timeout=left + MARGIN, concurrent=True)
            except BaseException as error:  # handed to the caller below
                box["error"] = error
            finally:
                done.set()

        threading.Thread(target=work, name="netbench-regex", daemon=True).start()
        give_up = time.monotonic() + left + MARGIN
        while not done.wait(max(0.0, min(SLICE, give_up - time.monotonic()))):
            if time.monotonic() >= give_up:
                raise self._timed_out()
        error = box.get("error")
        if isinstance(error, TimeoutError):
            raise self._timed_out()
        if error is not None:
            raise error
        return box["match"]


@lru_cache(maxsize=256)
def compile_pattern(text: str) -> Pattern:
    """Compile recipe regex *text* for bytes (raises ``re.error`` when it is not valid)."""
    import regex  # ~20 ms to import: only for recipes that use a regex

    try:
        compiled = regex.compile(text.encode("utf-8", "surrogateescape"))
    except regex.error as error:
        raise re.error(str(error)) from None
    return Pattern(text, compiled)
