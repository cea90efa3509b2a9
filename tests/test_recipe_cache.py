"""The parsed-recipe cache: used when valid, ignored when stale, broken, foreign or hostile."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pytest

from netbench.recipe.cache import load_cached
from netbench.recipe.load import load_recipe

RECIPE = (
    "netbench: 1\nname: cached\ntarget: tcp://127.0.0.1:7\n"
    "steps:\n  - send: 'hi'\n    expect: {contains: hi}\n"
)


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache")}


def entries(environ: dict[str, str]) -> list[Path]:
    directory = Path(environ["XDG_CACHE_HOME"]) / "netbench" / "recipes"
    return sorted(directory.iterdir()) if directory.exists() else []


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_an_unchanged_file_comes_from_the_cache(tmp_path: Path, environ: dict[str, str]) -> None:
    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    first = load_cached(path, environ)
    (entry,) = entries(environ)
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    assert oct(entry.parent.stat().st_mode & 0o777) == "0o700"
    stamp = entry.stat().st_mtime_ns
    second = load_cached(path, environ)
    assert first == second == load_recipe(path)
    assert second.path == str(path)
    assert entry.stat().st_mtime_ns == stamp  # read, not written again


def test_a_changed_file_is_parsed_again_even_with_the_same_size(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    load_cached(path, environ)
    write(path, RECIPE.replace("'hi'", "'yo'").replace("hi}", "yo}"))
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    assert load_cached(path, environ).steps[0].send == b"yo"


def test_a_changed_include_makes_the_entry_stale(tmp_path: Path, environ: dict[str, str]) -> None:
    write(tmp_path / "part.recipe.yaml", RECIPE)
    main = write(
        tmp_path / "main.recipe.yaml", RECIPE.replace("steps:\n", "steps:\n  - include: part.recipe.yaml\n")
    )
    load_cached(main, environ)
    write(tmp_path / "part.recipe.yaml", RECIPE.replace("'hi'", "'included changed'"))
    loaded = load_cached(main, environ)
    assert loaded == load_recipe(main)
    assert loaded.steps[0].include is not None
    assert loaded.steps[0].include.recipe.steps[0].send == b"included changed"


@pytest.mark.parametrize(
    "garbage", [b"", b"\x80\x05garbage", b"not a pickle at all", pickle.dumps(("x",) * 3)]
)
def test_a_broken_entry_is_ignored_and_replaced(
    tmp_path: Path, environ: dict[str, str], garbage: bytes
) -> None:
    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    load_cached(path, environ)
    (entry,) = entries(environ)
    entry.write_bytes(garbage)
    assert load_cached(path, environ) == load_recipe(path)
    assert entry.read_bytes() != garbage


class _Boom:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (self.marker,))


def test_a_hostile_entry_runs_no_code(tmp_path: Path, environ: dict[str, str]) -> None:
    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    load_cached(path, environ)
    (entry,) = entries(environ)
    marker = tmp_path / "pwned"
    entry.write_bytes(pickle.dumps(_Boom(str(marker))) * 2)
    assert load_cached(path, environ) == load_recipe(path)
    assert not marker.exists()


def test_an_entry_others_may_write_is_not_trusted(tmp_path: Path, environ: dict[str, str]) -> None:
    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    load_cached(path, environ)
    (entry,) = entries(environ)
    other = write(tmp_path / "b.recipe.yaml", RECIPE.replace("cached", "other"))
    load_cached(other, environ)  # an entry holding another recipe, valid for b only
    entry_b = next(e for e in entries(environ) if e != entry)
    entry.write_bytes(entry_b.read_bytes())  # b's entry in a's place: the stamp names b
    assert load_cached(path, environ).name == "cached"
    os.chmod(entry, 0o666)
    assert load_cached(path, environ).name == "cached"


def test_invalid_recipes_are_not_cached_and_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    from netbench.errors import RecipeError

    bad = write(tmp_path / "bad.recipe.yaml", "netbench: 1\nsteps: 7\n")
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    with pytest.raises(RecipeError):
        load_cached(bad, environ)
    assert entries(environ) == []
    good = write(tmp_path / "good.recipe.yaml", RECIPE)
    load_cached(good, {**environ, "NETBENCH_RECIPE_CACHE": "off"})
    assert entries(environ) == []


def test_replay_fills_the_cache_from_its_environment(tmp_path: Path) -> None:
    from tests.support.cli import run_main

    path = write(tmp_path / "a.recipe.yaml", RECIPE.replace("tcp://127.0.0.1:7", "unix:/nonexistent/sock"))
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = run_main(["replay", "-q", str(path)], environ=environ)
    assert first[0] == 3, first  # no such socket: refused, after loading the recipe
    assert len(entries(environ)) == 1
    again = run_main(["replay", "-q", str(path)], environ=environ)
    assert again[0] == first[0] and again[1].splitlines()[:-1] == first[1].splitlines()[:-1]  # but the time


def _stamp_and_data(entry: Path) -> tuple[tuple, tuple]:
    import marshal

    stamp, data = marshal.loads(entry.read_bytes())
    return stamp, data


@pytest.mark.parametrize("part", ["format", "version", "interpreter"])
def test_an_entry_written_by_another_format_version_or_python_is_ignored(
    tmp_path: Path, environ: dict[str, str], part: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import marshal

    import netbench
    from netbench.recipe import cache

    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    load_cached(path, environ)
    (entry,) = entries(environ)
    stamp, data = _stamp_and_data(entry)
    assert stamp[:3] == (cache.FORMAT, netbench.__version__, sys.implementation.cache_tag)
    index = ["format", "version", "interpreter"].index(part)
    foreign = (*stamp[:index], "other", *stamp[index + 1 :])
    # the other writer's entry says the file holds another recipe: it must not be believed
    lying = list(data)
    lying[0] = "from another netbench"
    entry.write_bytes(marshal.dumps((foreign, tuple(lying))))
    assert load_cached(path, environ).name == "cached"
    assert _stamp_and_data(entry)[0] == stamp  # written again by this one
    entry.write_bytes(marshal.dumps((stamp, tuple(lying))))  # the same entry with our stamp: used
    assert load_cached(path, environ).name == "from another netbench"


def test_a_pickle_entry_of_the_old_cache_is_ignored(tmp_path: Path, environ: dict[str, str]) -> None:
    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    recipe = load_cached(path, environ)
    (entry,) = entries(environ)
    stamp, _ = _stamp_and_data(entry)
    entry.write_bytes(pickle.dumps(((1, *stamp[1:2], *stamp[3:]), recipe.replace(name="old")), protocol=5))
    assert load_cached(path, environ) == load_recipe(path)
    assert load_cached(path, environ).name == "cached"


@pytest.mark.parametrize(
    "body",
    [
        (),
        ("x",) * 11,  # the right length, steps not a tuple of steps
        ("n", (("bad",),), None, None, (), 5.0, None, None, True, 1, ""),
        ["not", "a", "tuple"],
        None,
    ],
)
def test_an_entry_of_the_wrong_shape_is_ignored(
    tmp_path: Path, environ: dict[str, str], body: object
) -> None:
    import marshal

    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    load_cached(path, environ)
    (entry,) = entries(environ)
    stamp, _ = _stamp_and_data(entry)
    entry.write_bytes(marshal.dumps((stamp, body)))
    assert load_cached(path, environ) == load_recipe(path)
    assert _stamp_and_data(entry)[1] != body  # replaced by a good entry


def test_code_in_an_entry_is_never_run(tmp_path: Path, environ: dict[str, str]) -> None:
    import marshal

    path = write(tmp_path / "a.recipe.yaml", RECIPE)
    load_cached(path, environ)
    (entry,) = entries(environ)
    stamp, data = _stamp_and_data(entry)
    marker = tmp_path / "pwned"
    code = compile(f"import os; os.mkdir({str(marker)!r})", "<hostile>", "exec")
    for hostile in (code, (stamp, code), (code, data)):  # not an entry: parsed again
        entry.write_bytes(marshal.dumps(hostile))
        assert load_cached(path, environ) == load_recipe(path)
        assert not marker.exists()
    # a code object where a value goes (our stamp: the user's own file) is data, never called
    entry.write_bytes(marshal.dumps((stamp, (code, *data[1:]))))
    repr(load_cached(path, environ))
    assert not marker.exists()


def test_a_recipe_marshal_cannot_store_is_run_uncached(tmp_path: Path, environ: dict[str, str]) -> None:
    from netbench.recipe.cache import cache_dir, write_entry
    from netbench.recipe.model import Expect, Recipe, Step, ValueCheck

    odd = Recipe(
        "odd",
        (Step(expect=Expect(json=(ValueCheck("$.a", (("equal", object()),)),))),),
        path=str(tmp_path / "odd.recipe.yaml"),
    )
    directory = cache_dir(environ)
    assert directory is not None
    write_entry(directory / "odd.bin", odd)  # no error, and nothing left behind
    assert entries(environ) == []


def test_the_cached_form_gives_back_every_field(tmp_path: Path) -> None:
    from netbench.recipe.cacheform import from_data, to_data

    part = write(tmp_path / "part.recipe.yaml", RECIPE)
    main = write(
        tmp_path / "main.recipe.yaml",
        "netbench: 1\nname: all\ntarget: tls://127.0.0.1:7\ntimeout: 2\ncookies: false\n"
        "description: every field\nvars: {a: '1'}\ntls: {insecure: true, sni: x.example}\n"
        "steps:\n"
        f"  - include: {part.name}\n"
        "  - http: {method: POST, url: /x, headers: {X-A: b}, body: hi}\n"
        "    expect:\n      status: 200\n      headers: {Content-Type: {contains: json}}\n"
        "      body: {regex: 'a+'}\n      json: {$.a: 1, $.b: {type: array, length: 2}}\n"
        "      cookies: {sid: {exists: true}}\n      time: {max: 2s}\n"
        "    capture: {etag: {header: ETag}, s: {status: true}, g: {regex: '(a)', group: 1}}\n"
        "    retry: {times: 3, interval: 0.5}\n    name: posting\n"
        '  - send: "x\\n"\n    expect: {line: x, closed: true}\n    timeout: 1\n    reply: "y\\n"\n'
        "  - close: write\n  - sleep: 0.1\n  - expect: {bytes: 3}\n",
    )
    recipe = load_recipe(main)
    back = from_data(to_data(recipe))
    assert back == recipe and back.path == recipe.path
    assert [s.line for s in back.steps] == [s.line for s in recipe.steps]
    assert back.steps[0].include is not None and recipe.steps[0].include is not None
    assert back.steps[0].include.recipe.path == recipe.steps[0].include.recipe.path
    assert repr(back) == repr(recipe)
