"""Exit statuses a CI job can tell apart: a bug is 70, never 1 (a failed expectation).

The bug comes from a real command module with a bug in it
(tests/support/buggy_command.py), run in-process and as a subprocess.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from netbench.commands import COMMANDS
from netbench.status import ExitStatus, status_for
from tests.pipe_helpers import ENV, ROOT
from tests.support.buggy_command import ENTRY, SUBPROCESS
from tests.support.cli import run_main


@pytest.fixture
def buggy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(COMMANDS, "buggy", ENTRY)


def test_a_bug_exits_70_with_one_line(buggy: None) -> None:
    status, out, err = run_main(["buggy"])
    assert status == ExitStatus.INTERNAL == 70
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("netbench: internal error (a bug in netbench")
    assert "ZeroDivisionError: integer division or modulo by zero" in err
    assert "--debug" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback_and_still_exits_70(buggy: None) -> None:
    status, _out, err = run_main(["buggy", "--debug"])
    assert status == 70
    assert "Traceback (most recent call last)" in err
    assert "return 1 // 0" in err
    assert err.rstrip().splitlines()[-1].startswith("netbench: internal error")


def test_the_bug_message_is_made_terminal_safe(buggy: None) -> None:
    status, _out, err = run_main(["buggy", "--escape"])
    assert status == 70
    assert "\x1b" not in err
    assert "screen cleared" in err


def test_a_bug_in_a_subprocess_exits_70() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SUBPROCESS, "buggy"],
        capture_output=True,
        text=True,
        timeout=30,
        env=ENV,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 70, result.stderr
    assert result.stderr.count("\n") == 1
    assert "internal error" in result.stderr and "ZeroDivisionError" in result.stderr


def test_a_failed_expectation_is_still_1(tmp_path: object) -> None:
    """The status a bug used to share: a recipe whose check fails (against the lab)."""
    from pathlib import Path

    recipe = Path(str(tmp_path)) / "wrong.recipe.yaml"
    recipe.write_text(
        "netbench: 1\nname: wrong\nlab: echo\nsteps:\n"
        '  - send: "ping\\n"\n  - expect: {line: pong}\n    timeout: 2\n'
    )
    status, _out, err = run_main(["replay", str(recipe)])
    assert status == ExitStatus.EXPECTATION_FAILED == 1, err
    assert "internal error" not in err


def test_status_for_maps_the_unexpected_to_70() -> None:
    from netbench.errors import Refused
    from netbench.signals import Terminated

    assert status_for(ZeroDivisionError()) == 70
    assert status_for(Refused("refused")) == 3
    assert status_for(KeyboardInterrupt()) == 130
    assert status_for(Terminated()) == 143


def test_top_level_help_lists_70_and_143(capsys: pytest.CaptureFixture[str]) -> None:
    run_main(["--help"])
    out = capsys.readouterr().out
    assert "70 internal error" in out
    assert "143 terminated" in out


def test_a_protocol_error_in_what_we_were_asked_to_send_is_a_usage_error() -> None:
    from netbench.errors import ProtocolError

    assert ProtocolError("malformed response from the peer").status == 6
    assert ProtocolError("a RESP command needs at least a name", remote=False).status == 2
    assert ProtocolError("x").status == 6  # the class default is untouched by an instance


@pytest.mark.parametrize("command", ["connect", "listen", "scan", "ports", "services", "replay"])
def test_commands_return_exit_status_members(command: str) -> None:
    """Each command's run() is annotated to return ExitStatus, not a bare int."""
    import importlib
    import inspect

    module = importlib.import_module(COMMANDS[command][0])
    assert inspect.signature(module.run).return_annotation == "ExitStatus"
