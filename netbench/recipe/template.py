"""Templating: ``${NAME}``, ``${env:NAME}``, ``${secret:NAME}`` in recipe values.

``${NAME}`` comes from the recipe's ``vars``, ``--var`` and earlier
captures; ``${env:NAME}`` from the environment; ``${secret:NAME}`` from the
environment variable ``NETBENCH_SECRET_NAME``. ``$${`` is a literal ``${``.
Secret values are remembered by the :class:`Context` so every report can
show ``***`` in their place. Pure: the environment is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache

from netbench.errors import RecipeError

SECRET_PREFIX = "NETBENCH_SECRET_"
MASK = "***"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
"""What a variable's name may be (``vars``, ``capture``, ``--var``, ``--vars-file``)."""


@cache
def _placeholders() -> tuple[re.Pattern[bytes], re.Pattern[str]]:
    """The placeholder patterns (bytes, text), compiled on first use: values without a ``$``
    never need them, and so neither does the start-up of a replay."""
    return re.compile(rb"\$\$\{|\$\{([^}]*)\}"), re.compile(r"\$\$\{|\$\{([^}]*)\}")


class UndefinedVariable(RecipeError):
    """A ``${...}`` with no value; ``name`` is what was asked for."""

    def __init__(self, message: str, name: str, path: str = "", line: int | None = None) -> None:
        super().__init__(message, path, line)
        self.name = name


class Context:
    """Variables in force while a recipe runs, and the secrets seen so far.

    A plain class, not a dataclass: creating one costs every ``replay`` start-up time."""

    __slots__ = ("environ", "secrets", "variables")

    def __init__(
        self,
        variables: dict[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        secrets: set[str] | None = None,
    ) -> None:
        self.variables: dict[str, str] = {} if variables is None else variables
        self.environ: Mapping[str, str] = {} if environ is None else environ
        self.secrets: set[str] = set() if secrets is None else secrets

    def __repr__(self) -> str:
        return f"Context(variables={self.variables!r}, environ={self.environ!r}, secrets={self.secrets!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Context):
            return NotImplemented
        return (self.variables, self.environ, self.secrets) == (other.variables, other.environ, other.secrets)

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable, as the dataclass was

    def lookup(self, name: str) -> str:
        """The value of one placeholder body (``NAME``, ``env:NAME``, ``secret:NAME``)."""
        kind, sep, rest = name.partition(":")
        if sep and kind == "env":
            if rest not in self.environ:
                raise UndefinedVariable(f"environment variable {rest} is not set (for ${{{name}}})", name)
            return self.environ[rest]
        if sep and kind == "secret":
            variable = SECRET_PREFIX + rest
            if variable not in self.environ:
                raise UndefinedVariable(f"secret {rest} is not set (set {variable} in the environment)", name)
            value = self.environ[variable]
            if value:
                self.secrets.add(value)
            return value
        if sep:
            raise UndefinedVariable(
                f"unknown kind of variable ${{{name}}} (use NAME, env:NAME, secret:NAME)", name
            )
        if name not in self.variables:
            known = ", ".join(sorted(self.variables)) or "none"
            raise UndefinedVariable(f"undefined variable ${{{name}}} (defined: {known})", name)
        return self.variables[name]

    def expand(self, data: bytes) -> bytes:
        """*data* with every placeholder replaced (raises :class:`UndefinedVariable`)."""
        if b"$" not in data:
            return data

        def replace(match: re.Match[bytes]) -> bytes:
            if match.group(1) is None:
                return b"${"
            return self.lookup(match.group(1).decode("utf-8", "surrogateescape")).encode(
                "utf-8", "surrogateescape"
            )

        return _placeholders()[0].sub(replace, data)

    def expand_text(self, text: str) -> str:
        """Like :meth:`expand`, for text values (URLs, header values, patterns)."""
        if "$" not in text:
            return text

        def replace(match: re.Match[str]) -> str:
            if match.group(1) is None:
                return "${"
            return self.lookup(match.group(1))

        return _placeholders()[1].sub(replace, text)

    def mask(self, text: str) -> str:
        """*text* with every secret value seen so far replaced by ``***``."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def mask_bytes(self, data: bytes) -> bytes:
        """*data* with every secret value replaced by ``***``."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            raw = secret.encode("utf-8", "surrogateescape")
            if raw in data:
                data = data.replace(raw, MASK.encode())
        return data


def escape_template(data: bytes) -> bytes:
    """Make recorded bytes literal: every ``${`` becomes ``$${``."""
    return data.replace(b"${", b"$${")


def placeholders(data: bytes) -> list[str]:
    """The placeholder bodies used in *data* (``NAME``, ``secret:NAME``, ...)."""
    return [m.group(1).decode("utf-8", "replace") for m in _placeholders()[0].finditer(data) if m.group(1)]


def parse_vars(words: Iterable[str], option: str = "--var") -> dict[str, str]:
    """``NAME=VALUE`` words (from *option*) to a mapping; a bad one is a usage error."""
    from netbench.errors import UsageError

    out: dict[str, str] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if not sep or not NAME.match(name):
            raise UsageError(f"{option} {word!r}: expected NAME=VALUE")
        out[name] = value
    return out
