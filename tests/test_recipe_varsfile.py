"""--vars-file on serve and --netbench-vars-file in the pytest plugin (issue 13): --var wins over the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from netbench import replay
from netbench.recipe import engine, load

from .test_recipe_serve import serve_process

assert engine and load  # imported before pytester snapshots sys.modules (see test_recipe_plugin)

pytest_plugins = ["pytester"]

ECHO = """\
netbench: 1
name: echo a word
lab: echo
vars: {word: recipe}
steps:
  - send: "${word}\\n"
    expect: {line: "${expected}"}
"""


def test_pytest_plugin_reads_a_vars_file(pytester: pytest.Pytester) -> None:
    pytester.makefile(".recipe.yaml", echo=ECHO)
    varsfile = pytester.path / "vars.yaml"
    varsfile.write_text("word: file\nexpected: file\n")
    base = ("-p", "no:cacheprovider", "--netbench-vars-file", str(varsfile))
    pytester.runpytest(*base).assert_outcomes(passed=1)
    pytester.runpytest(*base, "--netbench-var", "word=cli").assert_outcomes(failed=1)  # expected stays "file"
    pytester.runpytest(*base, "--netbench-var", "word=cli", "--netbench-var", "expected=cli").assert_outcomes(
        passed=1
    )
    varsfile.write_text("[not, a, mapping]\n")
    result = pytester.runpytest(*base)
    assert "vars.yaml:1" in result.stdout.str() + result.stderr.str()


def test_serve_reads_a_vars_file(tmp_path: Path) -> None:
    recipe = tmp_path / "served.recipe.yaml"
    recipe.write_text(
        "netbench: 1\nname: served\ntarget: 127.0.0.1:1\nsteps:\n"
        '  - send: "${word}\\n"\n    reply: "${answer}\\n"\n    expect: {line: "${answer}"}\n'
    )
    varsfile = tmp_path / "vars.yaml"
    varsfile.write_text("word: ping\nanswer: pong\n")
    with serve_process(str(recipe), "--vars-file", str(varsfile)) as (process, first_line):
        address = first_line.split()[-1]
        result = replay(recipe, target=address, vars={"word": "ping", "answer": "pong"})
        assert result.ok, result.report()
        assert process.wait(10) == 0


def test_the_vars_file_is_shared_by_every_recipe_of_a_run_but_captures_are_not(
    pytester: pytest.Pytester,
) -> None:
    capturing = ECHO.replace("echo a word", "captures").replace(
        '    expect: {line: "${expected}"}\n',
        '    expect: {line: "${expected}"}\n    capture: {leak: {regex: "(f)ile"}}\n',
    )
    using = ECHO.replace("echo a word", "sees no capture").replace('"${word}\\n"', '"${leak}\\n"')
    pytester.makefile(".recipe.yaml", a=capturing, b=ECHO, c=using)
    varsfile = pytester.path / "vars.yaml"
    varsfile.write_text("word: file\nexpected: file\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--netbench-vars-file", str(varsfile))
    result.assert_outcomes(passed=2, failed=1)
    assert "undefined variable ${leak}" in result.stdout.str()
