"""Paths into a JSON document: ``$.a.b[0]`` or ``a.b.0`` (pure).

The same small grammar serves ``capture: {json: PATH}`` and the keys of
``expect.json``: dot-separated names, ``[N]`` or ``.N`` for a list index
(negative counts from the end), ``["odd key"]`` for a name with dots or
spaces, and an optional leading ``$``. A path that does not resolve says
how far it got: the longest prefix that exists and what is there.
"""

from __future__ import annotations

import re
from typing import Any

from netbench.core.frozen import Frozen

_TOKEN = re.compile(r"""\.?([^.\[\]]+)|\[(-?\d+)\]|\[(?:"([^"]*)"|'([^']*)')\]""")


class PathError(ValueError):
    """A path that is not written right."""


class Missing(Frozen):
    """Why a path did not resolve: the longest existing ``prefix`` and the value found there."""

    __slots__ = __match_args__ = ("path", "prefix", "found", "reason")
    path: str
    prefix: str
    found: Any
    reason: str

    def __init__(self, path: str, prefix: str, found: Any, reason: str) -> None:
        _set = object.__setattr__
        _set(self, "path", path)
        _set(self, "prefix", prefix)
        _set(self, "found", found)
        _set(self, "reason", reason)

    def message(self) -> str:
        """``$.items[3]: not found (index 3 out of range; $.items is an array of 2)``."""
        return f"{self.path}: not found ({self.reason})"


def parse(path: str) -> tuple[str | int, ...]:
    """The steps of *path*: names (text) and list indexes (int-like text stays a name for objects)."""
    text = path.strip()
    text = text[1:] if text.startswith("$") else text
    steps: list[str | int] = []
    position = 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise PathError(f"json path {path!r}: cannot read {text[position:]!r}")
        name, index, quoted, single = found.groups()
        if index is not None:
            steps.append(int(index))
        elif quoted is not None or single is not None:
            steps.append(quoted if quoted is not None else single)
        else:
            steps.append(name)
        position = found.end()
    return tuple(steps)


def show(steps: tuple[str | int, ...]) -> str:
    """*steps* written back as a ``$`` path."""
    out = "$"
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", step):
            out += f".{step}"
        else:
            out += f'["{step}"]'
    return out


def kind(value: Any) -> str:
    """The JSON type name of a Python value from ``json.loads``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        keys = ", ".join(list(value)[:8]) + (", ..." if len(value) > 8 else "")
        return f"an object with keys: {keys}" if value else "an empty object"
    return f"a {kind(value)}"


def resolve(document: Any, path: str) -> Any | Missing:
    """The value at *path*, or a :class:`Missing` naming the nearest existing prefix."""
    steps = parse(path)
    node = document
    for depth, step in enumerate(steps):
        here = show(steps[:depth])
        if isinstance(node, list):
            index = step if isinstance(step, int) else int(step) if re.fullmatch(r"-?\d+", step) else None
            if index is None:
                return Missing(show(steps), here, node, f"{here} is {_describe(node)}, not an object")
            if not -len(node) <= index < len(node):
                return Missing(
                    show(steps), here, node, f"index {index} out of range; {here} is {_describe(node)}"
                )
            node = node[index]
        elif isinstance(node, dict):
            key = str(step)
            if key not in node:
                return Missing(show(steps), here, node, f"no {key!r} in {here}, {_describe(node)}")
            node = node[key]
        else:
            return Missing(show(steps), here, node, f"{here} is {_describe(node)}, not an object or array")
    return node
