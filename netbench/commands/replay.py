"""``netbench replay RECIPE|DIR...``: run recipes and check the answers.

On a terminal each step prints a line as it completes, with a progress
count when there are several recipes; a failed recipe prints its report
(file:line, step, expected vs received); a summary line ends the run.
``--json`` prints one JSON document instead; ``--junit-xml FILE`` writes a
JUnit report too. Exit status: 0 all passed, 1 an expectation failed, 2 an
invalid recipe or bad arguments, and 3-7 when every recipe that did not
pass failed for the same network reason (see docs/recipes.md).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netbench.environment import Environment
    from netbench.recipe.engine import Result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run recipes (*.recipe.yaml; a directory means every recipe in it) and check the answers. "
        "A recipe with 'lab: SERVICE' starts that embedded service unless --target is given."
    )
    parser.add_argument("recipes", nargs="+", metavar="RECIPE|DIR", help="recipe files or directories")
    parser.add_argument("-t", "--target", help="aim every recipe at TARGET instead (HOST:PORT, tcp://...)")
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable (repeatable)"
    )
    parser.add_argument(
        "-w", "--timeout", type=float, metavar="SECS", help="per-step timeout for every step (default 5)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document with every result")
    parser.add_argument("--junit-xml", metavar="FILE", help="also write a JUnit XML report to FILE")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no per-step lines, only failures and the summary"
    )


def result_json(result: Result) -> dict[str, object]:
    """One result as plain JSON data (bytes made terminal-safe text)."""
    from netbench.core.escape import escape

    def text(data: bytes | None) -> str | None:
        return None if data is None else escape(data, keep_newlines=False)

    return {
        "name": result.name,
        "path": result.path,
        "target": result.target,
        "ok": result.ok,
        "status": int(result.status),
        "message": result.message,
        "duration": round(result.duration, 6),
        "steps": [
            {
                "index": s.index,
                "line": s.line,
                "summary": s.summary,
                "ok": s.ok,
                "status": int(s.status),
                "message": s.message,
                "expected": text(s.expected),
                "received": text(s.received),
                "duration": round(s.duration, 6),
            }
            for s in result.steps
        ],
    }


def run(args: argparse.Namespace, env: Environment) -> int:
    import asyncio
    import time

    from netbench.errors import UsageError
    from netbench.recipe.batch import overall_status, run_files
    from netbench.recipe.engine import StepResult
    from netbench.recipe.load import find_recipes
    from netbench.recipe.report import render_result, step_line
    from netbench.recipe.template import parse_vars

    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be more than 0 seconds")
    variables = parse_vars(args.var)
    paths = find_recipes(args.recipes)
    if not paths:
        raise UsageError(f"no *.recipe.yaml files in {' '.join(args.recipes)}")
    out = env.stdout
    live = bool(env.stdout_isatty) and not args.json and not args.quiet
    many = len(paths) > 1
    totals: dict[str, int] = {}

    def on_start(index: int, path: str, steps: int) -> None:
        totals["steps"] = steps
        if live:
            out.write(f"{f'[{index}/{len(paths)}] ' if many else ''}{path}\n")
            out.flush()

    def on_step(step: StepResult) -> None:
        if live:
            out.write(step_line(step, totals["steps"]) + "\n")
            out.flush()

    def on_result(result: Result) -> None:
        if args.json:
            return
        if result.status == 2 and result.total_steps == 0:
            env.error(result.message)
            return
        if result.ok and not args.quiet:
            out.write(render_result(result) + "\n")
        elif not result.ok:
            mark = "\x1b[31mFAIL\x1b[0m" if env.color else "FAIL"
            out.write(f"{mark} {result.name}\n{render_result(result)}\n")
        out.flush()

    done: list[list[Result]] = []

    async def main() -> None:
        # The results are handed out through *done*, not returned: on Python 3.11, asyncio.run
        # reprs its main task (and so a returned result, every step of it) twice when it puts
        # the SIGINT handler back, ~5 ms per repr for 1000 steps.
        done.append(
            await run_files(
                paths,
                target=args.target,
                variables=variables,
                environ=env.environ,
                timeout=args.timeout,
                on_start=on_start,
                on_step=on_step,
                on_result=on_result,
            )
        )

    started = time.monotonic()
    asyncio.run(main())
    results = done[0]
    elapsed = time.monotonic() - started
    status = overall_status(results)
    if args.junit_xml:
        from netbench.recipe.dump import write_atomic
        from netbench.recipe.junit import to_junit

        try:
            write_atomic(args.junit_xml, to_junit(results))
        except OSError as error:
            raise UsageError(f"cannot write {args.junit_xml}: {error.strerror or error}") from None
    if args.json:
        import json  # only for --json

        document = {
            "status": int(status),
            "passed": sum(r.ok for r in results),
            "failed": sum(not r.ok and r.status != 2 for r in results),
            "invalid": sum(r.status == 2 for r in results),
            "duration": round(elapsed, 6),
            "recipes": [result_json(r) for r in results],
        }
        out.write(json.dumps(document) + "\n")
    else:
        passed = sum(r.ok for r in results)
        invalid = sum(r.status == 2 and r.total_steps == 0 for r in results)
        failed = len(results) - passed - invalid
        parts = [f"{passed} passed"]
        parts += [f"{failed} failed"] if failed else []
        parts += [f"{invalid} invalid"] if invalid else []
        if many or live or results[0].status not in (0, 2):
            out.write(f"{', '.join(parts)} in {elapsed:.2f} s\n")
    out.flush()
    return status
