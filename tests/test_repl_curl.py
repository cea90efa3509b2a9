"""/curl: the last HTTP request on the session as a curl command line (issue 13, "curl, both ways")."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench.lab import Lab, running
from netbench.recipe.curl import from_curl
from tests.support.cli import run_main

POST = "POST /echo?x=1 HTTP/1.1\nHost: localhost\nContent-Type: text/plain\nContent-Length: 5\n\n"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("http", "echo") as started:
        yield started


def repl(script: str, *args: str) -> tuple[int, str, str]:
    return run_main(["repl", *args], stdin=script, state_dir=Path("/nonexistent-netbench-state"))


def curl_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("curl ")]
    assert lines, out
    return lines[-1]


def test_curl_prints_the_last_typed_request_and_curl_gets_the_same_answer(lab: Lab) -> None:
    port = lab["http"].port
    status, out, err = repl(POST + '/send "hello"\n/wait "hello" 3\n/curl\n', f"127.0.0.1:{port}")
    assert status == 0, err
    line = curl_line(out)
    assert "Content-Length" not in line  # curl works it out
    assert "-H 'Host: localhost'" in line  # a Host that is not the target's is kept
    assert line.endswith(f"'http://127.0.0.1:{port}/echo?x=1'")  # quoted: ? is a shell glob
    words = shlex.split(line)
    imported = from_curl(words, read_file=lambda name: b"")
    step = imported.recipe.steps[0].http
    assert step is not None
    assert (step.method, step.url, step.body) == ("POST", "/echo?x=1", b"hello")
    if shutil.which("curl"):
        answer = subprocess.run(words, capture_output=True, timeout=10, check=True).stdout
        assert b'"body": "hello"' in answer and b'"target": "/echo?x=1"' in answer


def test_curl_after_get_leaves_out_the_host_that_repeats_the_target(lab: Lab) -> None:
    port = lab["http"].port
    status, out, err = repl("/get /json\n/wait 200 3\n/curl\n", f"127.0.0.1:{port}")
    assert status == 0, err
    assert curl_line(out) == f"curl -sS http://127.0.0.1:{port}/json"


def test_curl_without_an_http_request_says_so(lab: Lab) -> None:
    status, out, err = repl("hi\n/wait hi 3\n/curl\n", f"127.0.0.1:{lab['echo'].port}")
    assert status == 0
    assert "[1] no HTTP request sent on this session yet" in err
    assert "curl -sS" not in out
    status, _out, err = repl("/curl\n")
    assert "no session: /open one, send an HTTP request, then /curl" in err


def test_hostile_bytes_in_a_typed_request_never_reach_the_output_raw(lab: Lab) -> None:
    typed = "GET /x HTTP/1.1\nX-Evil: a\x1b[2Jb\u202ec\n\n/wait 404 3\n/curl\n"
    status, out, err = repl(typed, f"127.0.0.1:{lab['http'].port}")
    assert status == 0, err
    line = curl_line(out)
    assert "\x1b" not in out and "\u202e" not in out
    assert "X-Evil" in line
