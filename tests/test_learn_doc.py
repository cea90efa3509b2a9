"""docs/learn.md runs as written: every command in its ``sh`` blocks, against a real lab.

The guide uses fixed ports (7025 smtp, 7079 redis, 7011 memcached, 7053 dns,
7023 telnet); the test starts the lab on free ports and puts those in their
place. ``netbench`` and ``python`` in the commands run this interpreter's
netbench. Each command must exit 0 and print every output line the guide
shows after it (``...`` stands for anything; a line may carry a prefix, as
the REPL's ``<-``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from netbench.lab import Lab, running

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "learn.md"
PORTS = {"smtp": 7025, "redis": 7079, "memcached": 7011, "dns": 7053, "telnet": 7023}
TIMEOUT = 60.0


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    output: tuple[str, ...]


def examples(text: str) -> list[Example]:
    """The ``$ `` commands of the ``sh`` blocks, each with the output lines shown under it."""
    found: list[Example] = []
    inside = False
    current: tuple[int, str, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if inside and current is not None:
                found.append(Example(current[0], current[1], tuple(current[2])))
                current = None
            inside = line.strip() == "```sh"
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            if current is not None:
                found.append(Example(current[0], current[1], tuple(current[2])))
            current = (number, line[2:], [])
        elif current is not None and line.strip():
            current[2].append(line)
    return found


def test_the_guide_has_runnable_examples_for_every_protocol() -> None:
    commands = "\n".join(example.command for example in examples(DOC.read_text(encoding="utf-8")))
    for port in PORTS.values():
        assert str(port) in commands
    for recipe in ("smtp-delivery", "redis-session", "memcached-cas", "dns-query", "telnet-login"):
        assert f"netbench replay recipes/{recipe}.recipe.yaml" in commands
        assert (ROOT / "recipes" / f"{recipe}.recipe.yaml").exists()


def test_the_extractor_reads_commands_and_their_output() -> None:
    text = "```sh\n$ echo a\na\n$ true\n```\n```console\n$ rm -rf /\n```\n"
    assert examples(text) == [Example(2, "echo a", ("a",)), Example(4, "true", ())]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running(*PORTS) as servers:
        yield servers


def shims(directory: Path) -> dict[str, str]:
    """An environment whose ``netbench`` and ``python`` are this interpreter's."""
    directory.mkdir()
    for name, line in (
        ("netbench", f'exec "{sys.executable}" -m netbench "$@"'),
        ("python", f'exec "{sys.executable}" "$@"'),
    ):
        path = directory / name
        path.write_text(f"#!/bin/sh\n{line}\n", encoding="utf-8")
        path.chmod(0o755)
    return {**os.environ, "PATH": f"{directory}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}


def pattern(shown: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in shown.rstrip().split("...")))


def test_every_command_in_the_guide_runs_as_written(lab: Lab, tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("the guide's printf commands need bash")
    env = shims(tmp_path / "bin")
    work = tmp_path / "work"
    work.mkdir()
    (work / "recipes").symlink_to(ROOT / "recipes")
    swap = {str(port): str(lab[name].port) for name, port in PORTS.items()}
    ports = re.compile(r"\b(" + "|".join(swap) + r")\b")

    def aimed(text: str) -> str:
        return ports.sub(lambda match: swap[match.group(1)], text)

    for example in examples(DOC.read_text(encoding="utf-8")):
        done = subprocess.run(
            ["bash", "-c", aimed(example.command)],
            cwd=work,
            env=env,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
        where = f"docs/learn.md:{example.line}: {example.command}"
        out = (done.stdout + done.stderr).decode("utf-8", "replace")
        assert done.returncode == 0, f"{where}\nexit {done.returncode}\n{out}"
        lines = [line.rstrip() for line in out.replace("\r", "").splitlines()]
        for shown in example.output:
            wanted = pattern(aimed(shown))
            assert any(wanted.search(line) for line in lines), f"{where}\nmissing: {shown!r}\ngot:\n{out}"
