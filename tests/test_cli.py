"""The command-line entry point: version, help, usage errors (in a real subprocess)."""

from __future__ import annotations

import subprocess
import sys

import netbench


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netbench", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    first, second = result.stdout.splitlines()
    assert first == f"netbench {netbench.__version__}"
    assert second.startswith(("HTTP: h11 ", "HTTP: h11-mypyc "))  # which h11 the HTTP code runs on


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for name in ("repl", "connect", "listen", "http", "replay", "serve", "scan", "ports", "services", "lab"):
        assert f"  {name} " in result.stdout


def test_unknown_command_is_one_line_and_status_2() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "unknown command 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr
