"""Argument helpers shared by the REPL's commands: variables, words, on/off, headers."""

from __future__ import annotations

import re
import shlex

from netbench.errors import UsageError
from netbench.repl.context import Repl

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.:-]*)\}")


def expand(repl: Repl, text: str) -> str:
    """Replace ``${NAME}`` (set with /set) and ``${env:NAME}`` in *text*."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = repl.environ.get(name[4:]) if name.startswith("env:") else repl.variables.get(name)
        if found is None:
            raise UsageError(f"undefined variable ${{{name}}} (set it with /set {name} VALUE)")
        return found

    return _VARIABLE.sub(value, text)


def split(text: str) -> list[str]:
    """Shell-like words of a command's arguments, or a UsageError."""
    try:
        return shlex.split(text)
    except ValueError as error:
        raise UsageError(f"cannot split arguments: {error}") from None


def on_off(text: str, name: str) -> bool:
    """Parse ``on``/``off`` (also yes/no, true/false, 1/0)."""
    word = text.strip().lower()
    if word in ("on", "yes", "true", "1"):
        return True
    if word in ("off", "no", "false", "0"):
        return False
    raise UsageError(f"/{name} takes on or off")


_HEADER = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):(?:\s(.*))?$", re.DOTALL)


def headers_and_rest(words: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Split words into ``Name: value`` headers and the words before the first header.

    ``Accept: text/html`` (two words) and ``'Accept: text/html'`` (one) both
    give the header; words after a header name belong to its value.
    """
    headers: list[tuple[str, str]] = []
    before: list[str] = []
    for word in words:
        match = _HEADER.match(word)
        if match:
            headers.append((match.group(1), (match.group(2) or "").strip()))
        elif headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {word}".strip())
        else:
            before.append(word)
    return headers, before
