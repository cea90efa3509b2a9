"""`netbench http` against a corpus of misbehaving servers: exit status, message, safe screen.

Each case runs the real command (in-process through ``main`` with an
injected environment) against a real socket on 127.0.0.1, once as if stdout
were a terminal (the parsed view) and once as if it were a pipe (body on
stdout, head on stderr). A few cases also run in a real pseudo-terminal.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from dataclasses import dataclass

import pexpect
import pytest

from netbench.cli import main
from netbench.environment import Environment
from tests.hostile.server import CLOSE, HANG, RESET, HostileServer, Pause, Step

OK_HEAD = b"HTTP/1.1 200 OK\r\n"
GZ = gzip.compress(b"decoded " * 64, mtime=0)


@dataclass(frozen=True)
class Case:
    name: str
    steps: list[Step]
    status: int
    message: str = ""  # must appear in stderr (the error line) when status != 0
    shows: str = ""  # must appear in the terminal view when status == 0


CASES = [
    Case("garbage", [b"\x00\xffgarbage\r\n\r\n", CLOSE], 6, "not an HTTP response"),
    Case("http09-style", [b"<html>hello</html>\n", CLOSE], 6, "not an HTTP response (no status line)"),
    Case(
        "oversized-header",
        [OK_HEAD, b"X-Big: " + b"y" * 70000 + b"\r\n\r\n", CLOSE],
        6,
        "response head too big",
    ),
    Case("countless-headers", [OK_HEAD + b"X: y\r\n" * 5000 + b"\r\n", CLOSE], 6, "5000 headers"),
    Case("bad-length", [OK_HEAD + b"Content-Length: ten\r\n\r\n", CLOSE], 6, "malformed response"),
    Case(
        "conflicting-lengths",
        [OK_HEAD + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", CLOSE],
        6,
        "conflicting Content-Length",
    ),
    Case("bad-chunk-size", [OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", CLOSE], 6, "chunk"),
    Case("bad-status-line", [b"HTTP/1.1 two hundred OK\r\n\r\n", CLOSE], 6, "illegal status line"),
    Case("header-without-colon", [OK_HEAD + b"no colon here\r\n\r\n", CLOSE], 6, "header line"),
    Case(
        "close-mid-body",
        [OK_HEAD + b"Content-Length: 1000\r\n\r\n" + b"x" * 120, CLOSE],
        5,
        "closed after 120 of 1000 body bytes",
    ),
    Case(
        "reset-mid-body",
        [OK_HEAD + b"Content-Length: 1000\r\n\r\n" + b"x" * 120, Pause(0.3), RESET],
        5,
        "120 of 1000 body bytes",
    ),
    Case(
        "close-mid-chunked",
        [OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n10\r\nabc", CLOSE],
        5,
        "in the middle of the body",
    ),
    Case("close-before-response", [CLOSE], 5, "before any response"),
    Case("close-mid-head", [OK_HEAD + b"Content-Ty", CLOSE], 5, "in the middle of the response head"),
    Case("silence", [HANG], 4, "timed out waiting for a response"),
    Case(
        "silence-mid-body",
        [OK_HEAD + b"Content-Length: 50\r\n\r\n" + b"x" * 10, HANG],
        4,
        "timed out waiting for the rest of the body",
    ),
    Case(
        "bad-gzip",
        [OK_HEAD + b"Content-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello", CLOSE],
        6,
        "gzip body does not decode",
    ),
    Case("truncated-gzip", [OK_HEAD + b"Content-Encoding: gzip\r\n\r\n" + GZ[:12], CLOSE], 6, "truncated"),
    Case("escape-in-header-name", [OK_HEAD + b"X\x1b[2J: 1\r\n\r\n", CLOSE], 6, "illegal header line"),
    Case(
        "escape-in-reason",
        [b"HTTP/1.1 200 \x1b[2J\x1b]0;pwned\x07OK\r\nContent-Length: 0\r\n\r\n", CLOSE],
        0,
        shows="HTTP/1.1 200 \\x1b[2J\\x1b]0;pwned\\x07OK",
    ),
    Case(
        "escape-in-header-value",
        [OK_HEAD + b"X-Evil: \x1b[31m\x9b2J\r\nContent-Length: 0\r\n\r\n", CLOSE],
        0,
        shows="X-Evil: \\x1b[31m\\x9b2J",
    ),
    Case(
        "escape-in-body",
        [
            OK_HEAD + b"Content-Type: text/plain\r\nContent-Length: 42\r\n\r\n"
            b"title \x1b]0;pwned\x07 clear \x1b[2J done. \x1b[31mred\r\n",
            CLOSE,
        ],
        0,
        shows="title \\x1b]0;pwned\\x07 clear \\x1b[2J done. \\x1b[31mred",
    ),
    Case(
        "nul-and-invalid-utf8",
        [OK_HEAD + b"Content-Length: 6\r\n\r\n\x00\xff\xfe\x00ab", CLOSE],
        0,
        shows="00 ff fe 00 61 62",
    ),
    Case(
        "1xx-then-200",
        [b"HTTP/1.1 100 Continue\r\n\r\n", Pause(0.02), OK_HEAD + b"Content-Length: 5\r\n\r\nfinal", CLOSE],
        0,
        shows="HTTP/1.1 100 Continue",
    ),
    Case(
        "trailers",
        [OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX-Digest: abc\r\n\r\n", CLOSE],
        0,
        shows="trailers:\nX-Digest: abc",
    ),
    Case(
        "trickle",
        [OK_HEAD, Pause(0.02), b"Content-Length: 3\r\n", Pause(0.02), b"\r\nab", Pause(0.02), b"c", CLOSE],
        0,
        shows="abc",
    ),
]


def run_http(*argv: str, tty: bool) -> tuple[int, bytes, str]:
    """Run `netbench http -w 0.5 ARGV...` in-process; return (status, stdout bytes, stderr text)."""
    raw_out = io.BytesIO()
    stdout = io.TextIOWrapper(raw_out, encoding="utf-8", errors="surrogateescape", write_through=True)
    stderr = io.StringIO()
    env = Environment(
        stdin=io.StringIO(),
        stdout=stdout,
        stderr=stderr,
        stdout_isatty=tty,
        stderr_isatty=False,
        environ={"NO_COLOR": "1"},
    )
    status = main(["http", "-w", "0.5", *argv], env)
    stdout.flush()
    return status, raw_out.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_server(case: Case) -> None:
    assert len(CASES) >= 20
    with HostileServer(case.steps) as server:
        status, out, err = run_http(server.url + "/", tty=True)
        assert status == case.status, err
        assert b"\x1b" not in out and "\x1b" not in err and "\x07" not in err
        assert "Traceback" not in err
        if case.status:
            lines = err.strip().splitlines()
            assert lines[-1].startswith("netbench: ") and case.message in lines[-1], err
        else:
            assert case.shows in out.decode("utf-8", "replace")
        # The same server with stdout a pipe: same status, head on stderr, nothing raw there.
        status_pipe, _body, err_pipe = run_http(server.url + "/", tty=False)
        assert status_pipe == case.status
        assert "\x1b" not in err_pipe


def test_body_goes_byte_for_byte_to_a_pipe_even_when_hostile():
    body = b"\x1b[2J\x00\xff binary \r\n"
    with HostileServer([OK_HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body, CLOSE]) as server:
        status, out, err = run_http(server.url + "/", tty=False)
    assert status == 0 and out == body
    assert err.startswith(f"HTTP/1.1 200 OK\nContent-Length: {len(body)}\n")


def test_raw_shows_the_bytes_received_before_a_malformed_response():
    with HostileServer([OK_HEAD + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\n", CLOSE]) as server:
        status, out, err = run_http(server.url + "/", "--raw", tty=True)
    assert status == 6
    text = out.decode()
    assert "--- received" in text and "Content-Length: 3\\r\\n" in text
    assert err.splitlines()[-1].startswith("netbench: 127.0.0.1:")


ESCAPE_CASES = [c for c in CASES if c.name.startswith("escape-") or c.name == "nul-and-invalid-utf8"]
PTY_RUNS = [(case, False) for case in CASES] + [(case, True) for case in ESCAPE_CASES]


@pytest.mark.parametrize(
    ("case", "no_color"),
    PTY_RUNS,
    ids=[f"{case.name}-{'no-color' if no_color else 'color'}" for case, no_color in PTY_RUNS],
)
def test_no_raw_escape_reaches_a_real_terminal(case: Case, no_color: bool) -> None:
    """Every case again, in a real pseudo-terminal: status, message, and a clean screen."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    if no_color:
        env["NO_COLOR"] = "1"
    with HostileServer(case.steps) as server:
        child = pexpect.spawn(
            sys.executable, ["-m", "netbench", "http", "-w", "0.5", server.url + "/"], env=env, timeout=15
        )
        child.expect(pexpect.EOF)
        screen = child.before
        child.close()
    assert child.exitstatus == case.status, screen
    for sequence in (b"\x1b[2J", b"\x1b]0;", b"\x07", b"\x9b", b"\x1b[31m\x9b", b"\x00"):
        assert sequence not in screen
    if no_color:
        assert b"\x1b" not in screen
    if case.status:
        assert case.message.encode() in screen and b"Traceback" not in screen
