"""A recipe regex cannot hang a run: it ends by the step's deadline, and Ctrl-C ends it (issue 11 item 5).

Slow searches run in a subprocess with a generous outer timeout, so a
regression fails the test instead of hanging the suite; nothing here
asserts how long anything took.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from netbench.recipe.match import capture, compile_regex
from netbench.recipe.model import Capture
from netbench.recipe.patterns import compile_pattern, set_deadline

SLOW = "(a|aa)+$"  # exponential even for the regex package
SUBJECT = "b'a' * 64 + b'b'"


def run_python(code: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )


def test_ordinary_patterns_behave_like_re() -> None:
    pattern = compile_regex(r"id=(\w+)")
    found = pattern.search(b"x id=abc y")
    assert found is not None and found.group(1) == b"abc" and found.end() == 8
    assert pattern.groups == 1
    assert compile_regex("^nope").search(b"x") is None
    with pytest.raises(re.error):
        compile_pattern("(unclosed")


def test_a_backtracking_search_ends_at_the_deadline_naming_the_pattern() -> None:
    result = run_python(
        f"""
        import time
        from netbench.recipe.patterns import compile_pattern, set_deadline
        from netbench.recipe.result import StepFailed
        set_deadline(time.monotonic() + 1)
        try:
            compile_pattern({SLOW!r}).search({SUBJECT})
        except StepFailed as failure:
            print("FAILED:", failure.message)
        """
    )
    assert "FAILED: regex /(a|aa)+$/ did not finish in the step's time" in result.stdout, result.stderr


def test_a_capture_keeps_to_the_deadline_too() -> None:
    set_deadline(None)
    assert capture(Capture("x", "regex", r"(\d+)", 1), b"n=42", None) == "42"
    result = run_python(
        f"""
        import time
        from netbench.recipe.match import capture
        from netbench.recipe.model import Capture
        from netbench.recipe.patterns import set_deadline
        from netbench.recipe.result import StepFailed
        set_deadline(time.monotonic() + 0.5)
        try:
            capture(Capture("x", "regex", {SLOW!r}, 0), {SUBJECT}, None)
        except StepFailed as failure:
            print("FAILED:", failure.message)
        """
    )
    assert "FAILED: regex /(a|aa)+$/" in result.stdout, result.stderr


def test_sigint_ends_a_slow_search_promptly() -> None:
    code = f"""
        import signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from netbench.recipe.patterns import compile_pattern, set_deadline
        set_deadline(time.monotonic() + 120)
        try:
            print("searching", flush=True)
            compile_pattern({SLOW!r}).search({SUBJECT})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
        """
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "searching\n"
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=20)  # the search alone would take 120 s
    finally:
        process.kill()
    assert process.returncode == 130 and "interrupted" in out


def test_an_invalid_pattern_is_still_a_load_error(tmp_path: Path) -> None:
    from netbench.errors import RecipeError
    from netbench.recipe.load import loads

    with pytest.raises(RecipeError, match="invalid regular expression"):
        loads("netbench: 1\nsteps:\n  - expect: {regex: '(oops'}\n", str(tmp_path / "x.recipe.yaml"))
