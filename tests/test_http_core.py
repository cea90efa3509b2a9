"""The sans-IO HTTP core: request bytes, response parsing at every byte split, sniffing."""

from __future__ import annotations

import gzip
import zlib

import pytest

from netbench.core.decoding import BodyDecoder, DecodeError, charset_of, decode_body, text_of
from netbench.core.http import (
    HttpConnection,
    HttpExchange,
    NotHttp,
    ResponseParser,
    build_request,
    parse_response,
    sniff_exchange,
)
from netbench.errors import ProtocolError, Reset, UsageError

GZ = gzip.compress(b"hello gzip " * 20, mtime=0)
ZLIB = zlib.compress(b"hello zlib " * 20)
RAW_DEFLATE = ZLIB[2:-4]

# (name, wire bytes, method, expected status, expected body, expected trailers)
RESPONSES = [
    (
        "length",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello",
        "GET",
        200,
        b"hello",
        (),
    ),
    (
        "chunked",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        "GET",
        200,
        b"abcde",
        (),
    ),
    (
        "trailers",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nX-Sum: 9\r\n\r\n",
        "GET",
        200,
        b"z",
        (("X-Sum", "9"),),
    ),
    (
        "until-eof",
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end",
        "GET",
        200,
        b"to the end",
        (),
    ),
    (
        "continue",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        "POST",
        201,
        b"ok",
        (),
    ),
    ("head", b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n", "HEAD", 200, b"", ()),
    ("no-content", b"HTTP/1.1 204 No Content\r\n\r\n", "GET", 204, b"", ()),
    ("not-modified", b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n', "GET", 304, b"", ()),
    (
        "gzip",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(GZ) + GZ,
        "GET",
        200,
        b"hello gzip " * 20,
        (),
    ),
    (
        "deflate-zlib",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(ZLIB) + ZLIB,
        "GET",
        200,
        b"hello zlib " * 20,
        (),
    ),
    (
        "deflate-raw",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(RAW_DEFLATE)
        + RAW_DEFLATE,
        "GET",
        200,
        b"hello zlib " * 20,
        (),
    ),
    ("lf-only", b"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", "GET", 200, b"hi", ()),
]


def _feed_split(data: bytes, cut: int, method: str):
    parser = ResponseParser(method)
    result = None
    for piece in (data[:cut], data[cut:]):
        if piece:
            result = parser.feed(piece) or result
    return result or parser.feed_eof()


@pytest.mark.parametrize(
    ("name", "wire", "method", "status", "body", "trailers"), RESPONSES, ids=[r[0] for r in RESPONSES]
)
def test_every_byte_split_gives_the_same_response(name, wire, method, status, body, trailers):
    whole = parse_response(wire, method)
    assert (whole.status, whole.body, whole.trailers) == (status, body, trailers)
    assert whole.raw == wire
    for cut in range(len(wire) + 1):
        assert _feed_split(wire, cut, method) == whole, f"split at {cut}"


def test_byte_by_byte_feeding_matches():
    for _name, wire, method, *_ in RESPONSES:
        parser = ResponseParser(method)
        result = None
        for index in range(len(wire)):
            result = parser.feed(wire[index : index + 1]) or result
        assert (result or parser.feed_eof()) == parse_response(wire, method)


def test_headers_keep_case_order_and_duplicates():
    response = parse_response(RESPONSES[0][1])
    assert response.headers == (("Content-Length", "5"), ("X-A", "1"), ("x-a", "2"))
    assert response.header("x-A") == "1"
    assert response.header_values("X-A") == ["1", "2"]
    assert response.header("missing") is None
    assert response.status_line == "HTTP/1.1 200 OK"


def test_gzip_keeps_the_encoded_size():
    response = parse_response(RESPONSES[8][1])
    assert response.content_encoding == "gzip" and response.decoded
    assert response.encoded_size == len(GZ)
    assert response.body_size == len(b"hello gzip " * 20)


def test_unknown_encoding_is_left_alone():
    response = parse_response(b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nxyz")
    assert response.body == b"xyz" and not response.decoded and response.content_encoding == "br"


def test_informational_responses_are_kept():
    response = parse_response(RESPONSES[4][1], "POST")
    assert [(i.status, i.reason) for i in response.informational] == [(100, "Continue")]


def test_sink_streams_the_body_without_keeping_it():
    pieces: list[bytes] = []
    parser = ResponseParser(sink=pieces.append, keep_raw=False)
    wire = RESPONSES[8][1]
    for index in range(0, len(wire), 7):
        parser.feed(wire[index : index + 7])
    response = parser.response
    assert response is not None and response.streamed
    assert response.body == b"" and response.raw == b""
    assert b"".join(pieces) == b"hello gzip " * 20 and response.body_size == len(b"".join(pieces))


@pytest.mark.parametrize(
    ("wire", "error", "words"),
    [
        (b"hello world\n", ProtocolError, "not an HTTP response"),
        (b"\x1b[2J\x00\xff", ProtocolError, "not an HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", Reset, "after 3 of 10 body bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", Reset, "middle of the body"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", Reset, "middle of the response head"),
        (b"", Reset, "before any response"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ProtocolError, "chunk"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
            ProtocolError,
            "conflicting Content-Length",
        ),
        (b"HTTP/1.1 abc OK\r\n\r\n", ProtocolError, "illegal status line"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 300 + b"\r\n", ProtocolError, "300 headers"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
            ProtocolError,
            "gzip body does not decode",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n" + GZ[:10],
            ProtocolError,
            "truncated",
        ),
    ],
)
def test_bad_responses_raise_one_clear_error(wire, error, words):
    with pytest.raises(error) as info:
        parse_response(wire)
    message = str(info.value)
    assert words in message
    assert "\x1b" not in message and "\n" not in message


def test_error_messages_never_carry_raw_controls():
    with pytest.raises(ProtocolError) as info:
        parse_response(b"HTTP/1.1 200 OK\r\nX\x1b[31m: 1\r\n\r\n")
    assert "\x1b" not in str(info.value) and "x1b" in str(info.value)
    assert info.value.partial.startswith(b"HTTP/1.1 200 OK")


def test_build_request_adds_host_and_length():
    assert build_request("GET", "/x", [("Accept", "*/*")], host="127.0.0.1:8080") == (
        b"GET /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n\r\n"
    )
    assert build_request("POST", "/p", body=b"abc") == (
        b"POST /p HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert build_request("GET", "/", [("host", "mine")]) == b"GET / HTTP/1.1\r\nhost: mine\r\n\r\n"
    chunked = build_request("PUT", "/c", body=b"hello", chunked=True)
    assert chunked.endswith(b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")


def test_build_request_refuses_invalid_input():
    with pytest.raises(UsageError):
        build_request("GET", "/", [("Bad Name", "x")])
    with pytest.raises(UsageError):
        build_request("GE T", "/")


def test_keep_alive_cycles_on_one_connection():
    connection = HttpConnection()
    first = connection.request("GET", "/a", host="h")
    assert first == b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
    assert connection.parser().feed(wire) is not None
    assert connection.reusable
    connection.request("HEAD", "/b", host="h")
    second = connection.parser()
    response = second.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n")
    assert response is not None and response.status == 200 and response.body == b""
    assert response.raw == b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"
    assert connection.reusable


@pytest.mark.parametrize(
    ("method", "wire"),
    [
        ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 20"),  # a second response
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\nstray"),  # a body after 204
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nstray"),  # after 304
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray"),  # a body after HEAD
        ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nX"),
    ],
)
def test_bytes_nobody_asked_for_end_keep_alive(method, wire):
    connection = HttpConnection()
    connection.request(method, "/", host="h")
    parser = connection.parser()
    assert parser.feed(wire) is not None
    assert parser.leftover and parser.must_close
    assert not connection.reusable


def test_content_length_with_transfer_encoding_is_read_chunked_and_ends_keep_alive():
    connection = HttpConnection()
    connection.request("GET", "/", host="h")
    parser = connection.parser()
    wire = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    )
    response = parser.feed(wire)
    assert response is not None and response.body == b"abc"
    assert parser.leftover == b"" and parser.must_close
    assert not connection.reusable


def test_connection_close_ends_keep_alive():
    connection = HttpConnection()
    connection.request("GET", "/", host="h")
    connection.parser().feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert not connection.reusable


def test_sniff_exchange_parses_a_hand_typed_request():
    exchange = sniff_exchange(
        b"GET /index.html HTTP/1.1\nHost: x\n\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP",
    )
    assert isinstance(exchange, HttpExchange)
    assert (exchange.method, exchange.target, exchange.request_line) == (
        "GET",
        "/index.html",
        "GET /index.html HTTP/1.1",
    )
    assert exchange.request_headers == (("Host", "x"),)
    assert exchange.response.body == b"hi" and exchange.extra == b"HTTP"


@pytest.mark.parametrize(
    ("sent", "received", "closed", "words", "incomplete"),
    [
        (b"PING\r\n", b"+PONG\r\n", False, "does not start with a request line", False),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", b"", False, "not finished", True),
        (b"GET / HTTP/1.1\r\n\r\n", b"", False, "no response yet", True),
        (b"GET / HTTP/1.1\r\n\r\n", b"SSH-2.0-OpenSSH\r\n", False, "does not start with an HTTP", False),
        (b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\npart", False, "not complete", True),
        (
            b"GET / HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\npart",
            True,
            "after 4 of 9",
            False,
        ),
    ],
)
def test_sniff_says_why_it_is_not_http(sent, received, closed, words, incomplete):
    result = sniff_exchange(sent, received, closed=closed)
    assert isinstance(result, NotHttp) and not result
    assert words in result.reason and result.incomplete is incomplete


def test_sniff_head_request_and_closed_body():
    head = sniff_exchange(b"HEAD / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")
    assert isinstance(head, HttpExchange) and head.response.body == b""
    closed = sniff_exchange(b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\nall", closed=True)
    assert isinstance(closed, HttpExchange) and closed.response.body == b"all"


def test_decoder_every_split_and_multi_member_gzip():
    data = gzip.compress(b"one ", mtime=0) + gzip.compress(b"two", mtime=0)
    assert decode_body(data, ("gzip",)) == b"one two"
    for wire, name, plain in (
        (GZ, "gzip", b"hello gzip " * 20),
        (RAW_DEFLATE, "deflate", b"hello zlib " * 20),
        (ZLIB, "deflate", b"hello zlib " * 20),
    ):
        for cut in range(len(wire) + 1):
            decoder = BodyDecoder((name,))
            assert decoder.feed(wire[:cut]) + decoder.feed(wire[cut:]) + decoder.finish() == plain


def test_decoder_errors_and_charsets():
    with pytest.raises(DecodeError):
        decode_body(b"not gzip", ("gzip",))
    with pytest.raises(DecodeError):
        BodyDecoder(("br",))
    assert charset_of('text/html; charset="ISO-8859-1"') == "iso8859-1"
    assert charset_of("text/html; charset=nonsense") is None
    assert text_of("é".encode("latin-1"), "text/plain; charset=latin-1") == "é"
    assert text_of(b"\xff\xfe", None) is None


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, deflate"])
def test_a_body_that_expands_a_thousandfold_is_delivered_in_bounded_pieces(encoding: str) -> None:
    from netbench.core.decoding import PIECE

    plain = b"\0" * (40 * PIECE)
    encoded = plain
    for name in (part.strip() for part in encoding.split(",")):
        encoded = gzip.compress(encoded) if name == "gzip" else zlib.compress(encoded)
    assert len(encoded) < PIECE // 4  # one read of the wire is enough to hold all of it
    sizes: list[int] = []
    parser = ResponseParser(sink=lambda piece: sizes.append(len(piece)), keep_raw=False)
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: {encoding}\r\nContent-Length: {len(encoded)}\r\n\r\n"
    response = parser.feed(head.encode() + encoded)
    assert response is not None and response.status == 200
    assert sum(sizes) == len(plain)
    assert max(sizes) <= PIECE


PIPELINED = [
    ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"),
    ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
    ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"),
    ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"),
]


def _pipelined(cut: int) -> list:
    from netbench.core.http import HttpPipeline

    pipeline = HttpPipeline()
    sent = b"".join(pipeline.request(method, f"/{i}", host="h") for i, (method, _) in enumerate(PIPELINED))
    assert sent.count(b"HTTP/1.1\r\nHost: h\r\n\r\n") == len(PIPELINED)
    wire = b"".join(answer for _, answer in PIPELINED)
    pieces = [wire[:cut], wire[cut:]]
    responses = []
    for _ in PIPELINED:
        assert pipeline.reusable
        parser = pipeline.parser()
        response = parser.feed(b"")
        while response is None:
            response = parser.feed(pieces.pop(0)) if pieces else parser.feed_eof()
        responses.append(response)
    assert pipeline.reusable and pipeline.queued == 0
    return responses


def test_pipelined_answers_parse_the_same_at_every_byte_split():
    alone = []
    for method, answer in PIPELINED:
        connection = HttpConnection()
        connection.request(method, "/", host="h")
        alone.append(connection.parser().feed(answer))
    total = sum(len(answer) for _, answer in PIPELINED)
    for cut in range(total + 1):
        got = _pipelined(cut)
        assert [(r.status, r.body, r.headers, r.raw) for r in got] == [
            (r.status, r.body, r.headers, r.raw) for r in alone
        ], cut


def test_a_pipeline_ends_after_connection_close_or_bytes_nobody_asked_for():
    from netbench.core.http import HttpPipeline

    pipeline = HttpPipeline()
    pipeline.request("GET", "/a", host="h")
    pipeline.request("GET", "/b", host="h")
    parser = pipeline.parser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n") is not None
    assert not pipeline.reusable and pipeline.queued == 1
    pipeline = HttpPipeline()
    pipeline.request("GET", "/a", host="h")
    parser = pipeline.parser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n") is not None
    assert not pipeline.reusable  # the last answer is followed by bytes no request asked for
