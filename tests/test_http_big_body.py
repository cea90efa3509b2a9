"""Long Content-Length bodies are read past h11 (one copy a piece): same bytes, same errors.

A body of more than BYPASS_MIN bytes still due, with the wire bytes not kept,
goes from the socket straight to the decoder or stdout. These tests pit that
path against the h11 path and against misbehaving servers on loopback.
"""

from __future__ import annotations

import gzip
import random

import pytest

from netbench.core.http import HttpConnection
from netbench.core.http_parser import BYPASS_MIN
from tests.hostile.keepalive import ScriptServer, ok
from tests.hostile.server import CLOSE, HANG, HostileServer, Pause
from tests.test_http_hostile import run_http

BODY = random.Random(7).randbytes(3 * BYPASS_MIN + 12345)


def _head(size: int, *extra: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\n"
        + b"".join(line + b"\r\n" for line in extra)
        + b"Content-Length: %d\r\n\r\n" % size
    )


def test_a_long_body_reaches_a_pipe_byte_for_byte_and_the_next_url_still_works():
    def answer(seen):
        return [ok(BODY)] if seen.target == "/big" else [ok(b"small")]

    with ScriptServer(answer) as server:
        status, out, err = run_http(server.url + "/big", server.url + "/small", tty=False)
    assert status == 0, err
    assert out == BODY + b"small"


def test_a_long_gzip_body_is_decoded_on_the_way():
    packed = gzip.compress(BODY * 2, compresslevel=1, mtime=0)
    assert len(packed) > BYPASS_MIN
    with HostileServer([_head(len(packed), b"Content-Encoding: gzip") + packed, CLOSE]) as server:
        status, out, err = run_http(server.url + "/", tty=False)
    assert status == 0, err
    assert out == BODY * 2


def test_closing_in_the_middle_of_a_long_body_says_how_far_it_got():
    cut = 2 * BYPASS_MIN + 7
    with HostileServer([_head(len(BODY)) + BODY[:cut], CLOSE]) as server:
        status, out, err = run_http(server.url + "/", tty=False)
    assert status == 5, err
    assert f"closed after {cut} of {len(BODY)} body bytes" in err.splitlines()[-1]
    assert out == BODY[:cut]


def test_a_long_body_that_stalls_times_out():
    with HostileServer([_head(len(BODY)) + BODY[: 2 * BYPASS_MIN], HANG]) as server:
        status, _out, err = run_http(server.url + "/", tty=False)
    assert status == 4, err
    assert "timed out waiting for the rest of the body" in err and f"of {len(BODY)} body bytes" in err


def test_the_terminal_view_of_a_long_body_is_the_same():
    with HostileServer([_head(len(BODY)), Pause(0.05), BODY, CLOSE]) as server:
        status, out, err = run_http(server.url + "/", tty=True)
    assert status == 0, err
    assert f"showing the first {1 << 20} of {len(BODY)} body bytes" in out.decode()


@pytest.mark.parametrize("split", [1, 1000, BYPASS_MIN, 2 * BYPASS_MIN + 1])
def test_feed_body_gives_what_h11_gives(split: int):
    wire = _head(len(BODY)) + BODY
    head_end = wire.index(b"\r\n\r\n") + 4

    def parse(bypass: bool):
        connection = HttpConnection()
        connection.request("GET", "/", host="h")
        pieces: list[bytes] = []
        parser = connection.parser(sink=pieces.append, keep_raw=False)
        response = parser.feed(wire[: head_end + split])
        offset = head_end + split
        while response is None:
            piece = wire[offset : offset + 65536]
            offset += len(piece)
            if bypass and parser.body_left():
                assert len(piece) <= parser.body_left()
                response = parser.feed_body(piece)
            else:
                response = parser.feed(piece)
        return response, b"".join(pieces), parser, connection

    plain, plain_body, _parser, plain_connection = parse(False)
    fast, fast_body, parser, connection = parse(True)
    assert fast_body == plain_body == BODY
    assert fast == plain
    bypassed = split < len(BODY) - BYPASS_MIN
    assert parser.must_close is bypassed and connection.reusable is not bypassed
    assert plain_connection.reusable


def test_no_bypass_when_the_wire_bytes_are_kept_or_the_body_is_chunked():
    connection = HttpConnection()
    connection.request("GET", "/", host="h")
    parser = connection.parser(keep_raw=True)
    parser.feed(_head(len(BODY)) + BODY[:10])
    assert parser.body_left() == 0
    connection = HttpConnection()
    connection.request("GET", "/", host="h")
    parser = connection.parser(keep_raw=False)
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(BODY) + BODY[:10])
    assert parser.body_left() == 0
