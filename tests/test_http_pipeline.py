"""`netbench http --pipeline [N]`: requests written ahead, answers the same as one at a time.

Against nginx (the results must be identical with and without) and against
scripted servers that close in the middle of a pipeline, announce the end
of keep-alive, answer one request per connection, or are slow but steady.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.hostile.keepalive import ScriptServer, Seen, ok
from tests.hostile.server import CLOSE, Pause, Step
from tests.test_http_hostile import run_http

TIMINGS = re.compile(r"(Date: .*|body: .*|.*connect.*ms.*|.*reused connection.*)\n")


def _same(text: str) -> str:
    return TIMINGS.sub("", text)


def echo_target(seen: Seen) -> list[Step]:
    return [ok(seen.target.encode())]


def urls(server: ScriptServer, count: int) -> list[str]:
    return [f"{server.url}/{i}" for i in range(count)]


def expected(count: int) -> bytes:
    return b"".join(f"/{i}".encode() for i in range(count))


@pytest.mark.nginx
@pytest.mark.parametrize("tty", [False, True])
def test_results_are_identical_with_and_without_pipelining(nginx, tty: bool):
    base = f"http://127.0.0.1:{nginx.port}"
    paths = ["/index.html", "/missing", "/data.json", "/index.html?a=1", "/big.txt"] * 8
    targets = [base + path for path in paths]
    plain = run_http(*targets, tty=tty)
    for depth in ([], ["3"], ["64"]):
        piped = run_http("--pipeline", *depth, *targets, tty=tty)
        assert piped[0] == plain[0] == 0
        assert _same(piped[1].decode("latin-1")) == _same(plain[1].decode("latin-1"))
        assert _same(piped[2]) == _same(plain[2])


def test_verbose_shows_the_requests_leaving_before_the_first_answer():
    with ScriptServer(echo_target) as server:
        status, out, err = run_http("-v", "--pipeline", "4", *urls(server, 6), tty=False)
    assert status == 0 and out == expected(6)
    lines = [line for line in err.splitlines() if line.startswith(("> ", "HTTP/"))]
    assert lines[:5] == [
        f"> GET {server.url}/0  (1 unanswered)",
        f"> GET {server.url}/1  (2 unanswered)",
        f"> GET {server.url}/2  (3 unanswered)",
        f"> GET {server.url}/3  (4 unanswered)",
        "HTTP/1.1 200 OK",
    ]
    assert len([line for line in lines if line.startswith("> ")]) == 6


def test_a_server_that_closes_mid_pipeline_gets_the_unanswered_requests_again():
    def answer(seen: Seen) -> list[Step]:
        if seen.connection == 1 and seen.number == 3:
            return [ok(seen.target.encode()), CLOSE]  # closes without saying so
        return [ok(seen.target.encode())]

    with ScriptServer(answer) as server:
        status, out, err = run_http("--pipeline", "8", *urls(server, 12), tty=False)
        connections = server.connections
    assert status == 0, err
    assert out == expected(12)
    assert connections == 2


def test_an_announced_end_of_keep_alive_is_no_failure():
    def answer(seen: Seen) -> list[Step]:
        if seen.number == 3:
            return [ok(seen.target.encode(), b"Connection: close"), CLOSE]
        return [ok(seen.target.encode())]

    with ScriptServer(answer) as server:
        status, out, err = run_http("--pipeline", *urls(server, 20), tty=False)
    assert status == 0, err
    assert out == expected(20)


@pytest.mark.parametrize("announced", [True, False])
def test_a_server_with_one_answer_per_connection_still_gets_every_request(announced: bool):
    extra = (b"Connection: close",) if announced else ()

    def answer(seen: Seen) -> list[Step]:
        return [ok(seen.target.encode(), *extra), CLOSE]

    with ScriptServer(answer) as server:
        status, out, err = run_http("--pipeline", "8", *urls(server, 10), tty=False)
        connections = server.connections
    assert status == 0, err
    assert out == expected(10)
    assert connections == 10


def test_a_server_that_never_answers_is_given_one_more_try_only():
    with ScriptServer(lambda seen: [CLOSE]) as server:
        status, out, err = run_http("--pipeline", *urls(server, 5), tty=False)
        connections = server.connections
    assert status == 5
    assert "closed before any response" in err.splitlines()[-1]
    assert out == b"" and connections == 2


def test_a_slow_but_steady_server_is_not_timed_out_for_being_behind():
    # Each answer takes 0.3 s, within -w 0.5; the sixth comes 1.8 s after all six were written.
    with ScriptServer(lambda seen: [Pause(0.3), ok(seen.target.encode())]) as server:
        status, out, err = run_http("--pipeline", *urls(server, 6), tty=False)
    assert status == 0, err
    assert out == expected(6)


def test_head_answers_are_framed_as_head():
    def answer(seen: Seen) -> list[Step]:
        return [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Target: %s\r\n\r\n" % seen.target.encode()]

    with ScriptServer(answer) as server:
        status, out, err = run_http("-X", "HEAD", "--pipeline", *urls(server, 5), tty=False)
        connections = server.connections
    assert status == 0, err
    assert out == b"" and connections == 1
    assert [line for line in err.splitlines() if line.startswith("X-Target")] == [
        f"X-Target: /{i}" for i in range(5)
    ]


def test_a_post_is_not_pipelined():
    with ScriptServer(lambda seen: [ok(seen.body)]) as server:
        status, out, err = run_http("-v", "--pipeline", "-d", "x", *urls(server, 3), tty=False)
    assert status == 0 and out == b"xxx"
    assert "unanswered" not in err and err.count("> POST ") == 3


def test_pipeline_takes_an_optional_depth_before_the_urls():
    with ScriptServer(echo_target) as server:
        assert run_http("--pipeline", server.url + "/0", server.url + "/1", tty=False)[1] == expected(2)
        assert run_http("--pipeline", server.url + "/0", tty=False)[1] == expected(1)
        assert run_http("--pipeline", "2", server.url + "/0", tty=False)[1] == expected(1)
    status, _out, err = run_http("--pipeline", "0", "http://127.0.0.1:9/", tty=False)
    assert status == 2 and "--pipeline: N must be 1 or more" in err
    status, _out, err = run_http("--pipeline", tty=False)
    assert status == 2 and "give at least one URL" in err


def test_bytes_after_a_pipeline_never_answer_the_next_one_on_the_same_origin():
    """Origin A, origin B, origin A again: what A sent late is noticed before A's second run."""
    evil = ok(b"EVIL")

    def answer(seen: Seen) -> list[Step]:
        if seen.connection == 1 and seen.number == 2:
            return [ok(seen.target.encode()), Pause(0.05), evil]  # the stray answer comes late
        return [ok(seen.target.encode())]

    first = ScriptServer(answer)

    def after_first(seen: Seen) -> list[Step]:
        for _ in range(500):  # B answers once A has played the stray answer too
            if first.answered >= 2:
                break
            time.sleep(0.01)
        return echo_target(seen)

    with first, ScriptServer(after_first) as second:
        one = [f"{first.url}/a{i}" for i in range(2)]
        two = [f"{second.url}/b{i}" for i in range(2)]
        three = [f"{first.url}/c{i}" for i in range(2)]
        status, out, err = run_http("--pipeline", *one, *two, *three, "-w", "2", tty=False)
        connections = first.connections
    assert status == 0, err
    assert out == b"/a0/a1/b0/b1/c0/c1"
    assert connections == 2


def test_a_bad_url_stops_the_run_after_the_urls_before_it_as_without_pipelining():
    with ScriptServer(echo_target) as server:
        argv = [server.url + "/0", server.url + "/1", "ftp://127.0.0.1/x", server.url + "/2"]
        plain = run_http(*argv, tty=False)
        piped = run_http("--pipeline", *argv, tty=False)
    assert plain[0] == piped[0] == 2
    assert plain[1] == piped[1] == expected(2)
