"""A command with a bug in it, to check how ``cli.main`` reports bugs.

Registered under the name ``buggy`` by the tests that need it (in-process
with ``monkeypatch.setitem(COMMANDS, ...)``, or in a subprocess through
:data:`SUBPROCESS`). ``buggy`` divides by zero; ``buggy --escape`` raises an
error whose text holds a terminal escape sequence.
"""

from __future__ import annotations

import argparse

from netbench.environment import Environment

ENTRY = ("tests.support.buggy_command", "a command with a bug (tests only)")

SUBPROCESS = (
    "import sys\n"
    "from netbench.cli import run\n"
    "from netbench.commands import COMMANDS\n"
    "from tests.support.buggy_command import ENTRY\n"
    "COMMANDS['buggy'] = ENTRY\n"
    "run()\n"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--escape", action="store_true", help="put an escape sequence in the error")


def run(args: argparse.Namespace, env: Environment) -> int:
    if args.escape:
        raise RuntimeError("\x1b[2Jscreen cleared")
    return 1 // 0
