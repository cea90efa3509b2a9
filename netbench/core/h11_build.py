"""Which h11 netbench's HTTP code runs on, said without importing it.

The HTTP modules import ``h11_mypyc`` (the same h11 code compiled with
mypyc, installed by default where a wheel exists) and fall back to the pure
Python ``h11``; both behave the same. :func:`describe` tells which one an
``import`` would pick, for ``netbench --version``, by looking the packages up
on ``sys.path`` only: importing h11 costs 15-40 ms that ``--version`` should
not pay. ``h11-mypyc`` also ships a pure wheel for platforms it has no
compiled build for; :func:`describe` says so (``not compiled``).
"""

from __future__ import annotations

import os
import re

_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_EXTENSIONS = (".so", ".pyd")


def describe() -> str:
    """``h11-mypyc 0.17.0 (compiled)``, ``h11 0.16.0 (pure Python)``, or ``h11 not installed``."""
    folder = _package_folder("h11_mypyc")
    if folder is not None:
        kind = "compiled" if _compiled(folder) else "not compiled"
        return f"h11-mypyc {_version(folder)} ({kind})"
    folder = _package_folder("h11")
    if folder is None:
        return "h11 not installed"
    return f"h11 {_version(folder)} (pure Python)"


def _package_folder(name: str) -> str | None:
    from importlib.util import find_spec

    try:
        spec = find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(next(iter(spec.submodule_search_locations)))  # a str: pathlib would cost --version ~5 ms


def _compiled(folder: str) -> bool:
    """True when the package's connection module is a compiled extension."""
    return any(name.startswith("_connection.") and name.endswith(_EXTENSIONS) for name in os.listdir(folder))


def _version(folder: str) -> str:
    try:
        with open(os.path.join(folder, "_version.py"), encoding="utf-8") as source:
            match = _VERSION.search(source.read())
    except OSError:
        return "(version unknown)"
    return match.group(1) if match else "(version unknown)"


if __name__ == "__main__":
    print(describe())
