"""The Python API: ``netbench.replay(...)`` and ``with netbench.serve(...) as address``.

For use inside ordinary tests::

    result = netbench.replay("recipes/echo.recipe.yaml", target="127.0.0.1:7007")
    assert result.ok, result.report()

    with netbench.serve("hello.recipe.yaml") as address:   # "127.0.0.1:PORT"
        assert netbench.replay("hello.recipe.yaml", target=address).ok

Both are synchronous; they run the engine's event loop in a worker thread
when called from code that already runs one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from netbench.recipe.engine import Result, run
from netbench.recipe.load import load_recipe
from netbench.recipe.model import Recipe

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run *coroutine* to completion, in a worker thread if a loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=worker, name="netbench-replay", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def replay(
    path: str | Path | Recipe,
    target: str | None = None,
    vars: Mapping[str, str] | None = None,
    *,
    timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Result:
    """Run the recipe at *path* (or a loaded :class:`Recipe`) and return its :class:`Result`.

    An invalid recipe raises :class:`~netbench.errors.RecipeError`; a failing
    one returns a Result whose ``ok`` is False (``result.report()`` says why).
    """
    recipe = path if isinstance(path, Recipe) else load_recipe(path)
    return run_sync(run(recipe, target=target, variables=vars, environ=environ, timeout=timeout))


@contextmanager
def serve(
    path: str | Path | Recipe, listen: str = "127.0.0.1:0", *, environ: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Play the server side of a recipe in a background thread; yield its ``HOST:PORT``.

    It keeps accepting connections until the block ends. Mismatches are kept
    in the server's log; they make the client's replay fail.
    """
    from netbench.recipe.serve import MockServer

    recipe = path if isinstance(path, Recipe) else load_recipe(path)
    server = MockServer(recipe, listen, keep=True, environ=environ)
    with server.in_thread() as address:
        yield address
