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
from typing import Literal

from netbench.core.escape import quote

FORMAT_VERSION = 1
DEFAULT_TIMEOUT = 5.0

MatchKind = Literal["exact", "contains", "regex"]
CaptureKind = Literal["header", "regex", "json", "status", "body"]
CloseMode = Literal["write", "both"]


@dataclass(frozen=True)
class TextMatch:
    """A check on a header value or an HTTP body: equal to, containing, or matching ``value``."""

    kind: MatchKind
    value: str

    def describe(self) -> str:
        """``contains 'hello'`` and the like, for reports."""
        return f"{'equal to' if self.kind == 'exact' else self.kind} {quote(self.value, 200)}"


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

    @property
    def is_http(self) -> bool:
        """True when the answer is to be parsed as an HTTP response."""
        return self.status is not None or bool(self.headers) or self.body is not None

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
    HTTP body; ``status`` and ``body`` take no argument.
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
    version: int = FORMAT_VERSION
    path: str = field(default="", compare=False)

    @property
    def where(self) -> str:
        """The file name used in messages (``<recipe>`` when not from a file)."""
        return self.path or "<recipe>"
