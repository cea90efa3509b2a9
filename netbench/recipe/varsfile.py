"""``--vars-file FILE``: variables for ``replay``, ``serve`` and the pytest plugin from a YAML file.

The file is one YAML mapping of names to values (text; numbers and
true/false are taken as their text), read with the safe loader like a
recipe. Precedence: ``--var NAME=VALUE`` wins over the file, the file over
the recipe's ``vars``. A bad file is a :class:`~netbench.errors.RecipeError`
naming its file and line (exit status 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from netbench.errors import RecipeError


def load_vars_file(path: str | Path) -> dict[str, str]:
    """The variables in the YAML file at *path*."""
    from netbench.recipe.yamlnode import compose, kind_of, name_of  # PyYAML: only when a file is given

    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RecipeError(f"cannot read vars file: {error.strerror or error}", name) from None
    except UnicodeDecodeError:
        raise RecipeError("vars file is not UTF-8 text", name) from None
    top = compose(text, name)
    if top is None:
        return {}
    out: dict[str, str] = {}
    for key, key_node, value_node in top.items("vars file", ()):
        name_of(key_node, "variable")
        value = value_node.value
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            out[key] = str(value)
        else:
            raise value_node.fail(f"vars file: {key} must be text, not {kind_of(value)}")
    return out


def merge_vars(files: Iterable[str | Path], given: Mapping[str, str] | None) -> dict[str, str]:
    """The variables of every file in *files* (later ones win), then *given* (``--var``) over them."""
    out: dict[str, str] = {}
    for path in files:
        out.update(load_vars_file(path))
    out.update(given or {})
    return out
