"""Running one REPL line, and the general commands (/help, /set, /eol, /hex, ...).

:func:`run_line` is the single entry point used by both the prompt loop and
the scripted loop. A plain line is sent on the current session with the line
ending in force; ``//x`` sends ``/x``; ``/name args`` runs a command. Any
error in a command is reported as one line and the REPL goes on; with
``--debug`` the traceback is shown too.
"""

from __future__ import annotations

import re

from netbench.core.escape import escape_text as safe
from netbench.core.escape import scrub
from netbench.errors import NetbenchError, UsageError
from netbench.repl.args import expand, on_off
from netbench.repl.context import EOLS, Repl
from netbench.repl.registry import ALIASES, TABLE, command, find, unknown


def is_quit(line: str) -> bool:
    """True for a line that is /quit (or /exit, /q, a unique prefix)."""
    if not line.startswith("/") or line.startswith("//"):
        return False
    name, _, rest = line[1:].partition(" ")
    found = find(name)
    return found is not None and found.name == "quit" and not rest.strip()


async def run_line(repl: Repl, line: str) -> NetbenchError | None:
    """Run one line typed at the prompt (or read from a script).

    Errors are reported as one line, never raised; the NetbenchError is
    returned (None when the line went well) for callers that care.
    """
    try:
        if line.startswith("/") and not line.startswith("//"):
            name, _, rest = line[1:].partition(" ")
            found = find(name.removesuffix("!"))
            if found is None or (name.endswith("!") and found.name != "save"):
                raise UsageError(unknown(name))  # run_line makes it safe
            rest = rest.strip()
            if name.endswith("!"):  # /save! FILE: replace an existing file
                rest = f"--force {rest}"
            await found.handler(repl, rest)
        else:
            text = line[1:] if line.startswith("//") else line
            conv = repl.sessions.require_current()
            data = expand(repl, text).encode("utf-8", errors="surrogateescape") + repl.settings.line_ending
            await repl.sessions.send(conv, data, echo=True)  # as sent: -> PING\r\n
    except NetbenchError as error:
        repl.error(f"error: {scrub(str(error))}")
        return error
    except Exception as error:  # a bug in a command: report it and go on
        repl.error(
            f"internal error in this command: {type(error).__name__}: "
            f"{scrub(str(error))}" + ("" if repl.debug else " (run with --debug for the traceback)")
        )
        if repl.debug:
            import traceback

            repl.printer.show([("class:error", safe(traceback.format_exc(), one_line=False)), ("", "\n")])
    return None


@command(
    "help",
    "[COMMAND]",
    "list the commands, or explain one",
    """
A plain line is sent on the current session with the line ending in force
(CRLF unless changed with /eol); an empty line sends just the line ending.
A line starting with / is a command; start it with // to send a line that
begins with a slash. ${NAME} expands variables set with /set. A command may
be shortened to a unique prefix (/sess, /ra for /raw; /r is both /raw and /resp).
Keys: Tab completes, Up/Down walk the history, Ctrl-C clears the line,
Ctrl-D (on an empty line) or /quit leaves.
A fast peer: past 100 lines or 16 KiB a second on a session, what arrives is
counted on one status line instead of shown (/tail shows the last lines);
Ctrl-C on an empty line pauses a session's display. Each session keeps up to
16 MiB received for /tail and /save; past that, netbench stops reading it.
""",
)
async def _help(repl: Repl, rest: str) -> None:
    if rest:
        found = find(rest.lstrip("/"))
        if found is None:
            raise UsageError(unknown(rest.lstrip("/")))
        lines = [found.usage, f"  {found.summary}"]
        if found.details:
            lines += ["", *found.details.splitlines()]
        repl.info("\n".join(lines))
        return
    width = max(len(name) for name in TABLE) + 1
    lines = ["commands (/help COMMAND for its usage and examples):"]
    for cmd in sorted(TABLE.values(), key=lambda c: c.name):
        lines.append(f"  /{cmd.name:<{width}} {cmd.summary}")
    lines += ["", *TABLE["help"].details.splitlines()]
    repl.info("\n".join(lines))


@command("quit", "", "leave the REPL (also /exit, Ctrl-D)", "Closes every session and lab server first.")
async def _quit(repl: Repl, rest: str) -> None:
    repl.quit = True


@command(
    "eol",
    "[crlf|lf|none] [on|off]",
    "the line ending added to typed lines; on/off: show how received lines end",
    """
crlf (the default) suits HTTP, SMTP, Redis and most text protocols; lf suits
shells; none sends lines with nothing added. Typed lines are echoed as sent
(-> PING\\r\\n).
on (the default) ends each received line with a dim marker of its ending,
\\r\\n or \\n (none: the line had not ended when the data stopped); off hides
the markers. /raw on shows every byte exactly instead.
  /eol lf      send LF only
  /eol off     hide the markers
""",
    options=(*EOLS, "on", "off"),
)
async def _eol(repl: Repl, rest: str) -> None:
    words = rest.lower().split()
    if any(word not in (*EOLS, "on", "off") for word in words):
        raise UsageError("/eol takes crlf, lf or none, and on or off (the markers on received lines)")
    for word in words:
        if word in EOLS:
            repl.settings.eol = word
        else:
            repl.settings.endings = word == "on"
    markers = "shown" if repl.settings.endings else "hidden"
    repl.info(f"line ending: {repl.settings.eol} (endings of received lines: {markers})")


@command(
    "hex",
    "[on|off]",
    "show received data as a hexdump",
    "With /hex off, text is shown as text (controls escaped, e.g. \\x1b)\n"
    "and binary data as a hexdump anyway.",
    options=("on", "off"),
)
async def _hex(repl: Repl, rest: str) -> None:
    _switch(repl, rest, "hex", "hex_mode", "hex")


def _switch(repl: Repl, rest: str, name: str, setting: str, label: str) -> None:
    """The on/off commands: set the boolean ``repl.settings.<setting>`` from
    *rest* when given (``/NAME on|off``), then show ``LABEL: on|off``."""
    if rest:
        setattr(repl.settings, setting, on_off(rest, name))
    repl.info(f"{label}: {'on' if getattr(repl.settings, setting) else 'off'}")


@command(
    "raw",
    "[on|off]",
    "show exact bytes: every received line as it came, and an HTTP response's wire bytes",
    "With /raw on, received data is shown byte for byte with CR, LF and tabs as\n"
    "escapes (\\r\\n, \\t), for any protocol; a parsed HTTP response also shows\n"
    "its wire bytes, marked <~.",
    options=("on", "off"),
)
async def _raw(repl: Repl, rest: str) -> None:
    _switch(repl, rest, "raw", "raw", "raw")


@command("time", "[on|off]", "timestamp what is shown (wall clock, milliseconds)", options=("on", "off"))
async def _time(repl: Repl, rest: str) -> None:
    _switch(repl, rest, "time", "timestamps", "timestamps")


@command(
    "set",
    "NAME VALUE",
    "set a variable; ${NAME} expands in what is sent",
    "The value is the rest of the line, as typed. ${env:NAME} reads the environment instead.",
)
async def _set(repl: Repl, rest: str) -> None:
    name, _, value = rest.partition(" ")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
        raise UsageError("usage: /set NAME VALUE (NAME: letters, digits, _ . -)")
    repl.variables[name] = value.strip()
    repl.info(f"${{{name}}} = {safe(value.strip())}")


@command("unset", "NAME", "forget a variable")
async def _unset(repl: Repl, rest: str) -> None:
    if repl.variables.pop(rest, None) is None:
        raise UsageError(f"no variable {rest!r}")


@command("vars", "", "list the variables set with /set")
async def _vars(repl: Repl, rest: str) -> None:
    if not repl.variables:
        repl.info("no variables (/set NAME VALUE)")
        return
    repl.info("\n".join(f"  {name} = {safe(value)}" for name, value in repl.variables.items()))


# The other command modules register themselves on import.
from netbench.repl import commands_data, commands_proto, commands_session, commands_tools  # noqa: E402

__all__ = [
    "ALIASES",
    "TABLE",
    "commands_data",
    "commands_proto",
    "commands_session",
    "commands_tools",
    "run_line",
]
