"""The REPL against misbehaving servers: a clear message, no hang, no crash, no raw escapes."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.server import CLOSE, HANG, RESET, HostileServer, Step
from tests.support.cli import run_main


def run_get(steps: list[Step], script: str = "/get /\n") -> tuple[int, str, str]:
    with HostileServer(steps) as server:
        argv = ["repl", "127.0.0.1", str(server.port)]
        return run_main(argv, stdin=script, state_dir=Path("/nonexistent-netbench-state"))


def no_raw_controls(text: str) -> bool:
    return not any(c in text for c in "\x1b\x07\x9b\x00")


def test_reset_in_the_middle_of_a_body() -> None:
    status, out, err = run_get([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", RESET])
    assert status == 0
    assert "not shown parsed" in out
    assert "<- HTTP/1.1 200 OK\\r\\n\n" in out and "<- abc\n" in out  # what arrived, raw
    assert "reset" in (out + err).lower() or "closed" in (out + err)


def test_garbage_with_escapes_is_shown_escaped() -> None:
    steps: list[Step] = [b"\x1b]0;owned\x07\x1b[2J garbage \x00\xff\r\n", CLOSE]
    status, out, err = run_get(steps, "/get /\n/wait never-matches 10\n")  # the /wait ends at the close
    assert status == 0
    assert "not shown parsed" in out
    assert no_raw_controls(out) and no_raw_controls(err)
    assert "connection closed by peer" in out


def test_escapes_inside_a_parsed_response_stay_escaped() -> None:
    body = b"\x1b[31mred\x1b[0m \x07bell\n"
    head = b"HTTP/1.1 200 OK\r\nX-Evil: \x1b]0;title\x07\r\nContent-Type: text/plain\r\n"
    status, out, _ = run_get([head + b"Content-Length: %d\r\n\r\n" % len(body) + body])
    assert status == 0
    assert "<- HTTP/1.1 200 OK" in out
    assert "red" in out and "bell" in out
    assert no_raw_controls(out)


def test_an_endless_partial_response_is_shown_raw_after_quiet() -> None:
    status, out, _ = run_get([b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nstart of body", HANG])
    assert status == 0
    assert "incomplete after 2 s of quiet" in out
    assert "<- start of body" in out


def test_huge_headers() -> None:
    status, out, _ = run_get([b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", CLOSE])
    assert status == 0
    assert "not shown parsed" in out


def test_typed_bytes_that_are_not_utf8_are_shown_escaped() -> None:
    # stdin decodes with surrogate escapes: the byte 0xff arrives as "\udcff"
    script = "/\udcff\x1b[2J\n/set a \udcff\n/vars\n"
    status, out, err = run_main(["repl"], stdin=script, state_dir=Path("/nonexistent-netbench-state"))
    assert status == 0
    assert "error: unknown command /\\xff\\x1b[2J (see /help)" in err
    assert "${a} = \\xff" in out and "  a = \\xff" in out
    assert "internal error" not in out + err
    assert no_raw_controls(out) and no_raw_controls(err)
