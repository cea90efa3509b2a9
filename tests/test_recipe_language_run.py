"""The recipe test language, end to end (issue 13; issue 11 item 5): real servers on loopback.

Cookies and retries against the lab's /login, /me and /ready-after pages;
JSON checks against nginx serving a static file; a slow regex and Ctrl-C
against a server that sends a catastrophic subject.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from netbench import replay
from tests.support.cli import run_main
from tests.support.peers import Nginx

LOGIN = """\
netbench: 1
name: log in
vars: {user: nobody}
steps:
  - http:
      method: POST
      url: /login
      headers: {Content-Type: application/x-www-form-urlencoded}
      body: user=${user}
    expect:
      status: 200
      json: {"$.user": "${user}", "$.logged_in": true}
      cookies: {session: {exists: true}}
    capture: {sid: {cookie: session}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_login_cookie_is_kept_by_the_jar_across_an_include(tmp_path: Path) -> None:
    write(tmp_path / "common" / "login.recipe.yaml", LOGIN)
    main = write(
        tmp_path / "me.recipe.yaml",
        "netbench: 1\nname: me\nlab: http\nvars: {user: ann}\nsteps:\n"
        "  - include: common/login.recipe.yaml\n"
        "  - http: GET /me\n"
        "    expect:\n"
        "      status: 200\n"
        "      json: {$.user: ann}\n"
        "      cookies: {session: '${sid}'}\n",
    )
    result = replay(main)
    assert result.ok, result.report()
    assert len(result.captures["sid"]) == 32
    assert [step.summary.split(" ")[0] for step in result.steps] == ["include", "http"]


def test_cookies_false_sends_no_cookie(tmp_path: Path) -> None:
    write(tmp_path / "login.recipe.yaml", LOGIN)
    main = write(
        tmp_path / "off.recipe.yaml",
        "netbench: 1\nlab: http\ncookies: false\nsteps:\n  - include: login.recipe.yaml\n"
        "  - http: GET /me\n    expect: {status: 200}\n",
    )
    result = replay(main)
    assert result.status == 1
    report = result.report()
    assert "expected status 200" in report and "401" in report and "no session cookie was sent" in report
    assert len(result.captures["sid"]) == 32  # the cookie capture reads the answer's Set-Cookie


def test_a_failing_included_step_is_named_by_its_file_and_step(tmp_path: Path) -> None:
    write(tmp_path / "login.recipe.yaml", LOGIN.replace("status: 200", "status: 201"))
    main = write(
        tmp_path / "main.recipe.yaml",
        "netbench: 1\nlab: http\nsteps:\n  - send: ''\n  - include: login.recipe.yaml\n",
    )
    result = replay(main)
    assert result.status == 1
    message = result.steps[-1].message
    assert f"{main}:5: step 2" in result.report()
    assert message.startswith("login.recipe.yaml step 1 (line 5): expected status 201"), message


def test_retry_waits_until_ready_and_says_how_many_attempts(tmp_path: Path) -> None:
    key = uuid.uuid4().hex
    path = write(
        tmp_path / "ready.recipe.yaml",
        "netbench: 1\nlab: http\nsteps:\n"
        f"  - http: GET /ready-after?n=3&key={key}\n"
        "    retry: {times: 5, interval: 50ms}\n"
        "    expect: {status: 200}\n",
    )
    result = replay(path)
    assert result.ok, result.report()
    assert result.steps[0].summary.endswith("(3 attempts)")


def test_retry_that_never_holds_reports_every_attempt(tmp_path: Path) -> None:
    key = uuid.uuid4().hex
    path = write(
        tmp_path / "never.recipe.yaml",
        "netbench: 1\nlab: http\nsteps:\n"
        f"  - http: GET /ready-after?n=50&key={key}\n"
        "    retry: {times: 3, interval: 10ms}\n"
        "    expect: {status: 200}\n",
    )
    result = replay(path)
    assert result.status == 1
    assert "(3 attempts, none held)" in result.steps[0].message


def test_a_raw_step_reconnects_and_runs_again(tmp_path: Path) -> None:
    key = uuid.uuid4().hex
    request = f"GET /ready-after?n=2&key={key} HTTP/1.1\\r\\nHost: lab\\r\\nConnection: close\\r\\n\\r\\n"
    path = write(
        tmp_path / "raw.recipe.yaml",
        "netbench: 1\nlab: http\nsteps:\n"
        f'  - send: "{request}"\n'
        "    retry: {times: 3, interval: 10ms}\n"
        "    expect: {status: 200, closed: true}\n",
    )
    result = replay(path)
    assert result.ok, result.report()
    assert result.steps[0].summary.endswith("(2 attempts)")


def test_expect_time(tmp_path: Path) -> None:
    path = write(
        tmp_path / "slow.recipe.yaml",
        "netbench: 1\nlab: http\nsteps:\n"
        "  - http: GET /slow?delay=0.5\n    expect: {status: 200, time: {max: 100ms}}\n",
    )
    result = replay(path)
    assert result.status == 1
    assert "time: took" in result.steps[0].message and "expected at most 100 ms" in result.steps[0].message
    write(path, path.read_text().replace("max: 100ms", "max: 20s"))
    assert replay(path).ok


def test_json_checks_against_nginx_static_json(tmp_path: Path, nginx: Nginx) -> None:
    document = {"items": [{"id": 7, "tags": ["cat"]}, {"id": 8}, {"id": 9}], "name": "Felix", "total": 42}
    (nginx.root / "language-items.json").write_text(json.dumps(document))
    path = write(
        tmp_path / "api.recipe.yaml",
        f"netbench: 1\ntarget: {nginx.url.removeprefix('http://')}\nsteps:\n"
        "  - http: {method: GET, url: /language-items.json, headers: {Accept-Encoding: gzip}}\n"
        "    expect:\n"
        "      status: 200\n"
        "      json:\n"
        '        "$.items[0].id": 7\n'
        '        "$.items": {length: 3}\n'
        '        "$.name": {regex: "^Fel"}\n'
        '        "$.items[0].tags": {contains: cat}\n'
        '        "$.deleted": {exists: false}\n'
        '        "$.total": {type: integer, gt: 10, le: 100}\n'
        '    capture: {first: {json: "$.items[0].id"}}\n'
        "  - http: GET /language-items.json\n"
        "    expect:\n"
        '      json: {"$.items[0].id": "${first}"}\n',
    )
    result = replay(path)
    assert result.ok, result.report()
    write(path, path.read_text().replace('"$.items[0].id": 7', '"$.items[0].id": "7"'))
    failed = replay(path)
    assert failed.status == 1
    assert 'json $.items[0].id: expected "7" (string), found 7 (number)' in failed.report()
    html = write(
        tmp_path / "html.recipe.yaml",
        f"netbench: 1\ntarget: {nginx.url.removeprefix('http://')}\nsteps:\n"
        "  - http: GET /index.html\n    expect: {json: {$.a: 1}}\n",
    )
    report = replay(html).report()
    assert "body is not JSON (Content-Type text/html" in report


def test_vars_file_on_replay(tmp_path: Path) -> None:
    write(tmp_path / "login.recipe.yaml", LOGIN)
    main = write(
        tmp_path / "who.recipe.yaml",
        "netbench: 1\nlab: http\nvars: {user: recipe}\nsteps:\n  - include: login.recipe.yaml\n"
        "  - http: GET /me\n    expect: {json: {$.user: '${expected}'}}\n",
    )
    varsfile = write(tmp_path / "vars.yaml", "user: file\nexpected: file\n")
    status, _out, err = run_main(["replay", "-q", "--vars-file", str(varsfile), str(main)])
    assert status == 0, err
    status, _out, err = run_main(
        [
            "replay",
            "-q",
            "--vars-file",
            str(varsfile),
            "--var",
            "user=cli",
            "--var",
            "expected=cli",
            str(main),
        ]
    )
    assert status == 0, err
    write(varsfile, "- not a mapping\n")
    status, _out, err = run_main(["replay", "--vars-file", str(varsfile), str(main)])
    assert status == 2 and f"{varsfile}:1" in err


@contextmanager
def sends(payload: bytes, *, then_close: bool = False) -> Iterator[int]:
    """A server sending *payload* on each connection, then closing it or keeping it till the client goes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(payload)
                conn.settimeout(0.2)
                while not then_close and not stop.is_set():
                    try:
                        if not conn.recv(100):
                            break
                    except TimeoutError:
                        continue
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def replay_process(path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "netbench", "replay", "-t", f"127.0.0.1:{port}", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.parametrize(
    ("pattern", "words"),
    [("(a+)+$", "waiting for regex /(a+)+$/"), ("(a|aa)+$", "regex /(a|aa)+$/ did not finish")],
)
def test_a_slow_regex_ends_with_the_step_timeout_naming_the_pattern(
    tmp_path: Path, pattern: str, words: str
) -> None:
    path = write(
        tmp_path / "slow.recipe.yaml",
        f"netbench: 1\nsteps:\n  - expect: {{regex: '{pattern}'}}\n    timeout: 1\n",
    )
    subject = b"a" * (27 if pattern == "(a+)+$" else 64) + b"b"
    with sends(subject) as port:
        process = replay_process(path, port)
        out, err = process.communicate(timeout=20)  # the search alone would take far longer
    assert process.returncode == 1, err
    assert words in out + err


def test_sigint_ends_replay_during_a_slow_regex(tmp_path: Path) -> None:
    path = write(
        tmp_path / "slow.recipe.yaml",
        "netbench: 1\nsteps:\n  - expect: {regex: '(a|aa)+$'}\n    timeout: 120\n",
    )
    with sends(b"a" * 64 + b"b") as port:
        process = replay_process(path, port)
        try:
            threading.Event().wait(1.5)  # let it reach the search (no assertion rests on this)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=20)
        finally:
            process.kill()
    assert process.returncode == 130, (out, err)


def test_serve_makes_up_json_and_cookies_a_hand_written_recipe_expects(tmp_path: Path) -> None:
    from netbench import serve

    path = write(
        tmp_path / "handwritten.recipe.yaml",
        "netbench: 1\ntarget: 127.0.0.1:1\nsteps:\n"
        "  - http: GET /api/items\n"
        "    expect:\n"
        "      status: 200\n"
        "      json:\n"
        '        "$.items[0].id": 7\n'
        '        "$.items": {length: 3}\n'
        '        "$.tags": {contains: cat}\n'
        '        "$.deleted": {exists: false}\n'
        '        "$.price": {type: number, gt: 10, le: 100}\n'
        '        "$.count": {type: integer, ge: 2}\n'
        '        "$.name": {type: string}\n'
        "      cookies: {session: {exists: true}}\n",
    )
    with serve(path) as address:
        result = replay(path, target=address)
    assert result.ok, result.report()


def test_serve_plays_included_steps_in_place(tmp_path: Path) -> None:
    from netbench import serve

    hello = 'netbench: 1\nsteps:\n  - send: "HELLO\\n"\n    reply: "HI\\n"\n    expect: {line: HI}\n'
    write(tmp_path / "hello.recipe.yaml", hello)
    main = write(
        tmp_path / "main.recipe.yaml",
        "netbench: 1\ntarget: 127.0.0.1:1\nsteps:\n  - include: hello.recipe.yaml\n"
        '  - send: "BYE\\n"\n    reply: "CIAO\\n"\n    expect: {line: CIAO}\n',
    )
    with serve(main) as address:
        result = replay(main, target=address)
    assert result.ok, result.report()
