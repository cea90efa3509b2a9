"""What the REPL's commands share: settings, variables, the printer, the sessions.

No prompt_toolkit here: the scripted REPL (stdin not a terminal) runs the
same commands with a :class:`PlainPrinter`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from netbench.net.dial import DEFAULT_CONNECT_TIMEOUT
from netbench.repl.view import Fragments, plain

if TYPE_CHECKING:
    from netbench.repl.sessions import Sessions

EOLS: dict[str, bytes] = {"crlf": b"\r\n", "lf": b"\n", "none": b""}


class Printer(Protocol):
    """Where the REPL's output goes (above the prompt, or plainly to a stream)."""

    def show(self, fragments: Fragments) -> None:
        """Print *fragments* (already terminal-safe)."""

    async def drain(self) -> None:
        """Wait until what was shown is on the terminal (pacing a fast peer)."""


class PlainPrinter:
    """Plain text to a stream (scripted use); errors go to *errors* when given."""

    def __init__(self, stream: TextIO, errors: TextIO | None = None) -> None:
        self.stream = stream
        self.errors = errors

    def show(self, fragments: Fragments) -> None:
        target = self.stream
        if self.errors is not None and fragments and fragments[0][0] == "class:error":
            target = self.errors
            self.stream.flush()
        target.write(plain(fragments))
        target.flush()

    async def drain(self) -> None:
        return None


@dataclass
class Settings:
    """Display and sending settings changed by /eol, /hex, /raw, /time."""

    eol: str = "crlf"
    hex_mode: bool = False
    raw: bool = False
    timestamps: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT  # the one default (net/dial.py)
    coalesce: bool = False  # keep the display at a person's pace (interactive use)
    endings: bool = True  # show how each received line ended (\r\n, \n)

    @property
    def line_ending(self) -> bytes:
        """The bytes added after a typed line."""
        return EOLS[self.eol]

    def stamp(self) -> str | None:
        """The wall-clock time for a timestamp, when timestamps are on."""
        if not self.timestamps:
            return None
        now = time.time()
        return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


@dataclass
class Repl:
    """The state one REPL run shares between its commands."""

    printer: Printer
    settings: Settings
    sessions: Sessions
    variables: dict[str, str] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)
    debug: bool = False
    scripted: bool = False
    labs: list[Any] = field(default_factory=list)
    quit: bool = False
    busy: str | None = None  # the line being run, for the toolbar

    def info(self, text: str) -> None:
        """A line of ours (safe text)."""
        self.printer.show([("class:note", text), ("", "\n")])

    def error(self, text: str) -> None:
        """An error line (safe text)."""
        self.printer.show([("class:error", text), ("", "\n")])
