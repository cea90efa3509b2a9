"""One colour decision for every printer: --color, NO_COLOR, FORCE_COLOR, TERM=dumb, tty.

The rules are checked on netbench.style.wants_color, then through real
commands: ``replay``'s FAIL mark (stdout, in-process) and ``http``'s status
line (stderr, a subprocess against the lab's HTTP server).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench.cli import build_parser
from netbench.commands import COMMANDS
from netbench.lab import Lab, running
from netbench.style import RED, paint, wants_color
from tests.pipe_helpers import ENV
from tests.support.cli import run_main

ESC = "\x1b["


@pytest.mark.parametrize(
    ("choice", "environ", "tty", "expected"),
    [
        ("auto", {}, True, True),  # a terminal gets colour
        ("auto", {}, False, False),  # a pipe does not
        ("auto", {}, None, False),  # unknown: no
        ("auto", {"NO_COLOR": "1"}, True, False),  # no-color.org
        ("auto", {"NO_COLOR": ""}, True, True),  # ... only when not empty
        ("auto", {"FORCE_COLOR": "1"}, False, True),  # force-color.org, even into a pipe
        ("auto", {"FORCE_COLOR": ""}, False, False),  # ... only when not empty
        ("auto", {"FORCE_COLOR": "0"}, False, False),  # and 0 does not force
        ("auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),  # NO_COLOR wins, as in CPython
        ("auto", {"TERM": "dumb"}, True, False),
        ("auto", {"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
        ("always", {"NO_COLOR": "1", "TERM": "dumb"}, False, True),  # the option beats the environment
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_wants_color_rules(choice: str, environ: dict[str, str], tty: bool | None, expected: bool) -> None:
    assert wants_color(choice, environ, tty) is expected


def test_paint() -> None:
    assert paint("FAIL", RED) == "\x1b[31mFAIL\x1b[0m"
    assert paint("FAIL", RED, on=False) == "FAIL"
    assert paint("", RED) == ""


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_takes_color(command: str) -> None:
    parser = build_parser(command)
    assert "--color" in parser._option_string_actions
    action = parser._option_string_actions["--color"]
    assert list(action.choices or []) == ["auto", "always", "never"]


def test_a_bad_color_value_is_a_usage_error() -> None:
    status, _out, err = run_main(["services", "http", "--color=sometimes"])
    assert status == 2
    assert "invalid choice: 'sometimes'" in err


@pytest.fixture
def failing_recipe(tmp_path: Path) -> str:
    path = tmp_path / "wrong.recipe.yaml"
    path.write_text(
        'netbench: 1\nname: wrong\nlab: echo\nsteps:\n  - send: "ping\\n"\n  - expect: {line: pong}\n'
    )
    return str(path)


@pytest.mark.parametrize(
    ("argv", "environ", "tty", "painted"),
    [
        ([], {}, True, True),
        ([], {}, False, False),
        ([], {"NO_COLOR": "1"}, True, False),
        ([], {"FORCE_COLOR": "1"}, False, True),
        ([], {"TERM": "dumb"}, True, False),
        (["--color=never"], {}, True, False),
        (["--color=always"], {}, False, True),
        (["--color", "always"], {"NO_COLOR": "1"}, False, True),
    ],
)
def test_replay_fail_mark_follows_the_rules(
    failing_recipe: str, argv: list[str], environ: dict[str, str], tty: bool, painted: bool
) -> None:
    status, out, _err = run_main(["replay", "-q", *argv, failing_recipe], environ=environ, tty=tty)
    assert status == 1
    assert ("\x1b[31mFAIL\x1b[0m wrong" in out) is painted
    assert (ESC in out) is painted
    assert "FAIL wrong" in out.replace("\x1b[31m", "").replace("\x1b[0m", "")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("http") as servers:
        yield servers


@pytest.mark.parametrize(
    ("argv", "environ", "painted"),
    [
        ([], {}, False),  # stderr is not a terminal here
        ([], {"FORCE_COLOR": "1"}, True),
        (["--color=always"], {}, True),
        (["--color=never"], {"FORCE_COLOR": "1"}, False),
    ],
)
def test_http_head_on_stderr_follows_the_rules(
    lab: Lab, argv: list[str], environ: dict[str, str], painted: bool
) -> None:
    url = f"http://127.0.0.1:{lab['http'].port}/"
    clean = {k: v for k, v in ENV.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    result = subprocess.run(
        [sys.executable, "-m", "netbench", "http", *argv, url],
        capture_output=True,
        text=True,
        timeout=30,
        env={**clean, **environ},
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "HTTP/1.1 200" in result.stderr
    assert (ESC in result.stderr) is painted
    assert ESC not in result.stdout  # the body, byte for byte, is never painted
