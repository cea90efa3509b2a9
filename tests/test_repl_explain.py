"""/explain beyond HTTP (issue 12, item 7): SMTP/FTP-style reply codes and Redis RESP types from the
lab's smtp and redis servers, and a plain answer when there is nothing to explain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench.lab import Lab, running
from tests.support.cli import run_main

KNOWS = "/explain knows HTTP responses, status codes and headers (404, ETag), SMTP/FTP-style"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("smtp", "redis", "echo") as started:
        yield started


def repl(script: str, *args: str) -> tuple[int, str, str]:
    return run_main(["repl", *args], stdin=script, state_dir=Path("/nonexistent-netbench-state"))


def test_smtp_replies_are_explained_with_their_rfc_section(lab: Lab) -> None:
    script = "/wait 5\n/explain\nEHLO me\n/wait HELP 5\n/explain\n/explain 354\n"
    status, out, err = repl(script, f"127.0.0.1:{lab['smtp'].port}")
    assert status == 0, err
    assert "an SMTP-style reply (three-digit code, then text):\n220: service ready" in out
    assert "250: requested mail action okay, completed (RFC 5321 section 4.2.2)\n  lab.test greets me" in out
    assert "as SMTP: 354: start mail input" in out and "as HTTP: 354 (not in the table" in out
    assert "HTTP/0.9" not in out  # EHLO me is SMTP, not an old HTTP request


def test_resp_replies_are_explained_value_by_value_with_their_types(lab: Lab) -> None:
    script = (  # (GET's reply is $1 CRLF 1 CRLF: wait for the value, not for the 1 of its length)
        "PING\n/wait PONG 5\n/explain\nSET a 1\n/wait OK 5\n"
        "GET a\n/wait '\\n1\\r\\n' 5\n/explain\n/explain -\n"
    )
    status, out, err = repl(script, f"127.0.0.1:{lab['redis'].port}")
    assert status == 0, err
    assert 'a Redis RESP reply:\n  simple string "PONG"' in out
    assert "simple string (+): a short status such as OK or PONG" in out
    assert 'bulk string "1"' in out and "bulk string ($): a binary-safe string" in out
    assert "RESP error (-): the command failed" in out
    assert "no explanation" not in err and "HTTP/0.9" not in out  # GET a is Redis, not HTTP/0.9


def test_explain_says_plainly_when_it_has_nothing(lab: Lab) -> None:
    script = "/explain\nhello\n/wait hello 5\n/explain\n/explain Zzz\n"
    status, _out, err = repl(script, f"127.0.0.1:{lab['echo'].port}")
    assert status == 0
    assert f"error: nothing to explain: no answer on [1] yet. {KNOWS}" in err
    assert f'error: no explanation for "hello\\r\\n": {KNOWS}' in err
    assert f"error: no explanation for 'Zzz': {KNOWS}" in err
    status, _out, err = repl("/explain\n")
    assert f"error: nothing to explain yet (no session): {KNOWS}" in err
