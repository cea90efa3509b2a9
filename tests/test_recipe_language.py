"""The recipe test language, sans-IO (issue 13): load, model and match for the new keys.

expect.json / expect.cookies / expect.time, retry, capture cookie, include,
cookies: false, durations, and --vars-file. End-to-end runs are in
test_recipe_language_run.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netbench.errors import RecipeError
from netbench.recipe import jsonpath
from netbench.recipe.checks import check_cookies, check_json, check_time, same
from netbench.recipe.dump import dumps
from netbench.recipe.load import load_recipe, loads
from netbench.recipe.model import Retry, ValueCheck
from netbench.recipe.varsfile import load_vars_file, merge_vars
from netbench.recipe.yamlnode import parse_duration

HEAD = "netbench: 1\nname: t\ntarget: 127.0.0.1:1\n"
DOC = (
    b'{"items": [{"id": 7, "tags": ["cat", "dog"]}, {"id": 8}], "name": "Felix", "price": 12.5,'
    b' "total": 42, "deleted": null, "ok": true, "n": 1}'
)


def no_vars(text: str) -> str:
    return text


def json_failures(
    checks_yaml: str, body: bytes = DOC, content_type: str | None = "application/json"
) -> list[str]:
    recipe = loads(HEAD + f"steps:\n  - http: GET /\n    expect:\n      json:\n{checks_yaml}")
    expect = recipe.steps[0].expect
    assert expect is not None
    return [problem.message for problem in check_json(expect.json, body, content_type, no_vars)]


@pytest.mark.parametrize(
    "checks",
    [
        '        "$.items[0].id": 7\n',
        "        items.0.id: 7\n",
        '        "$.items[-1].id": 8\n',
        '        "$.items": {length: 2}\n',
        '        "$.name": {regex: "^Fel"}\n',
        '        "$.items[0].tags": {contains: cat}\n',
        '        "$.name": {contains: eli}\n',
        '        "$.missing": {exists: false}\n',
        '        "$.deleted": {exists: true, type: "null"}\n',
        '        "$.price": {type: number, gt: 10, le: 100, ne: 13}\n',
        '        "$.total": {type: integer, ge: 42, lt: 43}\n',
        '        "$.ok": true\n',
        '        "$.items[0].tags": [cat, dog]\n',
        '        "$.items[1]": {equal: {id: 8}}\n',
    ],
)
def test_json_checks_that_hold(checks: str) -> None:
    assert json_failures(checks) == []


@pytest.mark.parametrize(
    ("checks", "words"),
    [
        ('        "$.items[0].id": "7"\n', 'expected "7" (string), found 7 (number)'),
        ('        "$.n": true\n', "expected true (boolean), found 1 (number)"),
        ('        "$.ok": 1\n', "expected 1 (number), found true (boolean)"),
        ('        "$.items": {length: 3}\n', "expected length 3, found length 2"),
        ('        "$.name": {regex: "^Tom"}\n', 'expected a match for /^Tom/, found "Felix" (string)'),
        ('        "$.items[0].tags": {contains: cow}\n', 'containing "cow"'),
        ('        "$.name": {exists: false}\n', 'expected no value, found "Felix"'),
        ('        "$.price": {type: integer}\n', "expected type integer, found 12.5 (number)"),
        ('        "$.total": {gt: 50}\n', "expected > 50, found 42 (number)"),
        ('        "$.name": {lt: 5}\n', 'expected a number lt 5, found "Felix" (string)'),
        ('        "$.total": {ne: 42}\n', "expected anything but 42"),
    ],
)
def test_json_failures_show_what_was_found_beside_what_was_expected(checks: str, words: str) -> None:
    problems = json_failures(checks)
    assert len(problems) == 1 and words in problems[0], problems


def test_a_missing_path_names_the_nearest_existing_prefix() -> None:
    (problem,) = json_failures('        "$.items[0].owner.name": Ann\n')
    assert problem.startswith("json $.items[0].owner.name: not found")
    assert "no 'owner' in $.items[0], an object with keys: id, tags" in problem
    (problem,) = json_failures('        "$.items[5].id": 1\n')
    assert "index 5 out of range; $.items is an array of 2" in problem
    (problem,) = json_failures('        "$.name.first": 1\n')
    assert "$.name is a string, not an object or array" in problem


def test_a_body_that_is_not_json_says_so_with_its_content_type() -> None:
    (problem,) = json_failures('        "$.a": 1\n', b"<html>hi</html>", "text/html")
    assert problem == "body is not JSON (Content-Type text/html; 15 bytes)"
    (problem,) = json_failures('        "$.a": 1\n', b"", None)
    assert problem == "body is not JSON (no Content-Type; empty)"


def test_placeholders_in_expected_json_values_are_expanded() -> None:
    recipe = loads(
        HEAD
        + 'steps:\n  - http: GET /\n    expect:\n      json: {"$.items[0].id": "${id}", "$.name": "${who}"}\n'
    )
    expect = recipe.steps[0].expect
    assert expect is not None
    values = {"${id}": "7", "${who}": "Felix"}
    assert check_json(expect.json, DOC, None, lambda text: values.get(text, text)) == []
    values["${id}"] = "8"
    assert len(check_json(expect.json, DOC, None, lambda text: values.get(text, text))) == 1


def test_type_aware_equality() -> None:
    assert same(7, 7.0) and not same(7, "7") and not same(1, True) and not same(0, False)
    assert same([1, {"a": None}], [1, {"a": None}]) and not same([1], [1, 2])


def test_json_paths() -> None:
    assert jsonpath.parse("$.a.b[0]") == jsonpath.parse("a.b[0]") == ("a", "b", 0)
    assert jsonpath.parse('$["odd.key"][1]') == ("odd.key", 1)
    assert jsonpath.resolve({"a": {"b": [5]}}, "a.b.0") == 5
    with pytest.raises(jsonpath.PathError):
        jsonpath.parse("$.a[")


def test_cookie_checks() -> None:
    recipe = loads(
        HEAD + "steps:\n  - http: GET /\n    expect:\n"
        "      cookies: {session: {exists: true}, theme: dark, gone: {exists: false}}\n"
    )
    expect = recipe.steps[0].expect
    assert expect is not None and expect.is_http
    assert check_cookies(expect.cookies, {"session": "abc", "theme": "dark"}, no_vars) == []
    problems = [p.message for p in check_cookies(expect.cookies, {"theme": "light", "gone": "x"}, no_vars)]
    assert problems[0] == "cookie session: not found (cookies held: gone, theme)"
    assert 'cookie theme: expected "dark" (string), found "light" (string)' in problems
    assert 'cookie gone: expected no value, found "x" (string)' in problems


def test_time_check() -> None:
    recipe = loads(HEAD + "steps:\n  - http: GET /\n    expect: {time: {max: 500ms}}\n")
    expect = recipe.steps[0].expect
    assert expect is not None and expect.time_max == 0.5
    assert check_time(expect.time_max, 0.2) is None
    problem = check_time(expect.time_max, 0.75)
    assert problem is not None and problem.message == "time: took 750 ms, expected at most 500 ms"


@pytest.mark.parametrize(("text", "seconds"), [("250ms", 0.25), ("2s", 2.0), ("1.5", 1.5), ("0.5s", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    recipe = loads(
        HEAD + f"timeout: {text}\nsteps:\n  - sleep: {text}\n  - send: a\n    timeout: {text}\n"
        f"    expect: {{line: a, time: {{max: {text}}}}}\n    retry: {{times: 2, interval: {text}}}\n"
    )
    assert recipe.timeout == recipe.steps[0].sleep == recipe.steps[1].timeout == seconds
    assert recipe.steps[1].retry == Retry(2, seconds)


def test_retry_and_cookie_capture_and_cookies_off_load_and_round_trip(tmp_path: Path) -> None:
    text = (
        HEAD + "cookies: false\nsteps:\n"
        "  - http: {method: GET, url: /api/items}\n"
        "    retry: {times: 20, interval: 250ms}\n"
        "    expect:\n"
        "      status: 200\n"
        "      time: {max: 500ms}\n"
        "      json:\n"
        '        "$.items[0].id": 7\n'
        '        "$.items": {length: 3}\n'
        '        "$.tags": {contains: cat}\n'
        '        "$.total": {gt: 10, le: 100}\n'
        '        "$.obj": {equal: {a: [1, 2]}}\n'
        "      cookies: {session: {exists: true}}\n"
        '    capture: {id: {json: "$.items[0].id"}, sid: {cookie: session}}\n'
    )
    recipe = loads(text)
    assert not recipe.cookies
    step = recipe.steps[0]
    assert step.retry == Retry(20, 0.25)
    assert [(c.name, c.kind, c.arg) for c in step.capture] == [
        ("id", "json", "$.items[0].id"),
        ("sid", "cookie", "session"),
    ]
    assert step.expect is not None and step.expect.json[3] == ValueCheck("$.total", (("gt", 10), ("le", 100)))
    assert loads(dumps(recipe)) == recipe


LOAD_ERRORS = [
    ("steps:\n  - http: GET /\n    retry: {times: 3}\n", 6, "retry needs an expect"),
    ("steps:\n  - send: a\n    expect: {line: a}\n    retry: {times: 0}\n", 7, "1 to 1000"),
    ("steps:\n  - send: a\n    expect: {line: a}\n    retry: {times: 1001}\n", 7, "1 to 1000"),
    ("steps:\n  - send: a\n    expect: {line: a}\n    retry: {interval: 1s}\n", 7, "needs times"),
    ("steps:\n  - send: a\n    expect: {line: a}\n    retry: {times: 2, interval: soon}\n", 7, "duration"),
    ("steps:\n  - http: GET /\n    expect: {json: {'$.a': {lenght: 3}}}\n", 6, "did you mean 'length'"),
    ("steps:\n  - http: GET /\n    expect: {json: {'$.a': {type: float}}}\n", 6, "type must be one of"),
    ("steps:\n  - http: GET /\n    expect: {json: {'$.a': {gt: ten}}}\n", 6, "compares numbers"),
    ("steps:\n  - http: GET /\n    expect: {json: {'$.a': {exists: maybe}}}\n", 6, "true or false"),
    ("steps:\n  - http: GET /\n    expect: {json: {'$.a[': 1}}\n", 6, "cannot read"),
    (
        "steps:\n  - http: GET /\n    expect: {json: {'$.a': {regex: '(x'}}}\n",
        6,
        "invalid regular expression",
    ),
    ("steps:\n  - send: a\n    expect: {line: a, json: {'$.a': 1}}\n", 6, "cannot go with"),
    ("steps:\n  - http: GET /\n    expect: {time: {min: 1s}}\n", 6, "unknown key 'min'"),
    ("steps:\n  - http: GET /\n    expect: {time: 500ms}\n", 6, "time: {max: 500ms}"),
    ("cookies: maybe\nsteps:\n  - send: a\n", 4, "true or false"),
    (
        "steps:\n  - send: a\n    expect: {line: a}\n    capture: {s: {cookie: sid}}\n",
        7,
        "need an HTTP answer",
    ),
    ("steps:\n  - include: nowhere.recipe.yaml\n", 5, "no such file"),
    ("steps:\n  - include: x.recipe.yaml\n    expect: {line: a}\n", 6, "takes only include and name"),
]


@pytest.mark.parametrize(("text", "line", "words"), LOAD_ERRORS)
def test_invalid_new_keys_are_load_errors_with_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "bad.recipe.yaml"
    path.write_text(HEAD + text)
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert caught.value.line == line and words in caught.value.reason, str(caught.value)
    assert caught.value.path == str(path)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_include_is_relative_to_the_including_file_and_its_vars_are_defaults(tmp_path: Path) -> None:
    write(
        tmp_path / "common" / "login.recipe.yaml",
        "netbench: 1\ntarget: 10.0.0.1:1\nlab: http\nvars: {user: ann, password: pw, base: /api}\n"
        "steps:\n  - http: {method: POST, url: '${base}/login'}\n    expect: {status: 200}\n",
    )
    main = write(
        tmp_path / "suite" / "main.recipe.yaml",
        HEAD + "vars: {user: bob}\nsteps:\n  - include: ../common/login.recipe.yaml\n  - http: GET /me\n",
    )
    recipe = load_recipe(main)
    step = recipe.steps[0]
    assert step.action == "include" and step.include is not None
    assert step.include.label == "login.recipe.yaml" and len(step.include.recipe.steps) == 1
    assert dict(recipe.all_vars) == {"user": "bob", "password": "pw", "base": "/api"}  # the includer wins
    assert recipe.target == HEAD.split("target: ")[1].strip()  # the included target is ignored
    assert load_recipe(write(main, dumps(recipe))) == recipe


def test_include_cycles_are_load_errors_at_the_include_line(tmp_path: Path) -> None:
    write(tmp_path / "a.recipe.yaml", HEAD + "steps:\n  - send: a\n  - include: b.recipe.yaml\n")
    write(tmp_path / "b.recipe.yaml", HEAD + "steps:\n  - include: a.recipe.yaml\n")
    with pytest.raises(RecipeError) as caught:
        load_recipe(tmp_path / "a.recipe.yaml")
    assert caught.value.path == str(tmp_path / "b.recipe.yaml") and caught.value.line == 5
    assert "include cycle: a.recipe.yaml -> b.recipe.yaml -> a.recipe.yaml" in caught.value.reason
    write(tmp_path / "self.recipe.yaml", HEAD + "steps:\n  - include: ./self.recipe.yaml\n")
    with pytest.raises(RecipeError, match="include cycle"):
        load_recipe(tmp_path / "self.recipe.yaml")


def test_an_error_inside_an_included_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path / "inner.recipe.yaml", HEAD + "steps:\n  - sendd: a\n")
    write(tmp_path / "outer.recipe.yaml", HEAD + "steps:\n  - include: inner.recipe.yaml\n")
    with pytest.raises(RecipeError) as caught:
        load_recipe(tmp_path / "outer.recipe.yaml")
    assert caught.value.path == str(tmp_path / "inner.recipe.yaml") and caught.value.line == 5


def test_the_same_file_may_be_included_twice_without_a_cycle(tmp_path: Path) -> None:
    write(tmp_path / "ping.recipe.yaml", HEAD + "steps:\n  - send: a\n")
    path = write(
        tmp_path / "twice.recipe.yaml",
        HEAD + "steps:\n  - include: ping.recipe.yaml\n  - include: ping.recipe.yaml\n",
    )
    assert len(load_recipe(path).steps) == 2


def test_vars_file(tmp_path: Path) -> None:
    path = write(tmp_path / "vars.yaml", "user: ann\nport: 8080\ndebug: true\n")
    assert load_vars_file(path) == {"user": "ann", "port": "8080", "debug": "true"}
    assert merge_vars([path], {"user": "bob"}) == {"user": "bob", "port": "8080", "debug": "true"}
    for text, words in [
        ("- a list\n", "must be a mapping"),
        ("user: [1, 2]\n", "must be text"),
        ("bad name: x\n", "not a valid name"),
        ("user: !!python/object:os.system x\n", "unsupported YAML tag"),
        ("user: [unclosed\n", "invalid YAML"),
    ]:
        write(path, text)
        with pytest.raises(RecipeError, match=words):
            load_vars_file(path)
    with pytest.raises(RecipeError, match="cannot read vars file"):
        load_vars_file(tmp_path / "missing.yaml")


def test_a_yaml_alias_bomb_in_an_expected_value_is_refused_quickly(tmp_path: Path) -> None:
    levels = ["&a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for name, previous in zip("bcdefgh", "abcdefg", strict=True):
        levels.append(f"&{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    checks = "".join(f'        "$.{i}": {{equal: {level}}}\n' for i, level in enumerate(levels))
    path = write(
        tmp_path / "bomb.recipe.yaml", HEAD + "steps:\n  - http: GET /\n    expect:\n      json:\n" + checks
    )
    with pytest.raises(RecipeError, match="more than 10000 items"):
        load_recipe(path)  # 10^8 items if expanded: must fail, not hang


def test_an_include_bomb_and_a_deep_include_chain_are_refused(tmp_path: Path) -> None:
    for level in range(30):  # each file includes the next twice: 2^30 steps if expanded
        following = f"l{level + 1}.recipe.yaml"
        write(
            tmp_path / f"l{level}.recipe.yaml",
            HEAD + f"steps:\n  - include: {following}\n  - include: {following}\n",
        )
    write(tmp_path / "l30.recipe.yaml", HEAD + "steps:\n  - send: x\n")
    with pytest.raises(RecipeError, match="more than 10000 steps"):
        load_recipe(tmp_path / "l0.recipe.yaml")
    for level in range(40):
        write(tmp_path / f"d{level}.recipe.yaml", HEAD + f"steps:\n  - include: d{level + 1}.recipe.yaml\n")
    write(tmp_path / "d40.recipe.yaml", HEAD + "steps:\n  - send: x\n")
    with pytest.raises(RecipeError, match="nested more than 32 deep"):
        load_recipe(tmp_path / "d0.recipe.yaml")


def test_deeply_nested_json_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    deep = "[" * 2000 + "]" * 2000
    path = write(
        tmp_path / "deep.recipe.yaml",
        HEAD + f"steps:\n  - http: GET /\n    expect:\n      json: {{$.a: {deep}}}\n",
    )
    with pytest.raises(RecipeError, match="nested more than 100 deep"):
        load_recipe(path)
    (problem,) = json_failures('        "$.a": 1\n', b"[" * 5000, "application/json")
    assert problem == "body is JSON nested too deep to read"
    (problem,) = json_failures('        "$.a": 1\n', b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}")
    assert problem.startswith("json $.a: expected 1 (number), found [[[")
