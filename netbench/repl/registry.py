"""The REPL's command table: a name, a usage line, help text, a handler.

Command modules register with :func:`command`; the dispatcher in
:mod:`netbench.repl.commands` looks names up in :data:`TABLE`. Handlers get
the REPL state and the rest of the line exactly as typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from netbench.repl.context import Repl

Handler = Callable[[Repl, str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    """One slash command."""

    name: str
    args: str
    summary: str
    details: str
    handler: Handler
    options: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        """``/name ARGS``."""
        return f"/{self.name} {self.args}".rstrip()


TABLE: dict[str, Command] = {}
ALIASES: dict[str, str] = {"exit": "quit", "q": "quit", "?": "help"}


def command(
    name: str, args: str, summary: str, details: str = "", options: tuple[str, ...] = ()
) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the handler of ``/name``."""

    def register(handler: Handler) -> Handler:
        TABLE[name] = Command(name, args, summary, details.strip(), handler, options)
        return handler

    return register


def find(name: str) -> Command | None:
    """The command called *name*, an alias, or a unique prefix of one (any case)."""
    name = name.lower()
    name = ALIASES.get(name, name)
    if name in TABLE:
        return TABLE[name]
    matches = [c for n, c in TABLE.items() if n.startswith(name)] if name else []
    return matches[0] if len(matches) == 1 else None


def unknown(name: str) -> str:
    """The message for a command *name* :func:`find` did not find: the candidates, or the nearest."""
    low = name.lower()
    prefixed = sorted(n for n in TABLE if n.startswith(low)) if low else []
    if len(prefixed) > 1:
        return f"ambiguous command /{name}: " + ", ".join(f"/{n}" for n in prefixed)
    import difflib

    near = difflib.get_close_matches(low, [*TABLE, *ALIASES], n=3, cutoff=0.6)
    near = list(dict.fromkeys(ALIASES.get(n, n) for n in near))
    if near:
        return f"unknown command /{name}: did you mean " + " or ".join(f"/{n}" for n in near) + "?"
    return f"unknown command /{name} (see /help)"
