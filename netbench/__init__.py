"""netbench: a raw TCP/UDP client and protocol workbench.

The public API is imported lazily so that ``import netbench`` (and so the
command line) starts fast.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~5 ms) on every start-up
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Recipe",
    "Result",
    "__version__",
    "load_recipe",
    "replay",
    "serve",
]

_LAZY = {
    "Recipe": "netbench.recipe.model",
    "Result": "netbench.recipe.engine",
    "load_recipe": "netbench.recipe.load",
    "replay": "netbench.recipe.api",
    "serve": "netbench.recipe.api",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'netbench' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
