"""netbench replay's output: live lines on a terminal, --json, --junit-xml, usage errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support.cli import run_main

PASSING = 'netbench: 1\nname: passes\nlab: echo\nsteps:\n  - send: "a\\n"\n    expect: {line: a}\n'
FAILING = 'netbench: 1\nname: fails\nlab: echo\nsteps:\n  - send: "a\\n"\n    expect: {line: b}\n'


def cli(*argv: str, tty: bool = False) -> tuple[int, str, str]:
    return run_main(argv, tty=tty, environ={"NO_COLOR": "1"})


def two_recipes(tmp_path: Path) -> Path:
    (tmp_path / "a.recipe.yaml").write_text(PASSING)
    (tmp_path / "b.recipe.yaml").write_text(FAILING)
    (tmp_path / "notes.txt").write_text("not a recipe")
    return tmp_path


def test_terminal_shows_progress_step_lines_and_a_summary(tmp_path: Path) -> None:
    status, out, _ = cli("replay", str(two_recipes(tmp_path)), tty=True)
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == f"[1/2] {tmp_path / 'a.recipe.yaml'}"
    assert lines[1].startswith("  ok       1/1  send \"a\\n\" -> expect line \"a\" (")
    assert any(line.startswith("PASS passes (1 steps") for line in lines)
    assert f"[2/2] {tmp_path / 'b.recipe.yaml'}" in lines
    assert any(line.startswith("  FAIL     1/1  send") for line in lines)
    assert "FAIL fails" in lines
    assert lines[-1].startswith("1 passed, 1 failed in ")


def test_json_document(tmp_path: Path) -> None:
    status, out, _ = cli("replay", "--json", str(two_recipes(tmp_path)))
    assert status == 1
    document = json.loads(out)
    assert (document["status"], document["passed"], document["failed"], document["invalid"]) == (1, 1, 1, 0)
    failed = document["recipes"][1]
    assert failed["name"] == "fails" and failed["status"] == 1 and not failed["ok"]
    step = failed["steps"][0]
    assert (step["index"], step["line"], step["expected"], step["received"]) == (1, 5, "b", "a")


def test_junit_xml_report(tmp_path: Path) -> None:
    report = tmp_path / "out" / "junit.xml"
    report.parent.mkdir()
    status, _, _ = cli("replay", str(two_recipes(tmp_path)), "--junit-xml", str(report))
    assert status == 1
    suite = ET.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["passes"].find("failure") is None
    failure = cases["fails"].find("failure")
    assert failure is not None and "step 1 of 1 failed: the line differs" in (failure.text or "")


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv, words in (
        (("replay", str(empty)), "no *.recipe.yaml files"),
        (("replay", str(two_recipes(tmp_path)), "--var", "novalue"), "expected NAME=VALUE"),
        (("replay", str(tmp_path), "-w", "0"), "--timeout must be more than 0"),
        (("serve", str(tmp_path / "a.recipe.yaml"), "--listen", "127.0.0.1:99999"), "out of range"),
    ):
        status, _, err = cli(*argv)
        assert status == 2, argv
        assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_the_example_recipes_pass_through_the_command_line() -> None:
    recipes = Path(__file__).resolve().parent.parent / "recipes"
    status, out, err = cli("replay", "--json", str(recipes))
    document = json.loads(out)
    assert status == 0, out + err
    assert document["passed"] == len(list(recipes.glob("*.recipe.yaml"))) >= 7
