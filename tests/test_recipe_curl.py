"""curl both ways (issue 13): `netbench import curl`, `replay --curl`, and the round trip."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from netbench.errors import UsageError
from netbench.lab import running
from netbench.recipe.curl import from_curl, recipe_as_curl, to_curl, variables_expander
from netbench.recipe.dump import dumps
from netbench.recipe.load import load_recipe, loads
from netbench.recipe.model import HttpRequest, Recipe, Step, TlsSpec
from tests.support.cli import run_main
from tests.support.peers import require_binary


def no_files(name: str) -> bytes:
    raise FileNotFoundError(2, "No such file or directory", name)


def request_of(command: str, read_file=no_files) -> tuple[HttpRequest, Recipe]:  # type: ignore[no-untyped-def]
    recipe = from_curl(command, read_file).recipe
    step = recipe.steps[0]
    assert step.http is not None
    return step.http, recipe


def test_the_issue_example_with_a_body_file(tmp_path: Path) -> None:
    body = b'{"name": "Felix"}\n'
    files = {"body.json": body}
    request, recipe = request_of(
        'curl -sS -X POST -H "Content-Type: application/json" -d @body.json https://host/api',
        lambda name: files[name],
    )
    assert recipe.target == "tls://host:443"
    assert request == HttpRequest(
        "POST", "/api", (("Content-Type", "application/json"),), b'{"name": "Felix"}'
    )
    request, _ = request_of(
        "curl --data-binary @body.json http://host:8080/x?a=1&b=2", lambda name: files[name]
    )
    assert request.body == body and request.url == "/x?a=1&b=2" and request.method == "POST"
    assert ("Content-Type", "application/x-www-form-urlencoded") in request.headers  # as curl sends it


@pytest.mark.parametrize(
    ("command", "method", "headers", "body"),
    [
        ("curl http://h/", "GET", (), None),
        ("curl -I http://h/", "HEAD", (), None),
        ("curl -XDELETE http://h/", "DELETE", (), None),
        (
            "curl -d a=1 -d b=2 http://h/",
            "POST",
            (("Content-Type", "application/x-www-form-urlencoded"),),
            b"a=1&b=2",
        ),
        (
            "curl --data-raw @x http://h/",
            "POST",
            (("Content-Type", "application/x-www-form-urlencoded"),),
            b"@x",
        ),
        (
            "curl --json '{\"a\":1}' http://h/",
            "POST",
            (("Content-Type", "application/json"), ("Accept", "application/json")),
            b'{"a":1}',
        ),
        (
            "curl -A agent/1 -e http://r/ http://h/",
            "GET",
            (("User-Agent", "agent/1"), ("Referer", "http://r/")),
            None,
        ),
        ("curl --compressed http://h/", "GET", (("Accept-Encoding", "gzip, deflate"),), None),
        ("curl -sSfiv -L http://h/", "GET", (), None),
        ("curl -H 'X-A: 1' -H 'X-A:' http://h/", "GET", (), None),
        ("curl -H 'X-Empty;' http://h/", "GET", (("X-Empty", ""),), None),
        ("curl -d x=1 -H 'Content-Type:' http://h/", "POST", (), b"x=1"),
    ],
)
def test_options(command: str, method: str, headers: tuple[tuple[str, str], ...], body: bytes | None) -> None:
    request, _ = request_of(command)
    assert (request.method, request.headers, request.body) == (method, headers, body)


def test_credentials_become_secrets_and_shell_variables_placeholders() -> None:
    imported = from_curl(
        "curl -u ann:pw -b 'sid=abc123' -H \"X-Token: $TOKEN\" 'http://h/a?access_token=t0k3n-1234'", no_files
    )
    request = imported.recipe.steps[0].http
    assert request is not None
    headers = dict(request.headers)
    assert headers["Authorization"] == "Basic ${secret:AUTHORIZATION}"
    assert headers["Cookie"] == "${secret:COOKIE}"
    assert headers["X-Token"] == "${env:TOKEN}"
    assert request.url == "/a?access_token=${secret:ACCESS_TOKEN}"
    assert set(imported.secrets) == {"AUTHORIZATION", "COOKIE", "ACCESS_TOKEN"}
    text = dumps(imported.recipe)
    assert base64.b64encode(b"ann:pw").decode() not in text and "t0k3n-1234" not in text


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("curl --proxy http://p http://h/", "--proxy is not supported"),
        ("curl -x p http://h/", "-x is not supported"),
        ("curl -u ann http://h/", "-u USER:PASSWORD"),
        ("curl -b cookies.txt http://h/", "cookie file"),
        ("curl http://a/ http://b/", "exactly one URL"),
        ("curl ftp://h/", "only http:// and https://"),
        ("curl -H 'no colon' http://h/", "'Name: value'"),
        ("curl -d @missing.json http://h/", "cannot read missing.json"),
        ("curl 'unclosed", "cannot split"),
        ("curl -H", "needs a value"),
    ],
)
def test_what_cannot_be_imported_is_named(command: str, words: str) -> None:
    with pytest.raises(UsageError, match=words.replace("?", r"\?").replace("(", r"\(")):
        from_curl(command, no_files)


ROUND_TRIP = [
    HttpRequest("GET", "/"),
    HttpRequest("HEAD", "/x"),
    HttpRequest(
        "PUT", "/items/7?x=1&y=2", (("Content-Type", "application/json"),), b'{"a": "it\'s \\"q\\""}'
    ),
    HttpRequest("POST", "/form", (), b"a=1&b=$HOME and `cmd` and \\ back"),
    HttpRequest(
        "DELETE", "/a", (("Authorization", "Bearer ${secret:TOKEN}"), ("X-User", "${env:USER_NAME}"))
    ),
    HttpRequest("PATCH", "/p", (("X-Note", "two\nlines\x1b[31m"),), b"line1\nline2\n"),
    HttpRequest("POST", "/literal", (("X-T", "$${not a var}"),), b"$${x}"),
]


@pytest.mark.parametrize("request_", ROUND_TRIP, ids=[r.method for r in ROUND_TRIP])
@pytest.mark.parametrize("target", ["tcp://example.com:80", "tls://example.com:8443", "tcp://[::1]:8080"])
def test_recipe_to_curl_to_recipe_gives_the_same_request(request_: HttpRequest, target: str) -> None:
    recipe = Recipe(name="r", steps=(Step(http=request_),), target=target, tls=TlsSpec(insecure=True))
    command = to_curl(recipe.steps[0], recipe, target, variables_expander({}))
    assert "\x1b" not in command and "\n" not in command  # terminal-safe, one line
    shell = subprocess.run(["bash", "-n", "-c", command], capture_output=True, timeout=20)
    assert shell.returncode == 0, shell.stderr  # a line bash reads
    back = from_curl(command, no_files).recipe
    assert back.steps[0].http == request_
    assert back.target == target and back.tls == TlsSpec(insecure=True)


def test_variables_are_expanded_in_the_curl_line() -> None:
    recipe = loads(
        "netbench: 1\ntarget: 127.0.0.1:9\nvars: {path: /a, user: ann}\n"
        "steps:\n  - http: {method: GET, url: '${path}?u=${user}'}\n  - send: x\n"
    )
    lines = recipe_as_curl(recipe, None, {"user": "bob"})
    assert lines[1] == "curl -sS 'http://127.0.0.1:9/a?u=bob'"
    assert lines[2].startswith("# step 2: send")


def test_replay_curl_prints_commands_that_curl_runs(tmp_path: Path) -> None:
    curl = require_binary("curl")
    path = tmp_path / "api.recipe.yaml"
    path.write_text(
        "netbench: 1\nname: api\nlab: http\nsteps:\n"
        "  - http: {method: GET, url: /index.html, headers: {Accept: text/html}}\n"
        "    expect: {status: 200}\n"
    )
    with running("http") as lab:
        status, out, err = run_main(["replay", "--curl", "-t", lab["http"].address, str(path)])
        assert status == 0, err
        command = out.splitlines()[1]
        assert command.startswith("curl -sS -H 'Accept: text/html' http://127.0.0.1:")
        shown = subprocess.run(
            ["bash", "-c", command.replace("curl", curl, 1)], capture_output=True, timeout=20
        )
    assert b"hello" in shown.stdout.lower()
    status, out, err = run_main(["replay", "--curl", str(path)])  # lab: http, no -t: no address to print
    assert status == 2 and "give -t HOST:PORT" in err


def test_import_curl_command(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"a": 1}')
    out_file = tmp_path / "out.recipe.yaml"
    status, out, err = run_main(
        ["import", "curl", f"curl -sS -X POST -H 'Content-Type: application/json' -d @{body} http://h:81/api",
         "-o", str(out_file)]
    )  # fmt: skip
    assert status == 0, err
    recipe = load_recipe(out_file)
    assert recipe.target == "tcp://h:81" and recipe.steps[0].http is not None
    assert recipe.steps[0].http.body == b'{"a": 1}'
    status, out, err = run_main(["import", "curl", "curl -u ann:pw http://h/"])
    assert status == 0 and "${secret:AUTHORIZATION}" in out and "NETBENCH_SECRET_AUTHORIZATION" in err
    status, out, err = run_main(["import", "curl", "curl --proxy p http://h/"])
    assert status == 2 and out == "" and err.count("\n") == 1 and "--proxy" in err
    status, out, err = run_main(["import", "curl"])
    assert status == 2 and "paste the curl command" in err


def test_a_body_file_that_never_ends_is_refused_not_read_whole() -> None:
    status, out, err = run_main(["import", "curl", "curl -d @/dev/zero http://h/"])
    assert status == 2 and out == "" and "more than 16 MiB" in err
