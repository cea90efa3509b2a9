"""Keep-alive desync: bytes a server sends that no request asked for are never an answer.

Each server below answers the first request with a response followed by
something extra (a second, unsolicited response; a body after 204, 304 or
HEAD; bytes after a chunked body that also had Content-Length). The second
URL must get its own answer, on a fresh connection, as with curl.
"""

from __future__ import annotations

import pytest

from tests.hostile.keepalive import ScriptServer, Seen, ok
from tests.hostile.server import Pause, Step
from tests.test_http_hostile import run_http

EVIL = ok(b"EVIL")


def _first_then_honest(first: list[Step]):
    def answer(seen: Seen) -> list[Step]:
        if seen.connection == 1 and seen.number == 1:
            return first
        return [ok(seen.target.encode(), b"X-Target: " + seen.target.encode())]

    return answer


CASES = {
    "second-unsolicited-response": ("GET", [ok(b"one") + EVIL]),
    "body-after-204": ("GET", [b"HTTP/1.1 204 No Content\r\n\r\n" + EVIL]),
    "body-after-304": ("GET", [b"HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n" + EVIL]),
    "body-after-head": ("HEAD", [b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n" + EVIL]),
    "after-chunked-with-length": (
        "GET",
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n"
            + EVIL
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_leftover_bytes_never_answer_the_next_request(name: str):
    method, first = CASES[name]
    with ScriptServer(_first_then_honest(first)) as server:
        status, out, err = run_http("-X", method, server.url + "/one", server.url + "/two", tty=False)
        connections = server.connections
        targets = [(seen.connection, seen.target) for seen in server.requests]
    assert status == 0, err
    assert b"EVIL" not in out and "EVIL" not in err
    assert "X-Target: /two" in err
    assert targets == [(1, "/one"), (2, "/two")]
    assert connections == 2


def test_length_with_transfer_encoding_is_read_chunked_and_the_connection_not_reused():
    first = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n"
    ]
    with ScriptServer(_first_then_honest(first)) as server:
        status, out, err = run_http(server.url + "/one", server.url + "/two", tty=False)
        connections = server.connections
    assert status == 0, err
    assert out == b"one/two"
    assert connections == 2


def test_a_clean_keep_alive_server_still_gets_one_connection():
    with ScriptServer(lambda seen: [ok(seen.target.encode())]) as server:
        status, out, _err = run_http(*(f"{server.url}/{i}" for i in range(5)), tty=False)
        assert server.connections == 1
    assert status == 0 and out == b"/0/1/2/3/4"


def test_bytes_that_arrive_after_the_response_are_noticed_before_the_next_request():
    """The stray response comes in its own write, after the first was read: the idle
    connection is seen to hold it before the next request would go out on it."""
    import time

    from netbench.core.address import Target
    from netbench.net.http_client import HttpClient

    with ScriptServer(_first_then_honest([ok(b"one"), Pause(0.1), EVIL])) as server:
        with HttpClient(Target("tcp", "127.0.0.1", server.port), timeout=5) as client:
            first = client.fetch("GET", "/one", [])
            deadline = time.monotonic() + 5
            while server.answered < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            second = client.fetch("GET", "/two", [])
        assert server.connections == 2 and client.connections == 2
    assert first.response.body == b"one"
    assert second.response.body == b"/two"


def test_the_terminal_view_shows_each_answer_once():
    with ScriptServer(_first_then_honest([ok(b"one") + EVIL])) as server:
        status, out, _err = run_http(server.url + "/one", server.url + "/two", tty=True)
    text = out.decode()
    assert status == 0 and "EVIL" not in text and "one" in text and "/two" in text
