"""The command line: parse arguments, then call into the package.

``main(argv, env) -> ExitStatus``. Only the chosen command's module is
imported, so ``netbench --version`` and ``netbench connect`` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from netbench import __version__
from netbench.commands import COMMANDS
from netbench.errors import NetbenchError, UsageError
from netbench.status import ExitStatus, status_for

if TYPE_CHECKING:
    from netbench.environment import Environment


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("netbench").strip()
        raise UsageError(f"{command + ': ' if command else ''}{message} (see --help)")


def _top_level_help() -> str:
    lines = [
        "usage: netbench [COMMAND] [ARGS...]",
        "",
        "A raw TCP/UDP client and protocol workbench. With no command, opens the REPL.",
        "",
        "commands:",
    ]
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
    """Build the argument parser of one subcommand (importing only its module)."""
    module_name, summary = COMMANDS[command]
    module = importlib.import_module(module_name)
    parser = ArgumentParser(prog=f"netbench {command}", description=summary)
    module.add_arguments(parser)
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), always, never",
    )
    parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> ExitStatus:
    """Run netbench with *argv* (without the program name); return the exit status.

    Errors are caught here, once: a netbench error prints its one line and
    exits with its own status; Ctrl-C exits 130 and SIGTERM 143 (see
    :mod:`netbench.signals`); any other exception is a bug in netbench and
    exits 70 (EX_SOFTWARE) with one line, the traceback only with ``--debug``.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in ("-V", "--version"):
        print(f"netbench {__version__}")
        return ExitStatus.OK
    if args_list and args_list[0] in ("-h", "--help", "help"):
        sys.stdout.write(_top_level_help())
        return ExitStatus.OK

    from netbench.environment import Environment

    env = env or Environment()
    debug = "--debug" in args_list
    try:
        if not args_list or args_list[0].startswith("-"):
            command, rest = "repl", args_list
        else:
            command, rest = args_list[0], args_list[1:]
        if command not in COMMANDS:
            raise UsageError(f"unknown command {command!r} (see 'netbench --help')")
        parser = build_parser(command)
        args = parser.parse_args(rest)
        env.color_choice = args.color
        return ExitStatus(args._run(args, env))
    except NetbenchError as error:
        if debug:
            _print_traceback(env)
        env.error(str(error))
        return error.status
    except KeyboardInterrupt as error:
        from netbench.signals import interrupt_word

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
