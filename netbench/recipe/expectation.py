"""What a step waits for and checks: :class:`Expect`, with :class:`TextMatch` and :class:`ValueCheck`.

Part of the recipe model (:mod:`netbench.recipe.model`, which re-exports
these): frozen value classes, no I/O. Byte values are templates
(``${NAME}`` expanded when the recipe runs).
"""

from __future__ import annotations

from typing import Any, Literal

from netbench.core.escape import quote
from netbench.core.frozen import Frozen

MatchKind = Literal["exact", "contains", "regex"]
VALUE_OPS = ("equal", "length", "regex", "contains", "exists", "type", "lt", "le", "gt", "ge", "ne")
VALUE_TYPES = ("string", "number", "integer", "boolean", "null", "array", "object")
_set = object.__setattr__  # how __init__ sets a field of a frozen object


class TextMatch(Frozen):
    """A check on a header value or an HTTP body: equal to, containing, or matching ``value``."""

    __slots__ = __match_args__ = ("kind", "value")
    kind: MatchKind
    value: str

    def __init__(self, kind: MatchKind, value: str) -> None:
        _set(self, "kind", kind)
        _set(self, "value", value)

    def describe(self) -> str:
        """``contains 'hello'`` and the like, for reports."""
        return f"{'equal to' if self.kind == 'exact' else self.kind} {quote(self.value, 200)}"


class ValueCheck(Frozen):
    """Checks on one value: a JSON path in the body (``$.a.b[0]``) or a cookie's name.

    ``checks`` are ``(op, value)`` pairs that must all hold, ops from
    :data:`VALUE_OPS`: ``equal`` (type-aware: ``7 != "7"``, ``1 != true``),
    ``length``, ``regex``, ``contains`` (list membership or substring),
    ``exists`` (true/false), ``type`` (one of :data:`VALUE_TYPES`), ``lt``
    ``le`` ``gt`` ``ge`` (numbers), ``ne``. Values are plain JSON data;
    text in them may hold ``${...}`` placeholders.
    """

    __slots__ = __match_args__ = ("path", "checks")
    path: str
    checks: tuple[tuple[str, Any], ...]

    def __init__(self, path: str, checks: tuple[tuple[str, Any], ...]) -> None:
        _set(self, "path", path)
        _set(self, "checks", checks)


class Expect(Frozen):
    """What a step waits for and checks.

    At most one raw check (``exact``, ``contains``, ``regex``, ``line``,
    ``count``) applies to the bytes as they arrive; ``status``/``headers``/
    ``body`` parse what arrives as an HTTP response instead; ``closed``
    then waits for the peer to close its side.
    """

    __slots__ = __match_args__ = (
        "exact",
        "contains",
        "regex",
        "line",
        "count",
        "closed",
        "status",
        "headers",
        "body",
        "json",
        "cookies",
        "time_max",
    )
    exact: bytes | None
    contains: bytes | None
    regex: str | None
    line: bytes | None
    count: int | None
    closed: bool
    status: int | None
    headers: tuple[tuple[str, TextMatch], ...]
    body: TextMatch | None
    json: tuple[ValueCheck, ...]
    cookies: tuple[ValueCheck, ...]
    time_max: float | None

    def __init__(
        self,
        exact: bytes | None = None,
        contains: bytes | None = None,
        regex: str | None = None,
        line: bytes | None = None,
        count: int | None = None,
        closed: bool = False,
        status: int | None = None,
        headers: tuple[tuple[str, TextMatch], ...] = (),
        body: TextMatch | None = None,
        json: tuple[ValueCheck, ...] = (),
        cookies: tuple[ValueCheck, ...] = (),
        time_max: float | None = None,
    ) -> None:
        _set(self, "exact", exact)
        _set(self, "contains", contains)
        _set(self, "regex", regex)
        _set(self, "line", line)
        _set(self, "count", count)
        _set(self, "closed", closed)
        _set(self, "status", status)
        _set(self, "headers", headers)
        _set(self, "body", body)
        _set(self, "json", json)
        _set(self, "cookies", cookies)
        _set(self, "time_max", time_max)

    @property
    def is_http(self) -> bool:
        """True when the answer is to be parsed as an HTTP response."""
        return (
            self.status is not None
            or bool(self.headers)
            or self.body is not None
            or bool(self.json)
            or bool(self.cookies)
        )

    @property
    def raw_kind(self) -> str | None:
        """The raw check in force: exact, contains, regex, line, bytes, or None."""
        for name in ("exact", "contains", "regex", "line", "count"):
            if getattr(self, name) is not None:
                return "bytes" if name == "count" else name
        return None
