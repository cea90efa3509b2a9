"""What an HTTP status code and common headers mean, with the RFC section.

Pure data look-up, no network: the table is ``netbench/data/http_explain.json``
(each entry is ``[name, meaning, reference]``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any


@cache
def table() -> dict[str, Any]:
    """The explanation table, loaded once."""
    text = resources.files("netbench").joinpath("data/http_explain.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def status(code: int) -> str:
    """One line: ``200 OK: The request succeeded... (RFC 9110 §15.3.1)``."""
    data = table()
    if not 100 <= code <= 599:
        return f"{code}: not a valid HTTP status code (must be 100-599; RFC 9110 §15)"
    entry = data["statuses"].get(str(code))
    if entry is not None:
        name, meaning, ref = entry
        return f"{code} {name}: {meaning} ({ref})"
    klass = data["classes"].get(str(code)[:1])
    if klass is not None:
        name, meaning, ref = klass
        return f"{code} (not in the table; class {code // 100}xx {name}): {meaning} ({ref})"
    return f"{code}: not a valid HTTP status code (must be 100-599; RFC 9110 §15)"


def header(name: str) -> str | None:
    """One line for header *name*, or None when the table does not know it."""
    entry = table()["headers"].get(name.lower())
    if entry is None:
        return None
    canonical, meaning, ref = entry
    return f"{canonical}: {meaning} ({ref})"


def explain(code: int, headers: Iterable[tuple[str, str]]) -> list[str]:
    """Lines explaining a response's status and each distinct header it carries."""
    lines = [status(code), ""]
    seen: set[str] = set()
    unknown: list[str] = []
    for name, _value in headers:
        key = name.lower()
        if key in seen:
            continue
        seen.add(key)
        line = header(name)
        if line is None:
            unknown.append(name)
        else:
            lines.append("  " + line)
    if unknown:
        lines.append("  not in the table: " + ", ".join(unknown))
    return lines
