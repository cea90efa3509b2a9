"""The recipe model (format version 1): small frozen value classes, no I/O.

A recipe is a target, variables and a list of steps. Byte values (what is
sent, what is expected, the recorded reply) are kept as ``bytes`` holding a
*template*: ``${NAME}``, ``${env:NAME}`` and ``${secret:NAME}`` are expanded
when the recipe runs, ``$${`` stands for a literal ``${``. Whether a value is
written as YAML text or as hex is a matter of the file, not of the model:
``send``/``send_hex``, ``exact``/``hex`` and ``reply``/``reply_hex`` load into
the same fields.

Line numbers (``line``) are kept for reports but take no part in equality,
so ``load(dump(recipe)) == recipe`` for every recipe.

The classes are :class:`~netbench.core.frozen.Frozen` (immutable, compared
and hashed by their fields, ``replace(**changes)``), not frozen dataclasses:
creating a dataclass costs a millisecond or two of start-up, and the model
is imported by every ``replay``.
"""

from __future__ import annotations

from typing import Literal

from netbench.core.frozen import Frozen
from netbench.recipe.expectation import VALUE_OPS, VALUE_TYPES, Expect, MatchKind, TextMatch, ValueCheck

__all__ = [
    "DEFAULT_TIMEOUT",
    "FORMAT_VERSION",
    "VALUE_OPS",
    "VALUE_TYPES",
    "Capture",
    "CaptureKind",
    "CloseMode",
    "Expect",
    "HttpRequest",
    "Include",
    "MatchKind",
    "Recipe",
    "Retry",
    "Step",
    "TextMatch",
    "TlsSpec",
    "ValueCheck",
]

FORMAT_VERSION = 1
DEFAULT_TIMEOUT = 5.0

CaptureKind = Literal["header", "regex", "json", "status", "body", "cookie"]
CloseMode = Literal["write", "both"]
_set = object.__setattr__  # how __init__ sets a field of a frozen object


class Capture(Frozen):
    """Where a variable's value comes from in a step's answer.

    ``header``: ``arg`` names the header; ``regex``: ``arg`` is the pattern
    and ``group`` the group (number or name, default 1, or 0 with no
    groups); ``json``: ``arg`` is a path such as ``items.0.id`` in the
    HTTP body; ``cookie``: ``arg`` names a cookie (from the recipe's jar,
    or the answer's Set-Cookie when the jar is off); ``status`` and
    ``body`` take no argument.
    """

    __slots__ = __match_args__ = ("name", "kind", "arg", "group")
    name: str
    kind: CaptureKind
    arg: str
    group: int | str

    def __init__(self, name: str, kind: CaptureKind, arg: str = "", group: int | str = 1) -> None:
        _set(self, "name", name)
        _set(self, "kind", kind)
        _set(self, "arg", arg)
        _set(self, "group", group)


class HttpRequest(Frozen):
    """An HTTP/1.1 request built by :func:`netbench.core.http.build_request`."""

    __slots__ = __match_args__ = ("method", "url", "headers", "body")
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def __init__(
        self,
        method: str = "GET",
        url: str = "/",
        headers: tuple[tuple[str, str], ...] = (),
        body: bytes | None = None,
    ) -> None:
        _set(self, "method", method)
        _set(self, "url", url)
        _set(self, "headers", headers)
        _set(self, "body", body)


class Retry(Frozen):
    """Run a step up to ``times`` attempts in all, ``interval`` seconds apart, until its expect holds."""

    __slots__ = __match_args__ = ("times", "interval")
    times: int
    interval: float

    def __init__(self, times: int, interval: float = 1.0) -> None:
        _set(self, "times", times)
        _set(self, "interval", interval)


class Include(Frozen):
    """Another recipe's steps, run in place of this step (same connection, same variables).

    ``path`` is as written (relative to the including file); ``recipe`` is
    the included recipe, loaded (its ``target`` and ``lab`` are ignored).
    """

    __slots__ = __match_args__ = ("path", "recipe")
    path: str
    recipe: Recipe

    def __init__(self, path: str, recipe: Recipe) -> None:
        _set(self, "path", path)
        _set(self, "recipe", recipe)

    @property
    def size(self) -> int:
        """How many steps the include runs in all (nested includes counted by their steps)."""
        return self.recipe.size

    @property
    def label(self) -> str:
        """How the included file is named in reports: its file name."""
        from pathlib import PurePath

        return PurePath(self.path).name


class Step(Frozen):
    """One step: at most one action, then an optional expectation and captures.

    Actions: ``send`` (bytes), ``http`` (a request), ``close`` (``write`` =
    half-close, ``both``), ``sleep`` (seconds). A step may also have no
    action and only ``expect`` (waiting for a banner, say). ``reply`` is
    what the server answered when the recipe was recorded; ``serve`` plays it.
    """

    __slots__ = __match_args__ = (
        "send",
        "http",
        "close",
        "sleep",
        "expect",
        "capture",
        "timeout",
        "reply",
        "name",
        "retry",
        "include",
        "line",
    )
    _uncompared = ("line",)
    send: bytes | None
    http: HttpRequest | None
    close: CloseMode | None
    sleep: float | None
    expect: Expect | None
    capture: tuple[Capture, ...]
    timeout: float | None
    reply: bytes | None
    name: str | None
    retry: Retry | None
    include: Include | None
    line: int

    def __init__(
        self,
        send: bytes | None = None,
        http: HttpRequest | None = None,
        close: CloseMode | None = None,
        sleep: float | None = None,
        expect: Expect | None = None,
        capture: tuple[Capture, ...] = (),
        timeout: float | None = None,
        reply: bytes | None = None,
        name: str | None = None,
        retry: Retry | None = None,
        include: Include | None = None,
        line: int = 0,
    ) -> None:
        _set(self, "send", send)
        _set(self, "http", http)
        _set(self, "close", close)
        _set(self, "sleep", sleep)
        _set(self, "expect", expect)
        _set(self, "capture", capture)
        _set(self, "timeout", timeout)
        _set(self, "reply", reply)
        _set(self, "name", name)
        _set(self, "retry", retry)
        _set(self, "include", include)
        _set(self, "line", line)

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


class TlsSpec(Frozen):
    """TLS settings of a recipe whose target is ``tls://``."""

    __slots__ = __match_args__ = ("insecure", "sni", "cafile")
    insecure: bool
    sni: str | None
    cafile: str | None

    def __init__(self, insecure: bool = False, sni: str | None = None, cafile: str | None = None) -> None:
        _set(self, "insecure", insecure)
        _set(self, "sni", sni)
        _set(self, "cafile", cafile)


class Recipe(Frozen):
    """A whole recipe file. ``path`` (where it was loaded from) is not compared."""

    __slots__ = __match_args__ = (
        "name",
        "steps",
        "target",
        "lab",
        "vars",
        "timeout",
        "tls",
        "description",
        "cookies",
        "version",
        "path",
    )
    _uncompared = ("path",)
    name: str
    steps: tuple[Step, ...]
    target: str | None
    lab: str | None
    vars: tuple[tuple[str, str], ...]
    timeout: float
    tls: TlsSpec | None
    description: str | None
    cookies: bool
    version: int
    path: str

    def __init__(
        self,
        name: str,
        steps: tuple[Step, ...],
        target: str | None = None,
        lab: str | None = None,
        vars: tuple[tuple[str, str], ...] = (),
        timeout: float = DEFAULT_TIMEOUT,
        tls: TlsSpec | None = None,
        description: str | None = None,
        cookies: bool = True,
        version: int = FORMAT_VERSION,
        path: str = "",
    ) -> None:
        _set(self, "name", name)
        _set(self, "steps", steps)
        _set(self, "target", target)
        _set(self, "lab", lab)
        _set(self, "vars", vars)
        _set(self, "timeout", timeout)
        _set(self, "tls", tls)
        _set(self, "description", description)
        _set(self, "cookies", cookies)
        _set(self, "version", version)
        _set(self, "path", path)

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
