"""``netbench replay RECIPE|DIR...``: run recipes and check the answers.

On a terminal each step prints a line as it completes, with a progress
count when there are several recipes; a failed recipe prints its report
(file:line, step, expected vs received); a summary line ends the run.
``--json`` prints one JSON document instead; ``--junit-xml FILE`` writes a
JUnit report too; ``--step`` walks a recipe one step at a time, asking on
stdin (:mod:`netbench.recipe.stepper`). Exit status: 0 all passed, 1 an
expectation failed, 2 an invalid recipe or bad arguments, and 3-7 when every
recipe that did not pass failed for the same network reason (see
docs/recipes.md).
"""

from __future__ import annotations

import argparse

from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from netbench.environment import Environment
    from netbench.recipe.engine import Result, StepResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run recipes (*.recipe.yaml; a directory means every recipe in it) and check the answers. "
        "A recipe with 'lab: SERVICE' starts that embedded service unless --target is given."
    )
    # "*", not "+": `--pipeline RECIPE` takes the recipe as its optional N, and _replay puts it back.
    parser.add_argument("recipes", nargs="*", metavar="RECIPE|DIR", help="recipe files or directories")
    parser.add_argument("-t", "--target", help="aim every recipe at TARGET instead (HOST:PORT, tcp://...)")
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable (repeatable)"
    )
    parser.add_argument(
        "--vars-file", action="append", default=[], metavar="FILE", help="variables from YAML (--var wins)"
    )
    parser.add_argument("--curl", action="store_true", help="print http steps as curl commands; run nothing")
    parser.add_argument(
        "--step",
        action="store_true",
        help="walk the recipe one step at a time: show what each step sends and what comes back, decoded; "
        "before each step read a line: Enter runs it, s skips it, q stops (exit 0 when every step run "
        "held), c runs the rest; end of input stops as q does",
    )
    parser.add_argument(
        "-w", "--timeout", type=float, metavar="SECS", help="per-step timeout for every step (default 5)"
    )
    parser.add_argument(
        "--pipeline",
        nargs="?",
        const="16",
        metavar="N",
        help="write up to N requests (default 16) ahead in runs of plain GET/HEAD http steps "
        "(no captures, retry or include between them); the results are the same",
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


def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Run the recipes, report them, and return the exit status they add up to.

    Ctrl-C and SIGTERM stop the run cleanly: the recipes that finished are
    summed up (or put in the ``--json`` document) before the interrupt goes
    on to ``cli.main`` (exit 130, or 143 for SIGTERM).
    """
    from netbench.signals import sigterm_as_interrupt

    with sigterm_as_interrupt():
        return _replay(args, env)


def _replay(args: argparse.Namespace, env: Environment) -> ExitStatus:
    import time

    from netbench.errors import UsageError
    from netbench.recipe.batch import overall_status
    from netbench.recipe.finding import find_recipes
    from netbench.recipe.template import parse_vars
    from netbench.recipe.varsfile import merge_vars

    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be more than 0 seconds")
    args.pipeline = _pipeline_depth(args)
    variables = merge_vars(args.vars_file, parse_vars(args.var))
    paths = find_recipes(args.recipes)
    if not paths:
        raise UsageError(f"no *.recipe.yaml files in {' '.join(args.recipes)}")
    if args.curl:
        from netbench.commands.import_curl import print_curl

        return print_curl(paths, args.target, variables, env)
    if args.step:
        return _step(paths, args, env, variables)
    printer = Progress(args, env, len(paths))
    started = time.monotonic()
    try:
        results = _run_recipes(paths, args, env, variables, printer)
    except KeyboardInterrupt as error:
        from netbench.status import status_for

        printer.summary(printer.finished, time.monotonic() - started, status_for(error))
        raise
    status = ExitStatus(overall_status(results))
    if args.junit_xml:
        _write_junit(args.junit_xml, results)
    printer.summary(results, time.monotonic() - started, status)
    return status


def _pipeline_depth(args: argparse.Namespace) -> int:
    """The --pipeline depth (0: off); `--pipeline RECIPE` is a recipe, not N (it goes back in)."""
    from netbench.commands.parsing import pipeline_depth
    from netbench.errors import UsageError

    depth = pipeline_depth(args.pipeline, args.recipes, 16) or 0
    if not args.recipes:
        raise UsageError("give at least one recipe file or directory")
    return depth


def _run_recipes(
    paths: list[str],
    args: argparse.Namespace,
    env: Environment,
    variables: dict[str, str],
    printer: Progress,
) -> list[Result]:
    """Load and run every recipe in *paths*, reporting through *printer* (the blocking engine)."""
    from netbench.recipe.batch import run_files

    return run_files(
        paths,
        target=args.target,
        variables=variables,
        environ=env.environ,
        timeout=args.timeout,
        on_start=printer.on_start,
        on_step=printer.on_step,
        on_result=printer.on_result,
        pipeline=args.pipeline or 0,
    )


def _step(
    paths: list[str], args: argparse.Namespace, env: Environment, variables: dict[str, str]
) -> ExitStatus:
    """``--step``: walk each recipe one step at a time, asking on stdin (see docs/recipes.md)."""
    from netbench.errors import UsageError
    from netbench.recipe.batch import overall_status
    from netbench.recipe.cache import load_cached
    from netbench.recipe.stepper import Stepper
    from netbench.repl.explain import status as explain_status  # the one HTTP status table

    for option, given in (("--json", args.json), ("--junit-xml", args.junit_xml), ("-q", args.quiet)):
        if given:
            raise UsageError(f"--step cannot go with {option}: it is a conversation with a person")
    out = env.stdout

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    def ask(prompt: str) -> str | None:
        from netbench.core.escape import escape_text

        out.write(prompt)
        out.flush()
        line = env.stdin_bytes.readline().decode("utf-8", "surrogateescape")
        if not env.stdin_isatty:  # the typed line is not on the screen: show it
            out.write(escape_text(line.rstrip("\r\n")) + "\n" if line else "(end of input: stopping)\n")
        elif not line:
            out.write("\n")
        return line or None

    stepper = Stepper(ask, write, explain_status)
    results = []
    for path in paths:
        if stepper.quit:
            break
        recipe = load_cached(path, env.environ)
        results.append(
            stepper.walk(
                recipe, target=args.target, variables=variables, environ=env.environ, timeout=args.timeout
            )
        )
    return ExitStatus(overall_status(results))


def _write_junit(path: str, results: list[Result]) -> None:
    from netbench.errors import UsageError
    from netbench.files import write_file
    from netbench.recipe.junit import to_junit

    try:
        write_file(path, to_junit(results))
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


class Progress:
    """What ``replay`` prints as recipes run, and the summary at the end.

    On a terminal (and without ``--quiet``/``--json``) a line per recipe and
    per step as it completes; a report for each recipe that did not pass;
    then one summary line, or the ``--json`` document. ``finished`` holds
    every result reported so far, so an interrupted run can still be summed up.
    """

    def __init__(self, args: argparse.Namespace, env: Environment, count: int) -> None:
        self.args = args
        self.env = env
        self.count = count
        self.live = bool(env.stdout_isatty) and not args.json and not args.quiet
        self.steps = 0
        self.finished: list[Result] = []

    def on_start(self, index: int, path: str, steps: int) -> None:
        from netbench.core.escape import scrub  # a file name is text from outside: escaped

        self.steps = steps
        if self.live:
            self.env.stdout.write(f"{f'[{index}/{self.count}] ' if self.count > 1 else ''}{scrub(path)}\n")
            self.env.stdout.flush()

    def on_step(self, step: StepResult) -> None:
        if self.live:
            from netbench.recipe.report import step_line

            self.env.stdout.write(step_line(step, self.steps) + "\n")
            self.env.stdout.flush()

    def on_result(self, result: Result) -> None:
        self.finished.append(result)
        if self.args.json:
            return
        if result.status == 2 and result.total_steps == 0:
            self.env.error(result.message)
            return
        if result.ok and self.args.quiet:
            return  # nothing to show: the report's modules are not even imported
        from netbench.recipe.report import render_result

        out = self.env.stdout
        if result.ok:
            out.write(render_result(result) + "\n")
        else:
            from netbench.core.escape import scrub
            from netbench.style import RED, paint

            mark = paint("FAIL", RED, on=self.env.color)
            out.write(f"{mark} {scrub(result.name)}\n{render_result(result)}\n")
        out.flush()

    def summary(self, results: list[Result], elapsed: float, status: ExitStatus) -> None:
        """The last word: one line (``2 passed, 1 failed in 0.31 s``) or the JSON document."""

        interrupted = status in (ExitStatus.INTERRUPTED, ExitStatus.TERMINATED)
        out = self.env.stdout
        if self.args.json:
            out.write(_json_document(results, elapsed, status, interrupted) + "\n")
        else:
            passed = sum(r.ok for r in results)
            invalid = sum(r.status == 2 and r.total_steps == 0 for r in results)
            failed = len(results) - passed - invalid
            parts = [f"{passed} passed"]
            parts += [f"{failed} failed"] if failed else []
            parts += [f"{invalid} invalid"] if invalid else []
            if interrupted:
                parts.append(f"{self.count - len(results)} not finished")
            if interrupted or self.count > 1 or self.live or results[0].status not in (0, 2):
                ending = f" ({'terminated' if status == ExitStatus.TERMINATED else 'interrupted'})"
                out.write(f"{', '.join(parts)} in {elapsed:.2f} s{ending if interrupted else ''}\n")
        out.flush()


def _json_document(results: list[Result], elapsed: float, status: ExitStatus, interrupted: bool) -> str:
    import json  # only for --json

    document: dict[str, object] = {
        "status": int(status),
        "passed": sum(r.ok for r in results),
        "failed": sum(not r.ok and r.status != 2 for r in results),
        "invalid": sum(r.status == 2 for r in results),
        "duration": round(elapsed, 6),
        "recipes": [result_json(r) for r in results],
    }
    if interrupted:
        document["interrupted"] = True
    return json.dumps(document)
