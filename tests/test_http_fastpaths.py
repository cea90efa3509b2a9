"""The shortcuts of the per-response path give exactly what the general code gives.

Each test pits a fast path of the HTTP core or of ``netbench http`` against
the general code it stands for: responses (plain classes now) against the
frozen dataclasses they were, the one-pass scan of a head's framing headers
against ``find_header``, the parser's defaults kept on its class against a
parser that has seen a response.
"""

from __future__ import annotations

import copy
import dataclasses
import gzip
import pickle
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from netbench.core.decoding import can_decode, parse_encodings
from netbench.core.http import HttpConnection, HttpPipeline, ResponseParser, parse_response
from netbench.core.http_message import HttpResponse, Informational, find_header
from netbench.errors import ProtocolError
from netbench.net.http_client import HttpClient
from netbench.net.http_pool import ClientPool, parse_url
from netbench.net.redirect import Request
from tests.hostile.keepalive import ScriptServer, ok
from tests.hostile.server import CLOSE, RESET, LoopbackListener, read_request_head
from tests.pipe_helpers import ENV

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


@dataclasses.dataclass(frozen=True)
class _Informational:  # the frozen dataclasses HttpResponse and Informational were
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class _Response:
    http_version: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    encoded_size: int = 0
    content_encoding: str | None = None
    trailers: tuple[tuple[str, str], ...] = ()
    informational: tuple[object, ...] = ()
    raw: bytes = b""
    body_size: int = 0
    decoded: bool = False
    streamed: bool = False


def _as_reference(response: HttpResponse) -> _Response:
    infos = tuple(_Informational(i.status, i.reason, i.headers) for i in response.informational)
    values = {name: getattr(response, name) for name in HttpResponse.__match_args__}
    return _Response(**{**values, "informational": infos})


def test_responses_behave_as_the_frozen_dataclasses_they_were():
    response = HttpResponse(**FIELDS)  # type: ignore[arg-type]
    reference = _as_reference(response)
    assert [field.name for field in dataclasses.fields(_Response)] == list(HttpResponse.__match_args__)
    assert repr(response) == repr(reference).replace("_Response(", "HttpResponse(").replace(
        "_Informational(", "Informational("
    )
    assert response == HttpResponse(*FIELDS.values()) and hash(response) == hash(HttpResponse(**FIELDS))
    assert hash(HttpResponse("1.1", 200, "OK", ())) == hash(_Response("1.1", 200, "OK", ()))
    assert response != reference and response != dataclasses.astuple(reference)
    for name, value in (("status", 201), ("body", b""), ("headers", ()), ("streamed", True)):
        changed = response.replace(**{name: value})
        assert _as_reference(changed) == dataclasses.replace(reference, **{name: value})
        assert changed != response and getattr(response, name) == FIELDS[name]
    with pytest.raises(TypeError):
        response.replace(nope=1)
    with pytest.raises(AttributeError):
        response.status = 404  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del response.body
    assert copy.copy(response) == response and pickle.loads(pickle.dumps(response)) == response
    assert copy.deepcopy(response) == response
    assert response.header("x") == "y" and response.status_line == "HTTP/1.1 200 OK"
    assert response.header_values("X") == ["y"] and response.content_type is None
    info = response.informational[0]
    assert info == Informational(103, "Early Hints", (("Link", "</a>"),)) != Informational(103, "x")
    assert repr(info) == "Informational(status=103, reason='Early Hints', headers=(('Link', '</a>'),))"
    assert len({info, Informational(103, "Early Hints", (("Link", "</a>"),))}) == 1
    match response:
        case HttpResponse("1.1", status, _, headers):
            assert (status, headers) == (200, FIELDS["headers"])
        case _:
            pytest.fail("no match")


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
        assert got.replace(raw=b"") == general.replace(raw=b"")


def test_a_bad_shared_event_answer_is_still_refused():
    # The end-of-message event is one shared instance now: a second request before the
    # answer is still refused, and the connection still parses what comes.
    connection = HttpConnection()
    connection.request("GET", "/", host="h")
    with pytest.raises(Exception, match="not finished"):
        connection.request("GET", "/", host="h")
    with pytest.raises(ProtocolError):
        connection.parser().feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")


class _Idle(LoopbackListener):
    """Answers the first request, then (when the test says so) plays *after* on the idle
    connection, then answers every later request on a new or the same connection."""

    def __init__(self, after: bytes | str | None) -> None:
        super().__init__()
        self.after = after
        self.go, self.played = threading.Event(), threading.Event()

    def serve(self, conn: socket.socket, number: int) -> None:
        conn.settimeout(10)
        with conn:
            data = read_request_head(conn)
            while data is not None:
                head, _, data = data.partition(b"\r\n\r\n")
                conn.sendall(ok(head.split(b" ")[1]))
                if number == 1 and not self.played.is_set():
                    self.go.wait(10)
                    if self.after == RESET:
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.played.set()
                        return
                    if self.after == CLOSE:
                        conn.shutdown(socket.SHUT_WR)
                    elif isinstance(self.after, bytes):
                        conn.sendall(self.after)
                    self.played.set()
                data = read_request_head(conn, data)


@pytest.mark.parametrize(
    ("after", "connections"),
    [
        (None, 1),  # nothing more: the idle connection is used again
        (b"junk", 2),  # bytes nobody asked for: a new connection, never read as the answer
        (CLOSE, 2),  # the server's close
        (RESET, 2),  # the server's reset
    ],
)
def test_the_kept_poller_sees_what_the_idle_check_sees(after, connections):
    with _Idle(after) as server:
        target, _path = parse_url(server.url + "/")
        with HttpClient(target, timeout=5) as client:
            first = client.fetch("GET", "/one", [("Accept", "*/*")])
            server.go.set()  # the answer was read whole: what follows reaches an idle connection
            assert server.played.wait(10)
            time.sleep(0.05)  # let the kernel deliver the close or the reset to our side
            second = client.fetch("GET", "/two", [("Accept", "*/*")])
    assert (first.response.body, second.response.body) == (b"/one", b"/two")
    assert server.connections == client.connections == connections
    assert second.timings.reused is (connections == 1)


def test_the_pool_keeps_one_client_per_origin_when_origins_alternate():
    def answer(seen):
        return [ok(seen.target.encode())]

    with ScriptServer(answer) as one, ScriptServer(answer) as two, ClientPool(timeout=5) as pool:
        urls = [one.url + "/a", two.url + "/b", one.url + "/c", one.url + "/d", two.url + "/e"]
        bodies = [pool.fetch(Request(url, "GET", (("Accept", "*/*"),))).response.body for url in urls]
        assert bodies == [b"/a", b"/b", b"/c", b"/d", b"/e"]
        assert len(pool.clients) == 2 and (one.connections, two.connections) == (1, 1)
        assert [client.target.port for client in pool.clients.values()] == [
            parse_url(one.url)[0].port,
            parse_url(two.url)[0].port,
        ]


REDIRECT = b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 3\r\n\r\nmov"


def _walked(args: list[str], server: ScriptServer) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "netbench", "http", *args, server.url + "/a", server.url + "/b"],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    return done.returncode, done.stdout, done.stderr


def test_one_exchange_per_url_shows_what_the_redirect_walk_shows():
    # Without --follow each URL is one exchange (no hops() walk): the same output, notes and
    # exit status as the walk gives with --max-redirects 0, where it stops after one exchange.
    with ScriptServer(lambda seen: [REDIRECT if seen.target == "/a" else ok(b"body")]) as server:
        plain = _walked(["--check-status"], server)
        assert plain[0] == 0
        assert plain[1] == "movbody"
        assert "302 Found" in plain[2] and "redirect not followed (--follow follows it)" in plain[2]
        assert plain[2].count("200 OK") == 1
    with ScriptServer(lambda seen: [ok(b"x")]) as server:
        status, out, err = _walked(["--raw"], server)
        assert status == 0 and out == "xx" and err.count("GET /a HTTP/1.1") == 1
    with ScriptServer(lambda seen: [b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"]) as server:
        assert _walked(["--check-status"], server)[0] == 1


# Heads in the order one keep-alive connection gets them: repeats, and near-repeats that
# differ in one value, a name's case, the order, a framing or coding header, or a 1xx before.
SAME = b"Server: t\r\nDate: d1\r\nContent-Length: 2\r\n\r\nok"
HEAD_RUN = [
    b"HTTP/1.1 200 OK\r\n" + SAME,
    b"HTTP/1.1 200 OK\r\n" + SAME,
    b"HTTP/1.1 200 OK\r\nServer: t\r\nDate: d2\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nServer: t\r\nDate: d2\r\ncontent-length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nDate: d2\r\nServer: t\r\ncontent-length: 2\r\n\r\nok",
    b"HTTP/1.1 200 Fine\r\n" + SAME,
    b"HTTP/1.1 404 OK\r\n" + SAME,
    b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n" + SAME,
    b"HTTP/1.1 103 Early Hints\r\nLink: </b>\r\n\r\nHTTP/1.1 200 OK\r\n" + SAME,
    b"HTTP/1.1 200 OK\r\nServer: t\r\nDate: d1\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
    % (len(_gz(b"ok")), _gz(b"ok")),
    b"HTTP/1.1 200 OK\r\n" + SAME,
    b"HTTP/1.1 200 OK\r\nServer: t\r\nDate: d1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + SAME,
    b"HTTP/1.1 200 OK\r\n" + SAME,
]


def _fields_by_hand(wire: bytes) -> tuple[tuple[str, str], ...]:
    """The final head's fields, split by hand (the general reading, no h11, no cache)."""
    head = wire.split(b"\r\n\r\n")[-2] if wire.startswith(b"HTTP/1.1 1") else wire.split(b"\r\n\r\n")[0]
    lines = head.decode("latin-1").split("\r\n")[1:]
    return tuple((name, value.strip()) for name, _, value in (line.partition(":") for line in lines))


def test_a_repeated_head_gives_what_decoding_it_again_gives():
    connection = HttpConnection()
    for wire in HEAD_RUN:
        connection.request("GET", "/", host="h")
        parser = connection.parser()
        response = parser.feed(wire)
        assert response is not None and connection.reusable
        assert response.headers == _fields_by_hand(wire)
        assert response.body == b"ok"
        headers = response.headers
        assert parser.framing_conflict is False
        assert response.decoded is (find_header(headers, "Content-Encoding") == "gzip")
        assert response.content_encoding == find_header(headers, "Content-Encoding")


def test_a_repeated_head_is_shown_as_each_one_alone_is_shown():
    answers = {f"/{index}": wire for index, wire in enumerate(HEAD_RUN)}
    with ScriptServer(lambda seen: [answers[seen.target]]) as server:
        urls = [server.url + path for path in answers]
        together = subprocess.run(
            [sys.executable, "-m", "netbench", "http", *urls], capture_output=True, timeout=60, env=ENV
        )
        alone = [
            subprocess.run(
                [sys.executable, "-m", "netbench", "http", url], capture_output=True, timeout=60, env=ENV
            )
            for url in urls
        ]
    assert together.returncode == 0 and server.connections == 1 + len(urls)
    assert together.stdout == b"".join(done.stdout for done in alone) == b"ok" * len(urls)
    assert together.stderr == b"".join(done.stderr for done in alone)
    assert (
        together.stderr.count(b"HTTP/1.1 200 OK\n") == 12
        and b"HTTP/1.1 103 Early Hints\nLink: </b>" in together.stderr
    )


def test_a_plain_get_leaves_out_the_receive_buffers_and_their_modules():
    # The idle check (net/idle.py) needs select only, not netbench.net.blocking (its receive
    # buffers, core.buffer); a plain GET, with or without --pipeline, never needs them.
    probe = (
        "import sys\nfrom netbench.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "loaded = [name in sys.modules for name in ('netbench.net.blocking', 'netbench.core.buffer')]\n"
        "print('\\n', status, *loaded)\n"
    )
    with ScriptServer(lambda seen: [ok(b"x")]) as server:
        for extra in ([], ["--pipeline"]):
            done = subprocess.run(
                [sys.executable, "-c", probe, "http", *extra, server.url + "/a", server.url + "/b"],
                capture_output=True,
                text=True,
                timeout=60,
                env=ENV,
            )
            assert done.stdout.split()[-3:] == ["0", "False", "False"], done.stderr
