"""The command line: parse arguments, then call into the package.

``main(argv, env) -> ExitStatus``. Only the chosen command's module is
imported, so ``netbench --version`` and ``netbench connect`` stay fast:
``--version`` and ``--help`` import nothing beyond this module and
:mod:`netbench.status` (no argparse, no typing; tests/test_startup.py
checks it). Parsing a command's words is :mod:`netbench.commands.parsing`,
which the REPL uses too.
"""

from __future__ import annotations

import sys

from netbench import __version__
from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~5 ms) at start-up
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

    from netbench.commands.parsing import ArgumentParser
    from netbench.environment import Environment


def __getattr__(name: str) -> Any:
    """``cli.ArgumentParser`` and ``cli.build_parser``, for code written before they moved."""
    if name == "ArgumentParser":
        from netbench.commands.parsing import ArgumentParser

        return ArgumentParser
    if name == "build_parser":
        return build_parser
    raise AttributeError(f"module 'netbench.cli' has no attribute {name!r}")


def _top_level_help() -> str:
    lines = [
        "usage: netbench [COMMAND] [ARGS...]",
        "",
        "A raw TCP/UDP client and protocol workbench. With no command, opens the REPL.",
        "",
        "commands:",
    ]
    from netbench.commands import COMMANDS

    for name, (_module, summary) in COMMANDS.items():
        lines.append(f"  {name:<10} {summary}")
    lines += [
        "",
        "options:",
        "  -h, --help     show this help ('netbench COMMAND --help' for a command)",
        "  -V, --version  print the version",
        "  --color WHEN   (every command) auto, always or never; honours NO_COLOR, FORCE_COLOR",
        "",
        "Exit status: 0 ok, 1 expectation failed, 2 usage, 3 refused, 4 timeout,",
        "5 reset/closed early, 6 protocol error, 7 TLS error, 70 internal error (a bug),",
        "130 interrupted (Ctrl-C), 143 terminated (SIGTERM).",
    ]
    return "\n".join(lines) + "\n"


def build_parser(command: str) -> ArgumentParser:
    """The argument parser of *command* (see :func:`netbench.commands.parsing.parser_for`)."""
    from netbench.commands.parsing import parser_for

    return parser_for(command)


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> ExitStatus:
    """Run netbench with *argv* (without the program name); return the exit status.

    Errors are caught here, once: a netbench error prints its one line and
    exits with its own status; Ctrl-C exits 130 and SIGTERM 143 (see
    :mod:`netbench.signals`); any other exception is a bug in netbench and
    exits 70 (EX_SOFTWARE) with one line, the traceback only with ``--debug``.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in ("-V", "--version"):
        from netbench.core.h11_build import describe  # looks h11 up on sys.path, never imports it

        print(f"netbench {__version__}\nHTTP: {describe()}")
        return ExitStatus.OK
    if args_list and args_list[0] in ("-h", "--help", "help"):
        sys.stdout.write(_top_level_help())
        return ExitStatus.OK

    from netbench.environment import Environment
    from netbench.errors import NetbenchError

    env = env or Environment()
    debug = "--debug" in args_list
    try:
        from netbench.commands.parsing import run_command

        if not args_list or args_list[0].startswith("-"):
            return run_command("repl", args_list, env)
        return run_command(args_list[0], args_list[1:], env)
    except NetbenchError as error:
        if debug:
            _print_traceback(env)
        env.error(str(error))
        return error.status
    except KeyboardInterrupt as error:
        from netbench.signals import interrupt_word
        from netbench.status import status_for

        env.error(interrupt_word(error))
        return status_for(error)
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `| head`): not an error.
        _silence_stdout()
        return ExitStatus.OK
    except Exception as error:  # a bug: one line unless --debug
        if debug:
            _print_traceback(env)
        env.error(
            f"internal error (a bug in netbench, please report it): {type(error).__name__}: {error}"
            + ("" if debug else " (--debug shows the traceback)")
        )
        return ExitStatus.INTERNAL


def _print_traceback(env: Environment) -> None:
    import traceback

    traceback.print_exc(file=env.stderr)


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
