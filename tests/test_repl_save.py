"""/save never replaces a file unless told, names recipes *.recipe.yaml, and refuses an empty session
(issue 12, item 9); the file it writes replays green."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench.lab import Lab, running
from tests.support.cli import run_main


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("echo") as started:
        yield started


def repl(script: str, *args: str) -> tuple[int, str, str]:
    return run_main(["repl", *args], stdin=script, state_dir=Path("/nonexistent-netbench-state"))


def test_save_adds_the_suffix_refuses_to_replace_and_replaces_when_told(lab: Lab, tmp_path: Path) -> None:
    target = f"127.0.0.1:{lab['echo'].port}"
    mine = tmp_path / "hello.recipe.yaml"
    mine.write_text("precious\n")
    status, out, err = repl(f"hi\n/wait hi 3\n/save {tmp_path}/hello\n/save {tmp_path}/hello.yaml\n", target)
    assert status == 0
    assert err.count("hello.recipe.yaml exists: not replaced (/save! ") == 2
    assert mine.read_text() == "precious\n"  # untouched
    status, out, err = repl(
        f"hi\n/wait hi 3\n/save! {tmp_path}/hello\n/save --force {tmp_path}/other\n", target
    )
    assert status == 0, err
    assert f"saved {tmp_path}/hello.recipe.yaml" in out and f"saved {tmp_path}/other.recipe.yaml" in out
    assert "precious" not in mine.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hello.recipe.yaml",
        "other.recipe.yaml",
    ]  # no temp files
    status, out, err = run_main(["replay", str(mine)], state_dir=Path("/nonexistent-netbench-state"))
    assert status == 0, out + err


def test_an_empty_session_is_not_saved(lab: Lab, tmp_path: Path) -> None:
    status, _out, err = repl(f"/save {tmp_path}/empty\n", f"127.0.0.1:{lab['echo'].port}")
    assert status == 0
    assert "[1] nothing to save: nothing was sent or received on this session yet" in err
    assert list(tmp_path.iterdir()) == []


def test_save_bang_writes_through_a_symlink_to_its_target(lab: Lab, tmp_path: Path) -> None:
    real = tmp_path / "real.recipe.yaml"
    real.write_text("old\n")
    link = tmp_path / "link.recipe.yaml"
    os.symlink(real, link)
    status, _out, err = repl(f"hi\n/wait hi 3\n/save! {link}\n", f"127.0.0.1:{lab['echo'].port}")
    assert status == 0, err
    assert link.is_symlink() and "send:" in real.read_text()  # the link stays a link; its target is replaced


def test_bang_only_means_force_for_save(lab: Lab) -> None:
    status, _out, err = repl("/open! x\n", f"127.0.0.1:{lab['echo'].port}")
    assert status == 0
    assert "unknown command /open!" in err
