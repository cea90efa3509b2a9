"""Made-up answer parts for ``serve``: a JSON body from ``expect.json``, Set-Cookie from ``expect.cookies``.

A recipe written by hand has no recorded ``reply``; ``serve`` then makes one
up that satisfies the step's ``expect`` when it can (pure). For JSON, each
path is set in a document: an ``equal`` value as it is, else a value of the
checked ``type`` (or a list of ``length`` items, a list or text holding
what ``contains`` asks for, a number inside the ``lt/le/gt/ge`` bounds).
``exists: false`` paths are left out. Checks it cannot meet (a ``regex``)
are left to fail on the client, where the report explains them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from netbench.recipe import jsonpath
from netbench.recipe.checks import expand_value
from netbench.recipe.model import ValueCheck

Expand = Callable[[str], str]
_DEFAULTS: dict[str, Any] = {
    "string": "",
    "number": 0,
    "integer": 0,
    "boolean": False,
    "null": None,
    "array": [],
    "object": {},
}


def _number(checks: dict[str, Any], expand: Expand) -> float | int:
    def bound(op: str) -> float | None:
        return float(expand(str(checks[op]))) if op in checks else None

    low = bound("gt")
    low_eq = bound("ge")
    high = bound("lt")
    high_eq = bound("le")
    if low_eq is not None:
        return low_eq
    if low is not None:
        return low + 1 if high is None or low + 1 < high else (low + high) / 2
    if high_eq is not None:
        return high_eq
    return high - 1 if high is not None else 0


def value_for(check: ValueCheck, expand: Expand) -> Any:
    """A value that meets *check* where one can be made up."""
    checks = dict(check.checks)
    if "equal" in checks:
        return expand_value(checks["equal"], expand)
    kind = checks.get("type")
    if "contains" in checks:
        wanted = expand_value(checks["contains"], expand)
        return str(wanted) if kind == "string" else [wanted]
    if "length" in checks:
        length = int(expand(str(checks["length"])))
        return "x" * length if kind == "string" else [None] * length
    if any(op in checks for op in ("lt", "le", "gt", "ge")):
        number = _number(checks, expand)
        return int(number) if kind == "integer" and float(number).is_integer() else number
    if kind is not None:
        return _DEFAULTS.get(str(kind))
    return None


def _place(document: Any, steps: tuple[str | int, ...], value: Any) -> Any:
    if not steps:
        return value
    first, rest = steps[0], steps[1:]
    if isinstance(first, int) or (isinstance(document, list) and str(first).lstrip("-").isdigit()):
        index = int(first)
        items = document if isinstance(document, list) else []
        while len(items) <= index:
            items.append(None)
        items[index] = _place(items[index], rest, value)
        return items
    members = document if isinstance(document, dict) else {}
    members[str(first)] = _place(members.get(str(first)), rest, value)
    return members


def json_body(checks: tuple[ValueCheck, ...], expand: Expand) -> bytes | None:
    """A JSON document meeting *checks* (None when there are none)."""
    if not checks:
        return None
    document: Any = None
    placed = [(jsonpath.parse(check.path), check) for check in checks]
    for steps, check in sorted(placed, key=lambda pair: len(pair[0])):  # parents before children
        if dict(check.checks).get("exists") is False:
            continue
        document = _place(document, steps, value_for(check, expand))
    return json.dumps({} if document is None else document).encode()


def set_cookies(checks: tuple[ValueCheck, ...], expand: Expand) -> list[bytes]:
    """Set-Cookie header values for ``expect.cookies`` (a cookie that must not exist is not set)."""
    out = []
    for check in checks:
        if dict(check.checks).get("exists") is False:
            continue
        value = value_for(check, expand)
        text = value if isinstance(value, str) and value else "made-up"
        out.append(f"{check.path}={text}; Path=/".encode("utf-8", "surrogateescape"))
    return out
