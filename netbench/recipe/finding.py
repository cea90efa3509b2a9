"""Which files are recipes: the ``*.recipe.yaml`` suffix and directory expansion.

Kept apart from :mod:`netbench.recipe.load` (which imports PyYAML) so that a
replay whose recipes all come from the parse cache, and the pytest plugin's
collection, never import YAML just to find files.
"""

from __future__ import annotations

from pathlib import Path

SUFFIX = ".recipe.yaml"
"""The file-name ending of a recipe, as ``replay DIR``, ``/save`` and the pytest plugin know it."""


def find_recipes(paths: list[str]) -> list[str]:
    """Expand directories into their ``*.recipe.yaml`` files (sorted, recursive); files stay as given."""
    found: list[str] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found.extend(str(p) for p in sorted(path.rglob(f"*{SUFFIX}")))
        else:
            found.append(entry)
    return found
