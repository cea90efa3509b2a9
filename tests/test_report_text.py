"""Text from a recipe file (name, step names, file path) never reaches a terminal raw.

A hostile recipe names itself and its steps with control sequences and bidi
characters; ``replay``'s step lines, progress, failure report and summary,
the JUnit XML and the pytest plugin's item names must show them escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from netbench.recipe import engine, load
from tests.support.cli import run_main

assert engine and load  # imported before pytester snapshots sys.modules (PyYAML's C loader)

pytest_plugins = ["pytester"]

RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u200b")

EVIL_RECIPE = """\
netbench: 1
name: "evil \\e[2J\\e]0;owned\\a \\u202e name \\N"
lab: echo
steps:
  - name: "wipe \\e[2J\\e[31m step \\u2066 \\u200b"
    send: "hello\\r\\n"
    expect: {line: hello}
  - name: "bell \\a\\x9b31m"
    send: "hello\\r\\n"
    expect: {line: "good\\ebye"}
    timeout: 2
"""


def _assert_no_raw(text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the terminal raw"


def _evil_file(directory: Path) -> Path:
    path = directory / "evil\x1b[2J\u202e.recipe.yaml"
    path.write_text(EVIL_RECIPE, encoding="utf-8")
    return path


@pytest.mark.parametrize("extra", [[], ["-q"]])
def test_replay_escapes_recipe_names_step_names_and_paths(tmp_path: Path, extra: list[str]) -> None:
    path = _evil_file(tmp_path)
    other = tmp_path / "plain.recipe.yaml"
    other.write_text(EVIL_RECIPE.replace("good\\ebye", "hello"), encoding="utf-8")
    status, out, err = run_main(
        ["replay", *extra, str(path), str(other)], tty=True, environ={"NO_COLOR": "1"}
    )
    assert status == 1, out + err
    _assert_no_raw(out + err)
    assert "\\x1b[2J" in out  # shown, escaped: the name, a step name, the path
    assert "\\u202e" in out
    if not extra:
        assert "wipe \\x1b[2J\\x1b[31m step \\u2066 \\u200b" in out  # a live step line
    assert "1 passed, 1 failed" in out


def test_replay_json_keeps_names_exact(tmp_path: Path) -> None:
    import json

    path = _evil_file(tmp_path)
    status, out, _err = run_main(["replay", "--json", str(path)], tty=True, environ={"NO_COLOR": "1"})
    assert status == 1
    _assert_no_raw(out)  # json.dumps escapes them itself
    (result,) = json.loads(out)["recipes"]
    assert result["name"] == "evil \x1b[2J\x1b]0;owned\x07 \u202e name \x85"


def test_pytest_item_names_are_escaped(pytester: pytest.Pytester) -> None:
    (pytester.path / "evil.recipe.yaml").write_text(EVIL_RECIPE, encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider", "-v", "-rA")
    _assert_no_raw(result.stdout.str() + result.stderr.str())
    result.stdout.fnmatch_lines(["*evil \\x1b[[]2J*FAILED*"])


# -- JUnit XML is always well-formed ------------------------------------------------------------

HOSTILE_NAMES = [
    "evil \x1b[2J\x07 \x00 nul",
    "bidi \u202e right \u2066 \u200b",
    "lone surrogate \ud800 and \udcff",  # a YAML "\ud800" escape; a file name that was not UTF-8
    "non-characters \ufffe \uffff",
    "C1 \x85 \x9b",
    "fine: caf\u00e9 \U0001f600 <&>\"'",
]


def _results(name: str) -> list:  # type: ignore[type-arg]
    from netbench.recipe.result import Result, StepResult
    from netbench.status import ExitStatus

    failed = StepResult(
        1, 4, f"step {name}", False, ExitStatus.EXPECTATION_FAILED, f"expected {name}", b"x", b"\x1b\x00y"
    )
    broken = StepResult(0, 2, "connect", False, ExitStatus.REFUSED, f"refused: {name}")
    ok = StepResult(1, 4, name, True)
    return [
        Result(
            name, f"/r/{name}.recipe.yaml", f"tcp://{name}:1", (failed,), ExitStatus.EXPECTATION_FAILED, 1
        ),
        Result(name, f"/r/{name}.recipe.yaml", "tcp://127.0.0.1:1", (broken,), ExitStatus.REFUSED, 1),
        Result(name, name, "tcp://127.0.0.1:1", (ok,), ExitStatus.OK, 1),
    ]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_junit_xml_is_always_well_formed(name: str) -> None:
    from netbench.recipe.junit import to_junit

    document = to_junit(_results(name))
    root = ET.fromstring(document.encode("utf-8"))  # the bytes written to the file parse
    cases = root.findall("testcase")
    assert [case.get("name") for case in cases] == [cases[0].get("name")] * 3
    shown = cases[0].get("name") or ""
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) <= 0xDFFF for ch in shown)
    assert root.get("failures") == "1" and root.get("errors") == "1"
    failure = cases[0].find("failure")
    assert failure is not None and "expected" in (failure.get("message") or "")
    if name.startswith("fine"):
        assert shown == name  # nothing to escape: kept as it is (XML escapes <&> itself)


def test_replay_junit_xml_of_a_hostile_recipe_parses(tmp_path: Path) -> None:
    path = _evil_file(tmp_path)
    report = tmp_path / "junit.xml"
    status, _out, err = run_main(["replay", "-q", "--junit-xml", str(report), str(path)])
    assert status == 1, err
    root = ET.parse(report).getroot()
    (case,) = root.findall("testcase")
    assert (case.get("name") or "").startswith("evil \\x1b[2J\\x1b]0;owned\\x07 \\u202e name")
    assert case.find("failure") is not None
