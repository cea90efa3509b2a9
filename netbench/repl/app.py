"""The REPL loop: one long-lived PromptSession, or plain lines from a script.

Interactive (stdin is a terminal): ``prompt_async`` under ``patch_stdout``;
what arrives on any session prints above the prompt while the user types.
Ctrl-C clears the line (and interrupts a running command), Ctrl-D leaves.

Scripted (stdin is not a terminal): each line of stdin is run with the same
command table and output is printed plainly; at end of input the REPL waits
briefly for pending replies, then exits 0. If the TARGET (or --lab) given on
the command line cannot be reached, it exits at once with that error's status
(3 refused, 4 timeout, 7 TLS, ...).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from netbench.repl.commands import is_quit, run_line
from netbench.repl.commands_tools import close_labs
from netbench.repl.context import PlainPrinter, Printer, Repl, Settings
from netbench.repl.runner import CommandRunner
from netbench.repl.sessions import Sessions

if TYPE_CHECKING:
    from netbench.environment import Environment

STYLE_RULES = {
    "prompt": "bold ansicyan",
    "prompt.state": "ansired",
    "sent.marker": "ansiblue bold",
    "sent": "ansiblue",
    "received.marker": "ansigreen bold",
    "wire": "ansibrightblack",
    "wire.marker": "ansibrightblack",
    "eol": "ansibrightblack",
    "stamp": "ansibrightblack",
    "note": "ansibrightblack",
    "closed": "ansiyellow bold",
    "error": "ansired",
    "status.ok": "ansigreen bold",
    "status.redirect": "ansicyan bold",
    "status.client": "ansiyellow bold",
    "status.error": "ansired bold",
    "header.name": "bold",
    "body.hex": "",
    "toolbar": "",
    "toolbar.ok": "bg:ansigreen fg:ansiblack",
    "toolbar.warn": "bg:ansiyellow fg:ansiblack",
    "toolbar.bad": "bg:ansired fg:ansiwhite",
    "toolbar.dim": "",
    "input.command": "ansicyan bold",
    "input.unknown": "ansired",
    "input.argument": "",
    "input.variable": "ansimagenta",
    "input.header": "ansiblue",
}


@dataclass
class Options:
    """What ``netbench repl`` was asked for."""

    target: list[str] = field(default_factory=list)
    open_options: list[str] = field(default_factory=list)
    vi: bool = False
    lab: str | None = None
    debug: bool = False


def _terminal_printer() -> Printer:
    from netbench.repl.printer import TerminalPrinter

    return TerminalPrinter(STYLE_RULES)


def private_file(directory: Path, name: str) -> str:
    """Make *directory* (0700 when new) and *directory*/*name* readable by its owner only (0600).

    The history holds every token typed; an existing file made with looser
    permissions (netbench before 0.2 left it 0644) is tightened.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    return str(path)


def run(options: Options, env: Environment) -> int:
    """Run the REPL until /quit, Ctrl-D or end of input; return the exit status."""
    return asyncio.run(_main(options, env))


async def _main(options: Options, env: Environment) -> int:
    scripted = not env.stdin_isatty
    printer: Printer = PlainPrinter(env.stdout, env.stderr) if scripted else _terminal_printer()
    settings = Settings(coalesce=not scripted)
    repl = Repl(
        printer=printer,
        settings=settings,
        sessions=Sessions(printer, settings),
        environ=dict(env.environ),
        debug=options.debug,
        scripted=scripted,
    )
    try:
        if scripted:
            for line in _start_lines(options):
                failed = await run_line(repl, line)
                if failed is not None:  # no session to run the script on
                    return int(failed.status)
            await _scripted(repl, env)
        else:
            await _interactive(repl, options, env)
    finally:
        await repl.sessions.close_all()
        await close_labs(repl)
        try:  # the last lines (a flood's final count) reach the terminal before the loop ends
            await asyncio.wait_for(printer.drain(), 1.0)
        except TimeoutError:
            pass
    return 0


def _start_lines(options: Options) -> list[str]:
    """The lines that the command-line options stand for (--lab, TARGET)."""
    lines = []
    if options.lab:
        lines.append(f"/lab {options.lab}" + (" --no-open" if options.target else ""))
    if options.target:
        lines.append("/open " + shlex.join([*options.target, *options.open_options]))
    return lines


async def _scripted(repl: Repl, env: Environment) -> None:
    loop = asyncio.get_running_loop()
    while not repl.quit:
        line = await loop.run_in_executor(None, env.stdin.readline)
        if not line:
            break
        await run_line(repl, line.rstrip("\r\n") if line.endswith("\n") else line)
    if not repl.quit:
        from netbench.repl.waiting import settle

        await settle(repl.sessions.items)


async def _interactive(repl: Repl, options: Options, env: Environment) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    from netbench import __version__
    from netbench.repl.completion import ReplCompleter
    from netbench.repl.keys import build_key_bindings
    from netbench.repl.lexer import ReplLexer
    from netbench.repl.toolbar import prompt, toolbar

    history: History
    try:
        history = FileHistory(private_file(env.state_dir, "history"))
    except OSError as error:
        history = InMemoryHistory()
        repl.error(f"history not kept: cannot create {env.state_dir}: {error.strerror}")
    from netbench.repl.printer import TerminalPrinter, steady_input

    assert isinstance(repl.printer, TerminalPrinter)
    session: PromptSession[str] = PromptSession(
        message=lambda: prompt(repl),
        input=steady_input(),
        history=history,
        completer=ReplCompleter(repl),
        lexer=ReplLexer(),
        complete_while_typing=False,
        auto_suggest=AutoSuggestFromHistory(),
        bottom_toolbar=lambda: toolbar(repl),
        vi_mode=options.vi,
        style=repl.printer.style,
        refresh_interval=0.5,
        enable_open_in_editor=False,
    )
    loop = asyncio.get_running_loop()

    def on_quit() -> None:
        if session.app.is_running:
            session.app.exit(exception=EOFError())

    runner = CommandRunner(repl, on_quit)

    def interrupt() -> bool:
        """Ctrl-C on an empty line: pause the display of incoming data, else stop the command."""
        paused = repl.sessions.pause_active()
        for conv in paused:
            repl.info(
                f"[{conv.number}] display paused: what arrives is kept, not shown "
                "(a send resumes; Ctrl-C again stops a command)"
            )
        return bool(paused) or runner.interrupt()

    session.key_bindings = build_key_bindings(interrupt)
    try:  # `kill -INT`: as Ctrl-C does
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):
        pass
    worker = loop.create_task(runner.run_forever())
    with patch_stdout(raw=False):
        repl.info(f"netbench {__version__}: /help for commands, Tab completes, Ctrl-D quits")
        for line in _start_lines(options):
            runner.submit(line)
        while not repl.quit:
            try:
                line = await session.prompt_async(handle_sigint=False)
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            parts = [part.removesuffix("\r") for part in line.split("\n")]  # a pasted block: line by line
            if any(is_quit(part) for part in parts):  # /quit does not wait behind a running command
                runner.interrupt()
                break
            for part in parts:
                runner.submit(part)
        worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            pass
    sys.stdout.flush()
