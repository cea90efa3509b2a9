"""The recipe model (format version 1): small frozen dataclasses, no I/O.

A recipe is a target, variables and a list of steps. Byte values (what is
sent, what is expected, the recorded reply) are kept as ``bytes`` holding a
*template*: ``${NAME}``, ``${env:NAME}`` and ``${secret:NAME}`` are expanded
when the recipe runs, ``$${`` stands for a literal ``${``. Whether a value is
written as YAML text or as hex is a matter of the file, not of the model:
``send``/``send_hex``, ``exact``/``hex`` and ``reply``/``reply_hex`` load into
the same fields.

Line numbers (``line``) are kept for reports but take no part in equality,
so ``load(dump(recipe)) == recipe`` for every recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from netbench.core.escape import quote

FORMAT_VERSION = 1
DEFAULT_TIMEOUT = 5.0

MatchKind = Literal["exact", "contains", "regex"]
CaptureKind = Literal["header", "regex", "json", "status", "body", "cookie"]
CloseMode = Literal["write", "both"]
VALUE_OPS = ("equal", "length", "regex", "contains", "exists", "type", "lt", "le", "gt", "ge", "ne")
VALUE_TYPES = ("string", "number", "integer", "boolean", "null", "array", "object")


@dataclass(frozen=True)
class TextMatch:
    """A check on a header value or an HTTP body: equal to, containing, or matching ``value``."""

    kind: MatchKind
    value: str

    def describe(self) -> str:
        """``contains 'hello'`` and the like, for reports."""
        return f"{'equal to' if self.kind == 'exact' else self.kind} {quote(self.value, 200)}"


@dataclass(frozen=True)
class ValueCheck:
    """Checks on one value: a JSON path in the body (``$.a.b[0]``) or a cookie's name.

    ``checks`` are ``(op, value)`` pairs that must all hold, ops from
    :data:`VALUE_OPS`: ``equal`` (type-aware: ``7 != "7"``, ``1 != true``),
    ``length``, ``regex``, ``contains`` (list membership or substring),
    ``exists`` (true/false), ``type`` (one of :data:`VALUE_TYPES`), ``lt``
    ``le`` ``gt`` ``ge`` (numbers), ``ne``. Values are plain JSON data;
    text in them may hold ``${...}`` placeholders.
    """

    path: str
    checks: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Expect:
    """What a step waits for and checks.

    At most one raw check (``exact``, ``contains``, ``regex``, ``line``,
    ``count``) applies to the bytes as they arrive; ``status``/``headers``/
    ``body`` parse what arrives as an HTTP response instead; ``closed``
    then waits for the peer to close its side.
    """

    exact: bytes | None = None
    contains: bytes | None = None
    regex: str | None = None
    line: bytes | None = None
    count: int | None = None
    closed: bool = False
    status: int | None = None
    headers: tuple[tuple[str, TextMatch], ...] = ()
    body: TextMatch | None = None
    json: tuple[ValueCheck, ...] = ()
    cookies: tuple[ValueCheck, ...] = ()
    time_max: float | None = None

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


@dataclass(frozen=True)
class Capture:
    """Where a variable's value comes from in a step's answer.

    ``header``: ``arg`` names the header; ``regex``: ``arg`` is the pattern
    and ``group`` the group (number or name, default 1, or 0 with no
    groups); ``json``: ``arg`` is a path such as ``items.0.id`` in the
    HTTP body; ``cookie``: ``arg`` names a cookie (from the recipe's jar,
    or the answer's Set-Cookie when the jar is off); ``status`` and
    ``body`` take no argument.
    """

    name: str
    kind: CaptureKind
    arg: str = ""
    group: int | str = 1


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP/1.1 request built by :func:`netbench.core.http.build_request`."""

    method: str = "GET"
    url: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


@dataclass(frozen=True)
class Retry:
    """Run a step up to ``times`` attempts in all, ``interval`` seconds apart, until its expect holds."""

    times: int
    interval: float = 1.0


@dataclass(frozen=True)
class Include:
    """Another recipe's steps, run in place of this step (same connection, same variables).

    ``path`` is as written (relative to the including file); ``recipe`` is
    the included recipe, loaded (its ``target`` and ``lab`` are ignored).
    """

    path: str
    recipe: Recipe

    @property
    def size(self) -> int:
        """How many steps the include runs in all (nested includes counted by their steps)."""
        return self.recipe.size

    @property
    def label(self) -> str:
        """How the included file is named in reports: its file name."""
        from pathlib import PurePath

        return PurePath(self.path).name


@dataclass(frozen=True)
class Step:
    """One step: at most one action, then an optional expectation and captures.

    Actions: ``send`` (bytes), ``http`` (a request), ``close`` (``write`` =
    half-close, ``both``), ``sleep`` (seconds). A step may also have no
    action and only ``expect`` (waiting for a banner, say). ``reply`` is
    what the server answered when the recipe was recorded; ``serve`` plays it.
    """

    send: bytes | None = None
    http: HttpRequest | None = None
    close: CloseMode | None = None
    sleep: float | None = None
    expect: Expect | None = None
    capture: tuple[Capture, ...] = ()
    timeout: float | None = None
    reply: bytes | None = None
    name: str | None = None
    retry: Retry | None = None
    include: Include | None = None
    line: int = field(default=0, compare=False)

    @property
    def action(self) -> str:
        """The step's action keyword, or ``expect`` for an expect-only step."""
        if self.send is not None:
            return "send"
        if self.http is not None:
            return "http"
        if self.close is not None:
            return "close"
        if self.sleep is not None:
            return "sleep"
        if self.include is not None:
            return "include"
        return "expect"


@dataclass(frozen=True)
class TlsSpec:
    """TLS settings of a recipe whose target is ``tls://``."""

    insecure: bool = False
    sni: str | None = None
    cafile: str | None = None


@dataclass(frozen=True)
class Recipe:
    """A whole recipe file. ``path`` (where it was loaded from) is not compared."""

    name: str
    steps: tuple[Step, ...]
    target: str | None = None
    lab: str | None = None
    vars: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    tls: TlsSpec | None = None
    description: str | None = None
    cookies: bool = True
    version: int = FORMAT_VERSION
    path: str = field(default="", compare=False)

    @property
    def where(self) -> str:
        """The file name used in messages (``<recipe>`` when not from a file)."""
        return self.path or "<recipe>"

    @property
    def size(self) -> int:
        """How many steps a run goes through, included steps counted one by one."""
        return sum(1 if step.include is None else step.include.size for step in self.steps)

    @property
    def all_vars(self) -> tuple[tuple[str, str], ...]:
        """The variables in force at the start: included recipes' ``vars`` as defaults, then ours.

        An included recipe's variable is left out when this recipe (or an
        earlier include) defines the same name: the includer overrides.
        """
        own = dict(self.vars)
        out: list[tuple[str, str]] = []
        seen = set(own)
        for step in self.steps:
            if step.include is not None:
                for name, value in step.include.recipe.all_vars:
                    if name not in seen:
                        seen.add(name)
                        out.append((name, value))
        return tuple(out) + self.vars
