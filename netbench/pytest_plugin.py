"""pytest plugin: collect ``*.recipe.yaml`` files and run them with the recipe engine.

Registered through the ``pytest11`` entry point, so installing netbench is
enough. One test item per recipe, named by the recipe's ``name``. Options:
``--netbench-target HOST:PORT`` (else the ``NETBENCH_TARGET`` environment
variable, else the ``netbench_target`` ini key, else the recipe's own
target or lab service), ``--netbench-var NAME=VALUE`` (repeatable) and
``--netbench-vars-file FILE`` (a YAML mapping; ``--netbench-var`` wins).
Failures of recipes are shown by :meth:`RecipeItem.repr_failure` as the
engine's report; anything else is left to pytest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from netbench.recipe.finding import SUFFIX


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("netbench", "netbench recipes")
    group.addoption(
        "--netbench-target",
        metavar="HOST:PORT",
        default=None,
        help="aim every recipe at this target (also NETBENCH_TARGET, ini netbench_target)",
    )
    group.addoption(
        "--netbench-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a recipe variable (repeatable)",
    )
    group.addoption(
        "--netbench-vars-file",
        action="append",
        default=[],
        metavar="FILE",
        help="recipe variables from a YAML file (NAME: VALUE); --netbench-var wins over it",
    )
    group.addoption(
        "--netbench-pipeline",
        type=int,
        default=0,
        metavar="N",
        help="write up to N requests ahead in runs of plain GET/HEAD http steps (replay --pipeline N)",
    )
    parser.addini("netbench_target", "target for every netbench recipe (HOST:PORT)", default=None)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIX):
        return RecipeFile.from_parent(parent, path=file_path)
    return None


_VARIABLES = pytest.StashKey[dict[str, str]]()


class RecipeFailed(Exception):
    """A recipe ran and did not pass; carries the engine's Result."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.message)
        self.result = result


class RecipeFile(pytest.File):
    """One recipe file: one item, or an item that reports why the file is invalid."""

    def collect(self) -> Iterator[pytest.Item]:
        from netbench.core.escape import scrub
        from netbench.errors import RecipeError
        from netbench.recipe.cache import load_cached

        try:
            recipe = load_cached(self.path)
        except RecipeError as error:
            name = scrub(self.path.name.removesuffix(SUFFIX))
            yield RecipeItem.from_parent(self, name=name, recipe=None, error=error)
            return
        yield RecipeItem.from_parent(self, name=scrub(recipe.name), recipe=recipe, error=None)


class RecipeItem(pytest.Item):
    """One recipe run by the engine."""

    def __init__(self, *, recipe: Any, error: Exception | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recipe = recipe
        self.error = error

    def _target(self) -> str | None:
        config = self.config
        value = config.getoption("--netbench-target") or os.environ.get("NETBENCH_TARGET")
        return value or config.getini("netbench_target") or None

    def _variables(self) -> dict[str, str]:
        """The variables of the options, read once per session (the vars files are YAML) and shared
        by every recipe (the engine copies them); a bad one fails every recipe as it runs."""
        stash = self.config.stash
        if _VARIABLES in stash:
            return stash[_VARIABLES]
        from netbench.errors import RecipeError, UsageError
        from netbench.recipe.template import parse_vars
        from netbench.recipe.varsfile import merge_vars

        try:
            given = parse_vars(self.config.getoption("--netbench-var"), "--netbench-var")
            variables = merge_vars(self.config.getoption("--netbench-vars-file"), given)
        except (UsageError, RecipeError) as error:
            raise pytest.UsageError(str(error)) from None
        stash[_VARIABLES] = variables
        return variables

    def runtest(self) -> None:
        if self.error is not None:
            raise self.error
        from netbench.recipe.engine import run

        pipeline = self.config.getoption("--netbench-pipeline") or 0
        result = run(self.recipe, target=self._target(), variables=self._variables(), pipeline=pipeline)
        self.user_properties.append(("netbench_target", result.target))
        if not result.ok:
            raise RecipeFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from netbench.errors import RecipeError

        if isinstance(excinfo.value, RecipeFailed):
            return excinfo.value.result.report()
        if isinstance(excinfo.value, RecipeError):
            return f"invalid recipe: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"recipe: {self.name}"
