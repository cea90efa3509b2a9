"""Loading the test-language keys of a recipe: value checks, ``retry`` and ``include``.

Used by :mod:`netbench.recipe.load`; every complaint is a
:class:`~netbench.errors.RecipeError` with the file and line.

- ``expect.json`` / ``expect.cookies``: a mapping of a path (a cookie name)
  to a plain value (equal) or to a mapping of checks (:data:`VALUE_OPS`).
- ``retry: {times: N, interval: 250ms}``: N attempts in all (1 or more).
- ``include: other.recipe.yaml``: relative to the including file; a file
  that includes itself, directly or not, and a missing file are errors at
  the ``include`` line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from netbench.recipe import jsonpath
from netbench.recipe.model import VALUE_OPS, VALUE_TYPES, Include, Recipe, Retry, ValueCheck
from netbench.recipe.yamlnode import Node, as_number, as_regex, as_text, kind_of, plain

DEFAULT_INTERVAL = 1.0
MAX_DEPTH = 32  # includes inside includes
MAX_ATTEMPTS = 1000  # retry.times
MAX_STEPS = 10_000  # steps includes may add to a recipe, each included step counted
_LOADED: dict[tuple[str, int, int], Recipe] = {}  # a file included twice (or by many) is read once


def _is_checks(node: Node) -> bool:
    """A mapping (of check names: ``{length: 3}``); compare with an object with ``{equal: {...}}``."""
    return isinstance(node.value, dict) and bool(node.node.value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _op(op: str, node: Node, what: str) -> Any:
    value = plain(node)
    placeholder = isinstance(value, str) and "${" in value
    if op == "exists":
        if not isinstance(value, bool):
            raise node.fail(f"{what}.exists must be true or false, not {kind_of(value)}")
    elif op == "length":
        if not placeholder and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise node.fail(f"{what}.length must be a whole number (0 or more), not {value!r}")
    elif op == "regex":
        return as_regex(node, f"{what}.regex")
    elif op == "type":
        if value not in VALUE_TYPES:
            raise node.fail(f"{what}.type must be one of {', '.join(VALUE_TYPES)}, not {value!r}")
    elif op in ("lt", "le", "gt", "ge") and not placeholder and not _is_number(value):
        raise node.fail(f"{what}.{op} compares numbers: give a number, not {kind_of(value)}")
    return value


def value_checks(node: Node, what: str, *, json_paths: bool) -> tuple[ValueCheck, ...]:
    """``expect.json`` (*json_paths*) or ``expect.cookies``: one :class:`ValueCheck` per key."""
    out = []
    for key, key_node, spec in node.items(what, ()):
        if json_paths:
            try:
                jsonpath.parse(key)
            except jsonpath.PathError as error:
                raise key_node.fail(f"{what}: {error} (write $.a.b[0] or a.b.0)") from None
        label = f"{what}.{key}"
        if _is_checks(spec):
            checks = tuple((op, _op(op, value, label)) for op, _k, value in spec.items(label, VALUE_OPS))
        else:
            checks = (("equal", plain(spec)),)
        out.append(ValueCheck(key, checks))
    if not out:
        raise node.fail(f"{what} is empty")
    return tuple(out)


def retry(node: Node, where: str) -> Retry:
    """``retry: {times: N, interval: DURATION}`` (``retry: N`` is short for the default interval)."""
    what = f"{where}: retry"
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        times_node, interval = node, DEFAULT_INTERVAL
    else:
        fields = node.mapping(what, ("times", "interval"))
        if "times" not in fields:
            raise node.fail(f"{what} needs times (attempts in all): retry: {{times: 20, interval: 250ms}}")
        times_node = fields["times"]
        interval = (
            as_number(fields["interval"], f"{what}.interval", positive=False)
            if "interval" in fields
            else DEFAULT_INTERVAL
        )
    times = times_node.value
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_ATTEMPTS:
        raise times_node.fail(
            f"{what}.times must be a whole number of attempts, 1 to {MAX_ATTEMPTS}, not {times!r}"
        )
    return Retry(times, interval)


def identity(path: str) -> str:
    """The name a file is known by in an include chain (its real path; the text for ``<recipe>``)."""
    if path.startswith("<"):
        return path
    return os.path.realpath(path)


def include(node: Node, where: str, including: tuple[str, ...]) -> Include:
    """Load the recipe an ``include`` step names (relative to the file it is written in)."""
    from netbench.recipe.load import load_recipe  # load imports this module

    written = as_text(node, f"{where}: include")
    base = Path(node.path).parent if not node.path.startswith("<") else Path(".")
    target = base / written
    if identity(str(target)) in including:
        start = including.index(identity(str(target)))
        chain = " -> ".join(Path(name).name for name in including[start:])
        raise node.fail(f"{where}: include cycle: {chain} -> {Path(written).name}")
    if not target.is_file():
        raise node.fail(f"{where}: include {written!r}: no such file ({target})")
    if len(including) >= MAX_DEPTH:
        raise node.fail(f"{where}: includes nested more than {MAX_DEPTH} deep")
    key = _file_key(target)
    recipe = _LOADED.get(key) if key is not None else None
    if recipe is None:
        recipe = load_recipe(target, including=including)  # its errors name its file:line
        if key is not None:
            _LOADED[key] = recipe
            while len(_LOADED) > 256:
                del _LOADED[next(iter(_LOADED))]
    if recipe.size > MAX_STEPS:
        raise node.fail(f"{where}: include {written!r} runs more than {MAX_STEPS} steps in all")
    return Include(written, recipe)


def _file_key(path: Path) -> tuple[str, int, int] | None:
    """A loaded file is reused while its path, size and modification time stay the same."""
    try:
        info = path.stat()
    except OSError:
        return None
    return identity(str(path)), info.st_size, info.st_mtime_ns
