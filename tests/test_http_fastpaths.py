"""The shortcuts of the per-response path give exactly what the general code gives.

Each test pits a fast path of the HTTP core or of ``netbench http`` against
the general code it stands for: responses made in one step against the
dataclass's own ``__init__``, the one-pass scan of a head's framing headers
against ``find_header``, the parser's defaults kept on its class against a
parser that has seen a response.
"""

from __future__ import annotations

import dataclasses
import gzip

import pytest

from netbench.core.decoding import can_decode, parse_encodings
from netbench.core.http import HttpConnection, HttpPipeline, ResponseParser, parse_response
from netbench.core.http_message import HttpResponse, Informational, find_header, new_response
from netbench.errors import ProtocolError

FIELDS = dict(
    http_version="1.1",
    status=200,
    reason="OK",
    headers=(("Content-Length", "2"), ("X", "y")),
    body=b"hi",
    encoded_size=2,
    content_encoding="gzip",
    trailers=(("T", "1"),),
    informational=(Informational(103, "Early Hints", (("Link", "</a>"),)),),
    raw=b"HTTP/1.1 200 OK\r\n\r\nhi",
    body_size=2,
    decoded=True,
    streamed=False,
)


def test_a_response_made_in_one_step_is_the_dataclass_in_every_way():
    made = new_response(*FIELDS.values())
    built = HttpResponse(**FIELDS)  # type: ignore[arg-type]
    assert type(made) is HttpResponse
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert list(vars(made).items()) == list(vars(built).items())
    assert dataclasses.asdict(made) == dataclasses.asdict(built)
    assert dataclasses.replace(made, body=b"") == dataclasses.replace(built, body=b"")
    assert made.header("x") == "y" and made.status_line == "HTTP/1.1 200 OK"
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = 404  # type: ignore[misc]
    assert made != dataclasses.replace(built, status=201)


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


BODY = _gz(b"hello")
HEADS = [
    b"Content-Length: 5\r\n\r\nhello",
    b"content-length: 5\r\n\r\nhello",
    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"TRANSFER-ENCODING: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"Content-Length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    b"CONTENT-ENCODING: identity, GZIP\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    b"Content-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello",
    b"Content-Encoding: br\r\nContent-Length: 5\r\n\r\nhello",
    b"Content-Encoding: \r\nContent-Length: 5\r\n\r\nhello",
    b"Content-Encoding: gzip\r\ncontent-encoding: br\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\nx-more: two\r\n\r\n",
]


@pytest.mark.parametrize("rest", HEADS)
def test_the_head_scan_finds_what_find_header_finds(rest):
    wire = b"HTTP/1.1 200 OK\r\nServer: t\r\n" + rest
    parser = ResponseParser("GET")
    response = parser.feed(wire) or parser.feed_eof()
    assert response is not None
    headers = response.headers
    # The general reading of the head, header by header.
    conflict = find_header(headers, "Transfer-Encoding") is not None and (
        find_header(headers, "Content-Length") is not None
    )
    encodings = parse_encodings(find_header(headers, "Content-Encoding"))
    assert parser.framing_conflict is conflict
    assert parser.must_close is conflict
    assert response.content_encoding == (", ".join(encodings) or None)
    assert response.decoded is bool(encodings and can_decode(encodings))
    assert response.body == b"hello"
    if b"X-Sum" in rest:
        assert response.trailers == (("X-Sum", "1"), ("x-more", "two"))
    else:
        assert response.trailers == ()


def test_parsers_start_clean_after_others_changed_their_state():
    first = ResponseParser("GET", keep_raw=False)
    gzipped = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
    first.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\nxx")
    assert first.framing_conflict and first.leftover == b"xx" and first.must_close
    capped = ResponseParser("GET", max_decoded=2)
    assert capped.feed(gzipped) is not None and capped.truncated
    fresh = ResponseParser("GET")
    assert not fresh.framing_conflict and not fresh.truncated and fresh.leftover == b""
    assert fresh.head is None and fresh.headers == () and fresh.response is None
    assert fresh.encoded_size == 0 and fresh.body_size == 0 and fresh.body_left() == 0
    response = fresh.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert response == parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert response is not None and response.content_encoding is None and not response.decoded


def test_keep_alive_and_pipelined_parsing_give_the_general_parse():
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    ]
    connection, pipeline = HttpConnection(), HttpPipeline()
    for _answer in answers:
        pipeline.request("GET", "/", (("Accept", "*/*"),), host="h")
    pieces = iter([b"".join(answers)])
    for answer in answers:
        general = parse_response(answer)
        connection.request("GET", "/", (("Accept", "*/*"),), host="h")
        connection_parse = connection.parser().feed(answer)
        piped = pipeline.parser()
        got = piped.feed(next(pieces, b""))
        assert got is not None
        assert connection_parse == general
        assert dataclasses.replace(got, raw=b"") == dataclasses.replace(general, raw=b"")


def test_a_bad_shared_event_answer_is_still_refused():
    # The end-of-message event is one shared instance now: a second request before the
    # answer is still refused, and the connection still parses what comes.
    connection = HttpConnection()
    connection.request("GET", "/", host="h")
    with pytest.raises(Exception, match="not finished"):
        connection.request("GET", "/", host="h")
    with pytest.raises(ProtocolError):
        connection.parser().feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
