"""House rules that a reader checks by eye, checked by the test suite so they stay true.

No module under netbench/ imports another module's private (``_name``)
names: a name used by two modules is public, with a docstring stating its
contract (issue 9, item 6). Dunder names (``__version__``) are public.
"""

from __future__ import annotations

import ast
from pathlib import Path

import netbench

PACKAGE = Path(netbench.__file__).parent


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ImportFrom names (relative imports resolved against *module*)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every private name (or private module) *source* imports from another netbench module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            origin = _absolute(node, module, is_package)
            if origin.split(".")[0] != "netbench" or origin == module:
                continue
            private = [a.name for a in node.names if _is_private(a.name)]
            private += [origin] if any(_is_private(part) for part in origin.split(".")) else []
            found += [f"line {node.lineno}: from {origin} import {name}" for name in private]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "netbench" and any(_is_private(part) for part in parts):
                    found.append(f"line {node.lineno}: import {alias.name}")
    return found


def test_the_checker_finds_private_imports_in_every_spelling() -> None:
    source = (
        "from netbench.core.http_message import Headers, _find\n"
        "from netbench.core.http_message import (\n    HttpResponse,\n    _send_all as send,\n)\n"
        "from .escape import _safe\n"
        "from ..net.dial import _connect\n"
        "import netbench.core._secret\n"
    )
    found = private_imports(source, "netbench.core.http")
    assert found == [
        "line 1: from netbench.core.http_message import _find",
        "line 2: from netbench.core.http_message import _send_all",
        "line 6: from netbench.core.escape import _safe",
        "line 7: from netbench.net.dial import _connect",
        "line 8: import netbench.core._secret",
    ]


def test_the_checker_allows_public_dunder_and_outside_names() -> None:
    source = (
        "from netbench import __version__\n"
        "from netbench.recipe.loadparts import retry as _retry\n"
        "from os import _exit\n"
        "import netbench.core.escape\n"
    )
    assert private_imports(source, "netbench.cli") == []


def test_no_module_imports_another_modules_private_names() -> None:
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for found in private_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            offences.append(f"{path.relative_to(PACKAGE.parent)} {found}")
    assert offences == [], "private names imported across modules:\n" + "\n".join(offences)


def _literal_connect_timeouts(source: str) -> list[str]:
    """Where *source* gives a connect timeout a number of its own (a name, a field or a default)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        pairs: list[tuple[str, ast.expr | None]] = []
        if isinstance(node, ast.Assign):
            pairs = [(getattr(t, "id", getattr(t, "attr", "")), node.value) for t in node.targets]
        elif isinstance(node, ast.AnnAssign):
            pairs = [(getattr(node.target, "id", getattr(node.target, "attr", "")), node.value)]
        elif isinstance(node, ast.arguments):
            positional = node.args[len(node.args) - len(node.defaults) :]
            pairs = [(a.arg, d) for a, d in zip(positional, node.defaults, strict=True)]
            pairs += [(a.arg, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)]
        for name, value in pairs:
            if (
                "connect_timeout" in name.lower()
                and isinstance(value, ast.Constant)
                and value.value is not None
            ):
                found.append(f"line {value.lineno}: {name} = {value.value!r}")
    return found


def test_the_checker_finds_a_connect_timeout_of_its_own() -> None:
    source = (
        "class Settings:\n    connect_timeout: float = 10.0\n"
        "def open(target, connect_timeout=5):\n    pass\n"
        "def dial(*, connect_timeout=DEFAULT_CONNECT_TIMEOUT, timeout=3.0):\n    pass\n"
    )
    assert _literal_connect_timeouts(source) == [
        "line 2: connect_timeout = 10.0",
        "line 3: connect_timeout = 5",
    ]


def test_one_default_connect_timeout() -> None:
    """net/dial.DEFAULT_CONNECT_TIMEOUT is the one number; the REPL, http and the rest use it."""
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for found in _literal_connect_timeouts(path.read_text(encoding="utf-8")):
            offences.append(f"{path.relative_to(PACKAGE.parent)} {found}")
    home = [o for o in offences if o.startswith("netbench/net/dial.py ") and "DEFAULT_CONNECT_TIMEOUT =" in o]
    assert len(home) == 1 and offences == home, "\n".join(offences)
