"""Interim (1xx) responses: bounded in number and in time, against real servers on loopback.

A server may send 1xx responses before the final one. They count against
the same -w deadline as the final head (they do not restart it), and more
than 64 of them is a protocol error (exit 6), so an endless stream of them
neither hangs `netbench http` nor grows its memory.
"""

from __future__ import annotations

from tests.hostile.server import CLOSE, HostileServer, Pause
from tests.test_http_hostile import run_http

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
FINAL = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"


def test_slow_interim_responses_do_not_restart_the_deadline():
    # One 1xx every 0.1 s for 3 s: each alone is well within -w 0.5, together far past it.
    steps = [step for _ in range(30) for step in (CONTINUE, Pause(0.1))]
    with HostileServer([*steps, FINAL, CLOSE]) as server:
        status, out, err = run_http(server.url + "/", tty=False)
    assert status == 4, err
    assert out == b""
    last = err.strip().splitlines()[-1]
    assert last.startswith("netbench: timed out waiting for a response") and "interim (1xx)" in last


def test_more_than_64_interim_responses_are_a_protocol_error():
    with HostileServer([CONTINUE * 65 + FINAL, CLOSE]) as server:
        status, out, err = run_http(server.url + "/", tty=True)
    assert status == 6, err
    assert "more than 64 interim (1xx) responses" in err.strip().splitlines()[-1]
    assert b"final" not in out


def test_64_interim_responses_are_still_fine():
    with HostileServer([b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" * 64 + FINAL, CLOSE]) as server:
        status, out, err = run_http(server.url + "/", tty=True)
    assert status == 0, err
    assert out.decode().count("HTTP/1.1 103 Early Hints") == 64 and b"final" in out


def test_a_trickled_head_is_bounded_by_the_deadline_too():
    steps = [step for byte in FINAL[:40] for step in (bytes([byte]), Pause(0.05))]
    with HostileServer([*steps, CLOSE]) as server:
        status, _out, err = run_http(server.url + "/", tty=False)
    assert status == 4, err
    assert "timed out waiting for a response" in err
