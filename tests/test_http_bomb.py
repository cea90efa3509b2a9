"""Decoded size caps: a gzip or deflate bomb cannot make `netbench http` grow without bound.

On a terminal the decoded body is read up to 16 MiB and the view says it
stopped there; in a pipe the body streams to stdout whole, in bounded
pieces (flat memory; bench/http.py measures the peak RSS).
"""

from __future__ import annotations

import functools
import zlib

import pytest

from netbench.core.http import HttpConnection
from tests.hostile.server import CLOSE, HostileServer
from tests.test_http_hostile import run_http

DECODED = 24 << 20  # 24 MiB of zeros: about 24 KiB on the wire


@functools.cache
def _bomb(encoding: str) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    body = packer.compress(bytes(DECODED)) + packer.flush()
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (
        encoding.encode(),
        len(body),
    )
    return head + body


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_terminal_reads_a_decoded_body_up_to_16_mib_and_says_so(encoding: str):
    with HostileServer([_bomb(encoding), CLOSE]) as server:
        status, out, err = run_http(server.url + "/", server.url + "/again", tty=True)
        requests = len(server.requests)
    assert status == 0, err
    text = out.decode()
    assert text.count("stopped reading at 16 MiB of decoded body") == 2
    assert f"body: {encoding}" in text and f"-> {16 << 20} bytes" in text
    assert requests == 2  # the cut connection was not used again


def test_a_pipe_gets_the_whole_decoded_body():
    with HostileServer([_bomb("gzip"), CLOSE]) as server:
        status, out, err = run_http(server.url + "/", tty=False)
    assert status == 0, err
    assert len(out) == DECODED and not out.strip(b"\x00")
    assert "stopped reading" not in err


def test_the_parser_stops_at_the_cap_and_ends_the_connection():
    connection = HttpConnection()
    connection.request("GET", "/", host="h")
    parser = connection.parser(max_decoded=1000)
    response = parser.feed(_bomb("deflate"))
    assert response is not None and parser.truncated and parser.must_close
    assert response.body == bytes(1000) and response.body_size == 1000
    assert not connection.reusable
