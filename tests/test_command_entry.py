"""commands.parsing.run_command: the one way to call a command with words, for cli.main and the REPL.

The REPL's /ports, /scan and /services call it directly (in a worker
thread), not through cli.main; nothing under netbench/repl imports
netbench.cli.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest

import netbench
from netbench.commands.parsing import ArgumentParser, run_command
from netbench.environment import Environment
from netbench.errors import UsageError
from netbench.status import ExitStatus
from tests.support.cli import run_main


def _env() -> Environment:
    return Environment(
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        stdin_isatty=False,
        stdout_isatty=False,
        stderr_isatty=False,
        environ={},
    )


def test_run_command_runs_and_returns_an_exit_status() -> None:
    env = _env()
    status = run_command("services", ["http"], env)
    assert status is ExitStatus.OK
    assert "80/tcp" in env.stdout.getvalue()  # type: ignore[attr-defined]


def test_help_goes_to_the_environment_and_does_not_exit() -> None:
    env = _env()
    assert run_command("scan", ["--help"], env) == 0
    assert "usage: netbench scan" in env.stdout.getvalue()  # type: ignore[attr-defined]


def test_errors_are_raised_for_the_caller_to_report() -> None:
    with pytest.raises(UsageError, match="unknown command 'nope'"):
        run_command("nope", [], _env())
    with pytest.raises(UsageError, match="unrecognized arguments: --frob"):
        run_command("ports", ["--frob"], _env())


def test_the_repl_runs_tools_without_the_cli_module() -> None:
    status, out, err = run_main(["repl"], stdin="/services 6379\n/scan --help\n/ports --frob\n")
    assert "6379/tcp" in out
    assert "usage: netbench scan" in out
    assert "unrecognized arguments: --frob" in err + out
    assert status != 70, err


def test_nothing_in_the_repl_imports_the_cli_module() -> None:
    repl_dir = Path(netbench.__file__).parent / "repl"
    offenders = []
    for path in sorted(repl_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "netbench.cli":
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Import) and any(a.name == "netbench.cli" for a in node.names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_checking_arguments_does_not_ask_the_terminal_width() -> None:
    """add_argument() makes a help formatter; only showing help may import shutil for the width."""
    import subprocess
    import sys

    from tests.pipe_helpers import ENV

    probe = (
        "import sys\n"
        "from netbench.commands.parsing import parser_for\n"
        "parser_for('connect').parse_args(['127.0.0.1', '80'])\n"
        "print('shutil' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=30, env=ENV
    )
    assert result.stdout.strip() == "False", result.stderr


def test_the_old_cli_names_still_work() -> None:
    import netbench.cli as cli

    assert cli.ArgumentParser is ArgumentParser
    assert cli.build_parser("services").prog == "netbench services"
