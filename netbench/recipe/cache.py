"""A cache of parsed recipe files: a recipe that has not changed is not parsed again.

:func:`load_cached` returns what :func:`netbench.recipe.load.load_recipe` would,
from ``$XDG_CACHE_HOME/netbench/recipes/`` (else ``~/.cache/...``) when an
entry there is valid, else by loading the file (and then storing the entry).
``NETBENCH_RECIPE_CACHE=off`` turns it off.

An entry is never trusted blindly. It is used only when its format, the
netbench version, the interpreter (:data:`sys.implementation.cache_tag`),
the stat (size and modification time) of every recipe file it was built
from (the file and the files it includes) and the stat of the loader's
source files (every module of ``recipe/`` and ``core/``) all match;
anything else (a stale, truncated, foreign or hostile entry) is ignored and
the file is parsed again. An entry is :mod:`marshal` data: nested tuples of
strings, bytes, numbers and ``None`` (:mod:`netbench.recipe.cacheform`),
from which the recipe is built again field by field, so loading one makes
no objects but plain data and the model's own and runs no code (the types
of the fields are not checked again, as the pickles of format 1 did not
check them: the entry is the user's own file); it is read
only from a file the user owns that no one else may write, and replaced
atomically (a temporary file, then ``os.replace``) in a directory only the
user can read. marshal, not pickle: the same speed of loading without
importing :mod:`pickle` (and its ``_compat_pickle``) at every start-up; a
1000-step recipe loads many times faster than from YAML. A recipe that does
not load is not cached: its error is reported as always. Failing to read or
write the cache is never an error.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from netbench.recipe.cacheform import from_data, to_data
from netbench.recipe.model import Recipe

FORMAT = 2
"""The layout of an entry; bump it when it changes (1 was a pickle of the model's objects)."""


def load_cached(path: str | Path, environ: Mapping[str, str] | None = None) -> Recipe:
    """The recipe at *path*, from the cache when a valid entry is there (raises RecipeError as load)."""
    environ = os.environ if environ is None else environ
    directory = cache_dir(environ)
    if directory is None:
        return _load(path)
    entry = directory / _entry_name(path)
    recipe = read_entry(entry, path)
    if recipe is None:
        recipe = _load(path)
        write_entry(entry, recipe)
        return recipe
    return recipe.replace(path=str(path))  # as this caller names it


def _load(path: str | Path) -> Recipe:
    from netbench.recipe.load import load_recipe  # imports yaml: only on a miss

    return load_recipe(path)


def cache_dir(environ: Mapping[str, str]) -> Path | None:
    """Where entries live (None: the cache is off)."""
    if environ.get("NETBENCH_RECIPE_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "netbench" / "recipes"


def _entry_name(path: str | Path) -> str:
    key = os.path.abspath(path).encode("utf-8", "surrogateescape")
    return f"{zlib.crc32(key):08x}{zlib.adler32(key):08x}.bin"


def _stat(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns)


def _stamp(sources: list[str]) -> tuple[Any, ...]:
    """What must not have changed: the format, the version, the loader's and the recipes' files."""
    from netbench import __version__

    return (
        FORMAT,
        __version__,
        sys.implementation.cache_tag,
        _loader_stamp(),
        tuple((source, _stat(source)) for source in sources),
    )


@lru_cache(maxsize=1)
def _loader_stamp() -> tuple[tuple[str, int, int], ...]:
    """Size and time of every module of ``recipe/`` and ``core/``: the loader and what it uses.

    A netbench being developed changes its loader without changing its version. Once per
    process (~50 stats): the modules a process has imported do not change under it."""
    here = os.path.dirname(__file__)
    stamp = []
    for folder in (here, os.path.join(os.path.dirname(here), "core")):
        with os.scandir(folder) as listing:
            for item in listing:
                if item.name.endswith(".py"):
                    info = item.stat()
                    stamp.append((item.name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(stamp))


def read_entry(entry: Path, path: str | Path) -> Recipe | None:
    """The recipe in *entry* when it is valid for the file at *path*, else None."""
    try:
        with open(entry, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None  # someone else's or writable by others: not ours to trust
            stamp, data = marshal.loads(handle.read())
        sources = [source for source, _ in stamp[-1]]
        if not sources or sources[0] != os.path.abspath(path) or stamp != _stamp(sources):
            return None
        return from_data(data)
    except Exception:  # a missing, stale, truncated, foreign or ill-shaped entry: parse the file instead
        return None


def write_entry(entry: Path, recipe: Recipe) -> None:
    """Store *recipe* in *entry*, atomically; a failure leaves the cache as it was."""
    sources = [os.path.abspath(recipe.path)]
    sources += [os.path.abspath(p) for p in _included_paths(recipe) if os.path.abspath(p) not in sources]
    temporary = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = marshal.dumps((_stamp(sources), to_data(recipe)))
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, entry)
    except (OSError, ValueError):  # ValueError: a value marshal cannot store (left uncached)
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _included_paths(recipe: Recipe) -> list[str]:
    found = []
    for step in recipe.steps:
        if step.include is not None:
            found.append(step.include.recipe.path)
            found.extend(_included_paths(step.include.recipe))
    return found
