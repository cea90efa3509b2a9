"""Invalid recipes: exit status 2 with file:line and one clear line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from netbench.errors import RecipeError
from netbench.recipe.load import load_recipe, loads
from tests.support.cli import run_main

HEAD = "netbench: 1\nname: bad\n"

# (text, line of the problem, words the message must contain)
CORPUS = [
    ("", 1, "empty file"),
    ("name: x\nsteps: [{send: a}]\n", 1, "netbench: 1"),
    ("netbench: 2\nsteps: [{send: a}]\n", 1, "newer than this netbench"),
    ("netbench: one\nsteps: [{send: a}]\n", 1, "format version"),
    ("netbench: 1\nsteps:\n  - send: [unclosed\n", 4, "invalid YAML"),
    ("netbench: 1\n  bad indentation: here\nsteps: []\n", 2, "invalid YAML"),
    ("- just\n- a list\n", 1, "must be a mapping"),
    (HEAD + "stepz: []\n", 3, "did you mean 'steps'"),
    (HEAD, 1, "no steps"),
    (HEAD + "steps: []\n", 3, "steps is empty"),
    (HEAD + "steps: {send: a}\n", 3, "steps must be a list"),
    (HEAD + "steps:\n  - sendd: x\n", 4, "did you mean 'send'"),
    (HEAD + "steps:\n  - send: a\n    http: {url: /}\n", 5, "both 'send' and 'http'"),
    (HEAD + "steps:\n  - timeout: 3\n", 4, "does nothing"),
    (HEAD + "steps:\n  - send: a\n    expect: {line: x, contains: y}\n", 5, "both 'contains' and 'line'"),
    (HEAD + "steps:\n  - send: a\n    expect: {status: 200, line: x}\n", 5, "cannot go with"),
    (HEAD + "steps:\n  - send: a\n    expect: {status: 2000}\n", 5, "HTTP status"),
    (HEAD + "steps:\n  - send: a\n    expect: {regex: '(unclosed'}\n", 5, "invalid regular expression"),
    (HEAD + "steps:\n  - send_hex: 'zz 01'\n", 4, "invalid hex"),
    (HEAD + "steps:\n  - close: sideways\n", 4, "'write'"),
    (HEAD + "steps:\n  - sleep: soon\n", 4, "number of seconds"),
    (HEAD + "steps:\n  - send: a\n    timeout: -1\n", 5, "more than 0"),
    (HEAD + "steps:\n  - send: yes\n", 4, "quote it"),
    (HEAD + "steps:\n  - send: a\n    capture: {x: {header: ETag}}\n", 5, "capture needs"),
    (HEAD + "steps:\n  - http: {url: /}\n    capture: {x: {nothing: 1}}\n", 5, "unknown key"),
    (HEAD + "steps:\n  - http: {method: GET}\n", 4, "needs a url"),
    (HEAD + "target: 'nowhere'\nsteps:\n  - send: a\n", 3, "missing port"),
    (HEAD + "lab: gopher\nsteps:\n  - send: a\n", 3, "unknown service"),
    (HEAD + "vars: {1x: a}\nsteps:\n  - send: a\n", 3, "not a valid name"),
    (HEAD + "timeout: 1\ntimeout: 2\nsteps:\n  - send: a\n", 4, "given twice"),
    (HEAD + "steps:\n  - send: !!python/object/apply:os.system ['true']\n", 4, "unsupported YAML tag"),
]


@pytest.mark.parametrize(("text", "line", "words"), CORPUS)
def test_malformed_recipe_is_exit_2_with_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "bad.recipe.yaml"
    path.write_text(text)
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert caught.value.line == line, str(caught.value)
    assert words in str(caught.value)
    status, _, message = run_main(["replay", str(path)])
    assert status == 2
    assert message.startswith(f"netbench: {path}:{line}: ")
    assert message.count("\n") == 1 and "Traceback" not in message


def test_binary_file_and_missing_file_are_exit_2(tmp_path: Path) -> None:
    binary = tmp_path / "bin.recipe.yaml"
    binary.write_bytes(b"netbench: 1\nsteps:\n  - send: \xff\xfe\n")
    missing = tmp_path / "missing.recipe.yaml"
    for path, words in ((binary, "bin.recipe.yaml:3: not UTF-8"), (missing, "cannot read recipe")):
        status, _, err = run_main(["replay", str(path)])
        assert status == 2
        assert words in err


def test_valid_recipe_loads_with_lines_and_defaults() -> None:
    recipe = loads(
        'netbench: 1\nlab: echo\nsteps:\n  - send: "a\\r\\n"\n  - expect: {line: a}\n    timeout: 2\n',
        "dir/hello.recipe.yaml",
    )
    assert recipe.name == "hello"
    assert [step.line for step in recipe.steps] == [4, 5]
    assert recipe.steps[0].send == b"a\r\n"
    assert recipe.steps[1].timeout == 2.0
    assert recipe.timeout == 5.0
