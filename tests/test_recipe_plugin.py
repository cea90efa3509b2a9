"""The pytest plugin, driven by pytester: pass, fail, invalid, -k, -x, junit, options, xdist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from netbench.lab import Lab, running
from netbench.recipe import engine, load

# Imported before pytester's in-process runs snapshot sys.modules: PyYAML's C
# extension cannot be imported a second time cleanly once the snapshot drops it.
assert engine and load

pytest_plugins = ["pytester"]

PASSING = """\
netbench: 1
name: echo passes
lab: echo
steps:
  - send: "hello\\r\\n"
    expect: {line: hello}
"""

FAILING = """\
netbench: 1
name: echo fails
lab: echo
steps:
  - send: "hello\\r\\n"
    expect: {line: goodbye}
"""

INVALID = """\
netbench: 1
name: broken
steps:
  - sendd: x
"""

NO_TARGET = """\
netbench: 1
name: aimed from outside
steps:
  - send: "${word}\\n"
    expect: {line: "${word}"}
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("echo") as lab:
        yield lab


def test_pass_fail_and_invalid_are_reported(pytester: pytest.Pytester) -> None:
    pytester.makefile(".recipe.yaml", good=PASSING, bad=FAILING, broken=INVALID)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1, failed=2)
    text = result.stdout.str()
    assert "good.recipe.yaml::echo passes PASSED" in text
    assert "bad.recipe.yaml:5: step 1 of 1 failed: the line differs" in text
    assert "-goodbye" in text and "+hello" in text
    assert "invalid recipe:" in text and "broken.recipe.yaml:4: step 1: unknown key 'sendd'" in text
    assert "Traceback" not in text and "netbench/recipe" not in text


def test_k_selects_by_recipe_name_and_x_stops(pytester: pytest.Pytester) -> None:
    pytester.makefile(".recipe.yaml", good=PASSING, bad=FAILING)
    pytester.runpytest("-p", "no:cacheprovider", "-k", "passes").assert_outcomes(passed=1, deselected=1)
    stopped = pytester.runpytest("-p", "no:cacheprovider", "-x", "-p", "no:randomly")
    stopped.assert_outcomes(failed=1)


def test_junit_xml_names_each_recipe(pytester: pytest.Pytester) -> None:
    pytester.makefile(".recipe.yaml", good=PASSING, bad=FAILING)
    pytester.runpytest("-p", "no:cacheprovider", "--junitxml=report.xml").assert_outcomes(passed=1, failed=1)
    xml = (pytester.path / "report.xml").read_text()
    assert 'name="echo passes"' in xml and 'name="echo fails"' in xml
    assert "step 1 of 1 failed" in xml


def test_target_from_option_environment_and_ini(pytester: pytest.Pytester, lab: Lab) -> None:
    pytester.makefile(".recipe.yaml", aimed=NO_TARGET)
    address = lab["echo"].address
    base = ("-p", "no:cacheprovider", "--netbench-var", "word=hi")
    pytester.runpytest(*base).assert_outcomes(failed=1)  # no target at all
    pytester.runpytest(*base, "--netbench-target", address).assert_outcomes(passed=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETBENCH_TARGET", address)
        pytester.runpytest(*base).assert_outcomes(passed=1)
    pytester.makeini(f"[pytest]\nnetbench_target = {address}\n")
    pytester.runpytest(*base).assert_outcomes(passed=1)
    missing_var = pytester.runpytest("-p", "no:cacheprovider")
    missing_var.assert_outcomes(failed=1)
    assert "undefined variable ${word}" in missing_var.stdout.str()
    bad_name = pytester.runpytest("-p", "no:cacheprovider", "--netbench-var", "9word=hi")
    assert "--netbench-var '9word=hi': expected NAME=VALUE" in bad_name.stdout.str() + bad_name.stderr.str()
    assert bad_name.ret != 0


def test_runs_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makefile(".recipe.yaml", one=PASSING, two=PASSING.replace("passes", "passes too"), bad=FAILING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=2, failed=1)
