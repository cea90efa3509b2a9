"""Checks and captures: compare what arrived with what a step expects (pure).

Every check returns ``None`` when it holds or a :class:`Mismatch` saying
what was expected and what arrived (the bytes too, so a report can show a
diff or a hexdump).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netbench.core.escape import quote
from netbench.core.frozen import Frozen
from netbench.recipe.model import Capture, Expect, TextMatch
from netbench.recipe.patterns import Pattern, compile_pattern

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse


class Mismatch(Frozen):
    """One failed check: a one-line ``message`` and the bytes to compare."""

    __slots__ = __match_args__ = ("message", "expected", "received")
    message: str
    expected: bytes | None
    received: bytes | None

    def __init__(self, message: str, expected: bytes | None = None, received: bytes | None = None) -> None:
        _set = object.__setattr__
        _set(self, "message", message)
        _set(self, "expected", expected)
        _set(self, "received", received)


class CaptureFailed(Exception):
    """A capture found nothing to take."""


def compile_regex(pattern: str) -> Pattern:
    """Compile a recipe regex (text) into a bytes pattern whose searches keep to the step's time."""
    return compile_pattern(pattern)


def text_matches(match: TextMatch, value: bytes) -> bool:
    """Whether *value* satisfies *match*."""
    wanted = match.value.encode("utf-8", "surrogateescape")
    if match.kind == "exact":
        return value == wanted
    if match.kind == "contains":
        return wanted in value
    return compile_regex(match.value).search(value) is not None


def check_datagram(expect: Expect, datagram: bytes, pattern: Pattern | None) -> Mismatch | None:
    """Check one UDP datagram against a raw expectation (the whole datagram is compared)."""
    kind = expect.raw_kind
    if kind == "exact" and datagram != expect.exact:
        return Mismatch("the datagram differs", expect.exact, datagram)
    if kind == "contains" and expect.contains is not None and expect.contains not in datagram:
        return Mismatch(f"the datagram does not contain {quote(expect.contains)}", expect.contains, datagram)
    if kind == "regex" and pattern is not None and pattern.search(datagram) is None:
        return Mismatch(f"the datagram does not match /{expect.regex}/", None, datagram)
    if kind == "line":
        first = datagram.split(b"\n", 1)[0].removesuffix(b"\r")
        if first != expect.line:
            return Mismatch("the first line differs", expect.line, first)
    if kind == "bytes" and len(datagram) != expect.count:
        return Mismatch(f"expected a datagram of {expect.count} bytes, got {len(datagram)}", None, datagram)
    return None


def check_piece(expect: Expect, piece: bytes) -> Mismatch | None:
    """Check the bytes a stream read returned for an ``exact`` or ``line`` expectation."""
    if expect.exact is not None and piece != expect.exact:
        return Mismatch("received bytes differ", expect.exact, piece)
    if expect.line is not None and piece != expect.line:
        return Mismatch("the line differs", expect.line, piece)
    return None


def check_http(expect: Expect, response: HttpResponse) -> list[Mismatch]:
    """Check status, headers and body of *response*; every failed check is listed."""
    problems: list[Mismatch] = []
    if expect.status is not None and response.status != expect.status:
        problems.append(
            Mismatch(f"expected status {expect.status}, received {quote(response.status_line, wire=True)}")
        )
    for name, match in expect.headers:
        values = response.header_values(name)
        if not values:
            problems.append(Mismatch(f"header {name} is missing (expected {match.describe()})"))
        elif not any(text_matches(match, v.encode("utf-8", "surrogateescape")) for v in values):
            problems.append(
                Mismatch(
                    f"header {name}: expected {match.describe()}, received {quote(values[0], wire=True)}",
                    match.value.encode() if match.kind == "exact" else None,
                    values[0].encode("utf-8", "surrogateescape"),
                )
            )
    if expect.body is not None and not text_matches(expect.body, response.body):
        want = expect.body.value.encode("utf-8", "surrogateescape")
        problems.append(
            Mismatch(
                f"body: expected {expect.body.describe() if len(want) < 60 else expect.body.kind}",
                want if expect.body.kind == "exact" else None,
                response.body,
            )
        )
    return problems


def json_path(document: Any, path: str) -> Any:
    """Follow ``a.b.0`` or ``$.a.b[0]`` into a parsed JSON document (raises :class:`CaptureFailed`)."""
    from netbench.recipe import jsonpath

    try:
        found = jsonpath.resolve(document, path)
    except jsonpath.PathError as error:
        raise CaptureFailed(str(error)) from None
    if isinstance(found, jsonpath.Missing):
        raise CaptureFailed(f"json {found.message()}")
    return found


def capture(
    spec: Capture, received: bytes, response: HttpResponse | None, cookies: Mapping[str, str] | None = None
) -> str:
    """The value *spec* takes from a step's answer (raises :class:`CaptureFailed`).

    *cookies* are the cookies held after this answer (the recipe's jar), for
    a ``cookie`` capture.
    """
    if spec.kind == "regex":
        match = compile_regex(spec.arg).search(received)
        if match is None:
            raise CaptureFailed(f"regex /{spec.arg}/ found nothing in what arrived")
        try:
            value = match.group(spec.group)
        except IndexError:
            raise CaptureFailed(f"regex /{spec.arg}/ has no group {spec.group!r}") from None
        return (value or b"").decode("utf-8", "surrogateescape")
    if response is None:
        raise CaptureFailed(f"{spec.kind} capture: the answer was not an HTTP response")
    if spec.kind == "status":
        return str(response.status)
    if spec.kind == "body":
        return response.body.decode("utf-8", "surrogateescape")
    if spec.kind == "header":
        value = response.header(spec.arg)
        if value is None:
            raise CaptureFailed(f"header {spec.arg} is not in the response")
        return value
    if spec.kind == "cookie":
        held = cookies or {}
        if spec.arg not in held:
            raise CaptureFailed(f"no cookie {spec.arg} (cookies held: {', '.join(sorted(held)) or 'none'})")
        return held[spec.arg]
    import json  # only a json capture needs it: not on every run's start-up

    from netbench.recipe.checks import parse_json_body

    try:
        document = parse_json_body(response.body, response.header("Content-Type"))
    except ValueError as error:
        raise CaptureFailed(f"json capture: {error}") from None
    value = json_path(document, spec.arg)
    return value if isinstance(value, str) else json.dumps(value)
