"""Failure reports a tired person understands at a glance (pure text).

A report names the recipe file and line, the step number and a one-line
summary of it, says what was expected and what arrived, then shows a
unified diff for text or a hexdump with the first differing byte marked
(``>``) for binary. On a timeout it shows the partial data received.
Results are already masked by the engine: secrets show as ``***``.

Text from the recipe file (its name, step names and summaries, the path,
the target) and messages that quote a peer go through
:func:`netbench.core.escape.scrub` here, so a hostile file cannot write a
control sequence to the terminal through a report or a step line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netbench.core.escape import escape, hexdump, is_text, quote, scrub

if TYPE_CHECKING:
    from netbench.recipe.engine import Result, StepResult

LIMIT = 4096


def _visible_lines(data: bytes) -> list[str]:
    """Lines of *data* with CR and controls made visible, one list item per line."""
    lines = data.split(b"\n")
    out = [escape(line, keep_newlines=False, keep_tabs=False) + "\\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(escape(lines[-1], keep_newlines=False, keep_tabs=False))
    return out


def first_difference(expected: bytes, received: bytes) -> int:
    """The offset of the first byte that differs (the shorter length when one is a prefix)."""
    for index, (a, b) in enumerate(zip(expected, received, strict=False)):
        if a != b:
            return index
    return min(len(expected), len(received))


def compare(expected: bytes | None, received: bytes | None, indent: str = "  ") -> list[str]:
    """Lines showing *expected* against *received*: a diff for text, hexdumps for binary."""
    out: list[str] = []
    if received is not None and len(received) > LIMIT:
        out.append(f"{indent}(showing the first {LIMIT} of {len(received)} bytes received)")
        received = received[:LIMIT]
    if expected is not None and received is not None and expected != received:
        if is_text(expected) and is_text(received):
            import difflib  # only a failure report needs it

            diff = difflib.unified_diff(
                _visible_lines(expected), _visible_lines(received), "expected", "received", lineterm="", n=2
            )
            out.extend(indent + line for line in diff)
            return out
        mark = first_difference(expected, received)
        out.append(f"{indent}first difference at offset {mark} (0x{mark:x})")
        out.append(f"{indent}expected ({len(expected)} bytes):")
        out.extend(indent + "  " + row for row in hexdump(expected, mark=mark).splitlines())
        out.append(f"{indent}received ({len(received)} bytes):")
        out.extend(indent + "  " + row for row in hexdump(received, mark=mark).splitlines())
        return out
    if expected is not None and expected != received:
        out.append(f"{indent}expected ({len(expected)} bytes):")
        out.extend(_block(expected, indent + "  "))
    if received is not None:
        if not received:
            out.append(f"{indent}received nothing")
        else:
            out.append(f"{indent}received ({len(received)} bytes):")
            out.extend(_block(received, indent + "  "))
    return out


def _block(data: bytes, indent: str) -> list[str]:
    if is_text(data):
        return [indent + line for line in _visible_lines(data)]
    return [indent + row for row in hexdump(data).splitlines()]


def step_line(step: StepResult, total: int) -> str:
    """The progress line of a step: ``  ok   3/5  send "..." (1.2 ms)``."""
    mark = "ok  " if step.ok else "FAIL"
    where = "connect" if step.index == 0 else f"{step.index}/{total}"
    return f"  {mark} {where:>7}  {scrub(step.summary)} ({step.duration * 1000:.1f} ms)"


def render_step_failure(result: Result, step: StepResult) -> str:
    """The detailed block for one failed step; the first line says it all."""
    path, message, summary = scrub(result.path), scrub(step.message), scrub(step.summary)
    if step.index == 0:
        if step.message.startswith(result.path):
            return message
        return f"{path}: {summary}: {message}"
    if step.message.startswith(f"{result.path}:"):
        return message
    lines = [
        f"{path}:{step.line}: step {step.index} of {result.total_steps} failed: {message}",
        f"  step {step.index}: {summary}",
    ]
    lines.extend(compare(step.expected, step.received))
    return "\n".join(lines)


def render_result(result: Result, color: bool = False) -> str:
    """The report of one recipe run: one line when it passed, the failure block when not."""
    if result.ok:
        return f"PASS {scrub(result.name)} ({len(result.steps)} steps, {result.duration * 1000:.0f} ms)"
    failed = result.failure
    lines = [render_step_failure(result, failed)] if failed is not None else []
    lines.append(f"  recipe {quote(result.name, 200)} against {scrub(result.target)}")
    return "\n".join(lines)
