"""Parsing a command's words, for the command line and for the REPL alike.

:class:`ArgumentParser` reports a bad argument as one :class:`UsageError`
line (exit status 2), never argparse's usage block and ``SystemExit(2)``.
:func:`parser_for` builds the parser of one command (importing only that
command's module); :func:`run_command` parses words and runs the command
with an :class:`~netbench.environment.Environment`: it is how ``cli.main``
and the REPL's ``/ports``, ``/scan`` and ``/services`` call a command.
Errors are raised, not printed: the caller reports them (``cli.main`` as
one line and an exit status, the REPL under the prompt).
"""

from __future__ import annotations

import argparse

from netbench.commands import COMMANDS
from netbench.errors import UsageError
from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import IO, Any, NoReturn

    from netbench.environment import Environment

COLOR_CHOICES = ("auto", "always", "never")


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2.

    ``--help`` text goes to :attr:`out` when it is set (the REPL's output),
    else to stdout as usual. argparse makes a help formatter for every
    ``add_argument`` (to check the metavar); asking the terminal's width
    there would import :mod:`shutil` and with it bz2, lzma and zlib, ~5 ms of
    every command's start-up, so the check uses a fixed width.
    """

    out: IO[str] | None = None
    _checking = False

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("netbench").strip()
        raise UsageError(f"{command + ': ' if command else ''}{message} (see --help)")

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        self._checking = True  # argparse formats the new argument once, to check its metavar
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._checking = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        if self._checking:  # a check, never shown: no need to ask the terminal's width
            return self.formatter_class(prog=self.prog, width=80)  # type: ignore[call-arg]
        return super()._get_formatter()

    def _print_message(self, message: str, file: Any = None) -> None:
        if message and self.out is not None:
            self.out.write(message)
            return
        super()._print_message(message, file)


def parser_for(command: str) -> ArgumentParser:
    """The argument parser of *command* (importing only its module), with the shared options."""
    import importlib

    if command not in COMMANDS:
        raise UsageError(f"unknown command {command!r} (see 'netbench --help')")
    module_name, summary = COMMANDS[command]
    module = importlib.import_module(module_name)
    parser = ArgumentParser(prog=f"netbench {command}", description=summary)
    module.add_arguments(parser)
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="colour: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), always, never",
    )
    parser.set_defaults(_run=module.run)
    return parser


def pipeline_depth(value: str | None, operands: list[str], default: int) -> int | None:
    """The depth ``--pipeline [N]`` asks for (``http`` and ``replay``); None without the option.

    The option takes an optional N, so argparse hands it the first URL or
    recipe when no N is written (``--pipeline URL``): such a *value* goes
    back at the front of *operands* and the depth is *default*. N must be 1
    or more; 0 or a negative N is a :class:`UsageError`.
    """
    if value is None:
        return None
    if value.lstrip("-").isdigit():
        depth = int(value)
        if depth < 1:
            raise UsageError("--pipeline: N must be 1 or more")
        return depth
    operands.insert(0, value)
    return default


def run_command(command: str, words: Sequence[str], env: Environment) -> ExitStatus:
    """Run ``netbench COMMAND WORDS...`` with *env*; return its exit status.

    ``--help`` prints on ``env.stdout`` and returns 0. Errors propagate
    (:class:`~netbench.errors.NetbenchError` and anything else).
    """
    parser = parser_for(command)
    parser.out = env.stdout
    try:
        args = parser.parse_args(list(words))
    except SystemExit as stop:  # --help (argparse exits after printing it)
        return ExitStatus(stop.code or 0) if isinstance(stop.code, int | None) else ExitStatus.USAGE
    env.color_choice = args.color
    return ExitStatus(args._run(args, env))
