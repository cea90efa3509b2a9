"""YAML nodes with line numbers, and the typed values a recipe is made of.

The loader walks PyYAML's node tree (composed by the C parser when
present) instead of a constructed document, so every value knows its line
and every complaint is ``file:line: what is wrong`` (a
:class:`~netbench.errors.RecipeError`, exit status 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from netbench.errors import NetbenchError, RecipeError
from netbench.recipe.template import NAME

_STR = "tag:yaml.org,2002:str"
_SAFE = yaml.constructor.SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:int": _SAFE.construct_yaml_int,
    "tag:yaml.org,2002:float": _SAFE.construct_yaml_float,
    "tag:yaml.org,2002:bool": _SAFE.construct_yaml_bool,
    "tag:yaml.org,2002:null": _SAFE.construct_yaml_null,
    "tag:yaml.org,2002:timestamp": _SAFE.construct_yaml_timestamp,
}


Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(text: str, path: str) -> Node | None:
    """The node tree of one YAML document (PyYAML's safe loader, the C one when present).

    None for an empty document; invalid YAML is a :class:`RecipeError` with the line.
    """
    try:
        loader = Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        raise RecipeError(f"invalid YAML: {error.problem or error.context}", path, line) from None
    except yaml.YAMLError as error:
        raise RecipeError(f"invalid YAML: {error}", path) from None
    return None if root is None else Node(root, path)


class Node:
    """A YAML node, its Python value made on demand, and its line (for messages).

    Only the node tree is built by PyYAML (the C composer when present);
    values are made here, scalar by scalar, which is several times faster
    than constructing the whole document first. Mappings are seen through
    :meth:`items`, lists through :meth:`elements`.
    """

    __slots__ = ("node", "path")

    def __init__(self, node: yaml.Node, path: str) -> None:
        self.node = node
        self.path = path

    @property
    def value(self) -> Any:
        node = self.node
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            make = _SCALARS.get(node.tag)
            if make is None:
                raise self.fail(f"unsupported YAML tag {node.tag!r} (recipes hold plain data only)")
            return make(node)
        self._check_tag()
        return {} if isinstance(node, yaml.MappingNode) else []

    def _check_tag(self) -> None:
        if self.node.tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            raise self.fail(f"unsupported YAML tag {self.node.tag!r} (recipes hold plain data only)")

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    def fail(self, message: str) -> RecipeError:
        return RecipeError(message, self.path, self.line)

    def elements(self) -> list[Node]:
        """The items of a list node."""
        self._check_tag()
        return [Node(child, self.path) for child in self.node.value]

    def items(self, what: str, allowed: tuple[str, ...]) -> Iterator[tuple[str, Node, Node]]:
        """Yield ``(key, key_node, value_node)`` of a mapping, rejecting unknown or repeated keys."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.fail(f"{what} must be a mapping (key: value), not {kind_of(self.value)}")
        self._check_tag()
        seen: set[str] = set()
        path = self.path
        for key_node, value_node in self.node.value:
            key_wrap = Node(key_node, path)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                raise key_wrap.fail(f"{what}: keys must be text, not {key_node.value!r}")
            key = key_node.value
            if allowed and key not in allowed:
                import difflib  # only for the error message: not on every load

                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(allowed)})"
                raise key_wrap.fail(f"{what}: unknown key {key!r}{hint}")
            if key in seen:
                raise key_wrap.fail(f"{what}: key {key!r} is given twice")
            seen.add(key)
            yield key, key_wrap, Node(value_node, path)

    def mapping(self, what: str, allowed: tuple[str, ...]) -> dict[str, Node]:
        return {key: value for key, _k, value in self.items(what, allowed)}


def kind_of(value: Any) -> str:
    if value is None:
        return "empty"
    return {dict: "a mapping", list: "a list", bool: "true/false", str: "text"}.get(
        type(value), type(value).__name__
    )


def as_text(node: Node, what: str) -> str:
    value = node.value
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise node.fail(f"{what} must be text, not {kind_of(value)} (quote it if you mean text)")
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise node.fail(f"{what} must be text, not {type(value).__name__}")
    return value


def as_bytes(node: Node, what: str) -> bytes:
    text = as_text(node, what)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise node.fail(f"{what} is not valid text (write binary data as hex)") from None


def as_hex(node: Node, what: str) -> bytes:
    from netbench.core.escape import parse_hex

    text = as_text(node, what)
    try:
        return parse_hex(text)
    except NetbenchError as error:
        raise node.fail(f"{what}: {error}") from None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*$")


def parse_duration(text: str) -> float | None:
    """``250ms``, ``2s`` or ``1.5`` (seconds) as seconds; None when *text* is not a duration."""
    found = _DURATION.match(text)
    if found is None:
        return None
    number = float(found.group(1))
    return number / 1000 if found.group(2) == "ms" else number


def as_number(node: Node, what: str, *, positive: bool = True) -> float:
    """A duration in seconds: a number, or text such as ``250ms``, ``2s``, ``1.5``."""
    value = node.value
    if isinstance(value, str) and parse_duration(value) is not None:
        value = parse_duration(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise node.fail(f"{what} must be a duration (250ms, 2s, or a number of seconds), not {value!r}")
    if value < 0 or (positive and value == 0):
        raise node.fail(f"{what} must be {'more than' if positive else 'at least'} 0, not {value}")
    return float(value)


MAX_VALUE_ITEMS = 10_000


MAX_VALUE_DEPTH = 100


def plain(node: Node, budget: list[int] | None = None, depth: int = 0) -> Any:
    """The plain data of *node* (text, numbers, true/false, null, lists, mappings), tags checked.

    At most :data:`MAX_VALUE_ITEMS` items in all (YAML aliases can make a few
    lines stand for billions of items: a "billion laughs" file), nested at
    most :data:`MAX_VALUE_DEPTH` deep.
    """
    budget = [MAX_VALUE_ITEMS] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise node.fail(f"a value of more than {MAX_VALUE_ITEMS} items (YAML aliases repeating it?)")
    if depth > MAX_VALUE_DEPTH:
        raise node.fail(f"a value nested more than {MAX_VALUE_DEPTH} deep")
    value = node.value
    if isinstance(value, list):
        return [plain(child, budget, depth + 1) for child in node.elements()]
    if isinstance(value, dict):
        return {key: plain(child, budget, depth + 1) for key, _k, child in node.items("value", ())}
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        raise node.fail(f"a value must be plain data (text, number, true/false, null), not {kind_of(value)}")
    return value


def boolean(node: Node, what: str) -> bool:
    if not isinstance(node.value, bool):
        raise node.fail(f"{what} must be true or false, not {kind_of(node.value)}")
    return node.value


def as_regex(node: Node, what: str) -> str:
    pattern = as_text(node, what)
    if "${" not in pattern:
        try:
            from netbench.recipe.patterns import compile_pattern  # the engine replay uses

            compile_pattern(pattern)
        except re.error as error:
            raise node.fail(f"{what}: invalid regular expression: {error}") from None
    return pattern


def name_of(node: Node, what: str) -> str:
    name = as_text(node, what)
    if not NAME.match(name):
        raise node.fail(f"{what} {name!r} is not a valid name (letters, digits, _ . -)")
    return name
