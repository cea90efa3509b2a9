"""The Python API: ``netbench.replay(...)`` and ``with netbench.serve(...) as address``.

For use inside ordinary tests::

    result = netbench.replay("recipes/echo.recipe.yaml", target="127.0.0.1:7007")
    assert result.ok, result.report()

    with netbench.serve("hello.recipe.yaml") as address:   # "127.0.0.1:PORT"
        assert netbench.replay("hello.recipe.yaml", target=address).ok

Both are synchronous: ``replay`` runs the blocking engine in the calling
thread (from async code too: it uses no event loop); ``serve`` runs the
mock server in a background thread.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from netbench.recipe.cache import load_cached
from netbench.recipe.engine import Result, run
from netbench.recipe.model import Recipe


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
    recipe = path if isinstance(path, Recipe) else load_cached(path, environ)
    return run(recipe, target=target, variables=vars, environ=environ, timeout=timeout)


@contextmanager
def serve(
    path: str | Path | Recipe, listen: str = "127.0.0.1:0", *, environ: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Play the server side of a recipe in a background thread; yield its ``HOST:PORT``.

    It keeps accepting connections until the block ends. Mismatches are kept
    in the server's log; they make the client's replay fail.
    """
    from netbench.recipe.serve import MockServer

    recipe = path if isinstance(path, Recipe) else load_cached(path, environ)
    server = MockServer(recipe, listen, keep=True, environ=environ)
    with server.in_thread() as address:
        yield address
