"""The checks of ``expect.json``, ``expect.cookies`` and ``expect.time`` (pure).

Each returns the :class:`~netbench.recipe.match.Mismatch` list of what did
not hold (empty: all held). Messages show the value found beside the one
expected: ``json $.items[0].id: expected 7 (number), found "7" (string)``.
Text in expected values is expanded first (``${NAME}``) by the *expand*
callable the caller passes; an expected value that is exactly one
placeholder compares as text with the found value's text (a captured
``7`` is the text ``7`` and matches the number 7).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from netbench.errors import RecipeError
from netbench.recipe import jsonpath
from netbench.recipe.match import Mismatch
from netbench.recipe.model import Expect, ValueCheck
from netbench.recipe.patterns import compile_pattern

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse

Expand = Callable[[str], str]
_ONE_PLACEHOLDER = re.compile(r"^\$\{[^}]+\}$")
SHOWN = 120


def shown(value: Any) -> str:
    """A JSON value as JSON text, cut to :data:`SHOWN` characters."""
    import json  # lazily: a run without JSON checks does not need it

    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:
        return f"(an {jsonpath.kind(value)} nested too deep to show)"
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def as_text(value: Any) -> str:
    """A JSON value as a capture gives it: text as is, anything else as JSON."""
    import json

    return value if isinstance(value, str) else json.dumps(value)


def same(a: Any, b: Any) -> bool:
    """Type-aware JSON equality: ``7 == 7.0``, but ``7 != "7"`` and ``1 != true``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def expand_value(value: Any, expand: Expand) -> Any:
    """*value* (plain JSON data) with the text in it expanded."""
    if isinstance(value, str):
        return expand(value)
    if isinstance(value, list):
        return [expand_value(v, expand) for v in value]
    if isinstance(value, dict):
        return {k: expand_value(v, expand) for k, v in value.items()}
    return value


def _equal(found: Any, wanted: Any, expand: Expand) -> bool:
    if isinstance(wanted, str) and _ONE_PLACEHOLDER.match(wanted):
        return as_text(found) == expand(wanted)
    return same(found, expand_value(wanted, expand))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bound(wanted: Any, expand: Expand, what: str) -> float:
    if _number(wanted):
        return float(wanted)
    text = expand(str(wanted))
    try:
        return float(text)
    except ValueError:
        raise RecipeError(f"{what}: {text!r} is not a number") from None


def _is_type(found: Any, name: str) -> bool:
    if name == "integer":
        return _number(found) and float(found).is_integer()
    return jsonpath.kind(found) == name


def _one(label: str, op: str, wanted: Any, found: Any, expand: Expand) -> str | None:
    """The failure message of one check, or None when it holds."""
    got = f"found {shown(found)} ({jsonpath.kind(found)})"
    if op == "equal" and not _equal(found, wanted, expand):
        return f"{label}: expected {shown(expand_value(wanted, expand))} ({jsonpath.kind(wanted)}), {got}"
    if op == "ne" and _equal(found, wanted, expand):
        return f"{label}: expected anything but {shown(expand_value(wanted, expand))}, {got}"
    if op == "length":
        if not isinstance(found, (list, str, dict)):
            return f"{label}: expected length {wanted}, but {got} has no length"
        if len(found) != int(_bound(wanted, expand, f"{label} length")):
            return f"{label}: expected length {wanted}, found length {len(found)}: {shown(found)}"
    if op == "regex":
        if not isinstance(found, str):
            return f"{label}: expected text matching /{wanted}/, {got}"
        pattern = expand(str(wanted))
        if compile_pattern(pattern).search(found.encode("utf-8", "surrogateescape")) is None:
            return f"{label}: expected a match for /{pattern}/, {got}"
    if op == "contains":
        want = expand_value(wanted, expand)
        if isinstance(found, list):
            if not any(_equal(item, wanted, expand) for item in found):
                return f"{label}: expected an array containing {shown(want)}, {got}"
        elif isinstance(found, str):
            if as_text(want) not in found:
                return f"{label}: expected text containing {shown(as_text(want))}, {got}"
        else:
            return f"{label}: expected an array or text containing {shown(want)}, {got}"
    if op == "type" and not _is_type(found, str(wanted)):
        return f"{label}: expected type {wanted}, {got}"
    if op in ("lt", "le", "gt", "ge"):
        bound = _bound(wanted, expand, f"{label} {op}")
        if not _number(found):
            return f"{label}: expected a number {op} {bound:g}, {got}"
        holds = {"lt": found < bound, "le": found <= bound, "gt": found > bound, "ge": found >= bound}[op]
        if not holds:
            sign = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}[op]
            return f"{label}: expected {sign} {bound:g}, {got}"
    return None


def check_value(label: str, check: ValueCheck, found: Any, expand: Expand) -> list[str]:
    """Every failed check of *check* on *found* (a value, or a :class:`jsonpath.Missing`)."""
    if isinstance(found, jsonpath.Missing):
        exists = dict(check.checks).get("exists")
        if exists is False:
            return []
        return [f"{label}: not found ({found.reason})"]
    problems = []
    for op, wanted in check.checks:
        if op == "exists":
            if wanted is False:
                problems.append(f"{label}: expected no value, found {shown(found)} ({jsonpath.kind(found)})")
            continue
        problem = _one(label, op, wanted, found, expand)
        if problem is not None:
            problems.append(problem)
    return problems


def parse_json_body(body: bytes, content_type: str | None) -> Any:
    """The body as JSON data; raises ``ValueError`` with "body is not JSON (Content-Type ...)"."""
    import json

    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("body is JSON nested too deep to read") from None
    except (ValueError, UnicodeDecodeError):
        what = f"Content-Type {content_type}" if content_type else "no Content-Type"
        size = f"{len(body)} bytes" if body else "empty"
        raise ValueError(f"body is not JSON ({what}; {size})") from None


def check_json(
    checks: tuple[ValueCheck, ...], body: bytes, content_type: str | None, expand: Expand
) -> list[Mismatch]:
    """The failed ``expect.json`` checks on an HTTP *body*."""
    if not checks:
        return []
    try:
        document = parse_json_body(body, content_type)
    except ValueError as error:
        return [Mismatch(str(error), None, body)]
    problems: list[Mismatch] = []
    for check in checks:
        found = jsonpath.resolve(document, check.path)
        for message in check_value(f"json {jsonpath.show(jsonpath.parse(check.path))}", check, found, expand):
            problems.append(Mismatch(message))
    return problems


def check_cookies(
    checks: tuple[ValueCheck, ...], cookies: Mapping[str, str], expand: Expand
) -> list[Mismatch]:
    """The failed ``expect.cookies`` checks against *cookies* (name to value)."""
    problems: list[Mismatch] = []
    for check in checks:
        label = f"cookie {check.path}"
        if check.path in cookies:
            found: Any = cookies[check.path]
        else:
            held = ", ".join(sorted(cookies)) or "none"
            found = jsonpath.Missing(check.path, "", None, f"cookies held: {held}")
        problems.extend(Mismatch(message) for message in check_value(label, check, found, expand))
    return problems


def check_time(limit: float | None, seconds: float) -> Mismatch | None:
    """``expect.time: {max: ...}``: the answer took at most *limit* seconds."""
    if limit is None or seconds <= limit:
        return None
    return Mismatch(f"time: took {seconds * 1000:.0f} ms, expected at most {limit * 1000:g} ms")


def check_answer(
    expect: Expect, response: HttpResponse, expand: Expand, cookies: Mapping[str, str]
) -> list[Mismatch]:
    """The ``json`` and ``cookies`` checks of *expect* on an HTTP answer."""
    problems = check_json(expect.json, response.body, response.header("Content-Type"), expand)
    return problems + check_cookies(expect.cookies, cookies, expand)


def require_time(limit: float | None, seconds: float) -> None:
    """Raise :class:`~netbench.recipe.result.StepFailed` when the answer took longer than *limit*."""
    problem = check_time(limit, seconds)
    if problem is not None:
        from netbench.recipe.result import StepFailed

        raise StepFailed(problem.message)
