"""The one HTTP request grammar (core/http_sniff), and the callers that ask it."""

from __future__ import annotations

import pytest

from netbench.core.http_sniff import RequestLine, head_end, is_method, request_line, request_method


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET / HTTP/1.1\r\n", RequestLine("GET", "/", "HTTP/1.1", 16)),
        (b"GET /x?y=1 HTTP/1.0\nHost: a\n\n", RequestLine("GET", "/x?y=1", "HTTP/1.0", 20)),
        (b"M-SEARCH * HTTP/1.1\r\n", RequestLine("M-SEARCH", "*", "HTTP/1.1", 21)),
        (b"OPTIONS * HTTP/1.1\r\n\r\n", RequestLine("OPTIONS", "*", "HTTP/1.1", 20)),
        (b"GET /caf\xe9 HTTP/1.1\r\n", RequestLine("GET", "/caf\xe9", "HTTP/1.1", 20)),
    ],
)
def test_request_line_matches(data: bytes, expected: RequestLine) -> None:
    assert request_line(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"GET /\r\n",  # HTTP/0.9
        b"GET / HTTP/2\r\n",
        b"GET / HTTP/2.0\r\n",
        b"get / HTTP/1.1\r\n",  # methods are case-sensitive; raw lower case is text
        b"GET / HTTP/1.1",  # not ended yet
        b"GET  / HTTP/1.1\r\n",  # two spaces
        b"GET / HTTP/1.1 \r\n",
        b"GET /\x1b[2J HTTP/1.1\r\n",  # controls are not a target
        b" GET / HTTP/1.1\r\n",
        b"hello world\r\n",
        b"",
    ],
)
def test_request_line_rejects(data: bytes) -> None:
    assert request_line(data) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET / HTTP/1.1\r\n", "GET"),
        (b"GET /", "GET"),  # HTTP/0.9 and a line not yet ended
        (b"GET / HTTP/2\r\n", "GET"),
        (b"HEAD /x HTTP/1.1\n\n", "HEAD"),
        (b"M-SEARCH * HTTP/1.1\r\n", "M-SEARCH"),
        (b"get / HTTP/1.1\r\n", None),
        (b"GET", None),
        (b"GET \r\n", None),
        (b"PING\r\n", None),
        (b"", None),
    ],
)
def test_request_method(data: bytes, expected: str | None) -> None:
    assert request_method(data) == expected


def test_is_method() -> None:
    assert is_method("GET") and is_method("M-SEARCH") and is_method("X_Y2")
    assert not is_method("get") and not is_method("") and not is_method("G ET") and not is_method("2GET")


def test_head_end() -> None:
    assert head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody") == 27
    assert head_end(b"GET / HTTP/1.1\nHost: a\n\nbody") == 24
    assert head_end(b"GET / HTTP/1.1\r\nHost: a\r\n") is None


# -- the callers agree -------------------------------------------------------------

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"


@pytest.mark.parametrize(
    ("sent", "is_http"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", True),
        (b"GET / HTTP/1.1\nHost: a\n\n", True),  # LF-only line ends
        (b"M-SEARCH * HTTP/1.1\r\n\r\n", True),
        (b"HEAD /x HTTP/1.0\n\n", True),
        (b"get / HTTP/1.1\r\nHost: a\r\n\r\n", False),  # lower-case method
        (b"GET /\r\n\r\n", False),  # HTTP/0.9
        (b"GET / HTTP/2\r\n\r\n", False),
        (b"GET / HTTP/2.0\r\n\r\n", False),
        (b"PING\r\n", False),
    ],
)
def test_repl_view_recorder_and_serve_agree(sent: bytes, is_http: bool) -> None:
    """The REPL's view, the recorder and serve's request matching read the same bytes alike."""
    from netbench.core.transcript import Eof, Received, Sent, Transcript
    from netbench.recipe.model import Recipe, Step
    from netbench.recipe.record import record
    from netbench.recipe.script import moves
    from netbench.recipe.template import Context
    from netbench.repl.httpview import HttpMessage, HttpTracker

    tracker = HttpTracker()
    tracker.on_sent(sent)
    shown = tracker.on_received(RESPONSE)
    repl_parsed = any(isinstance(item, HttpMessage) for item in shown)

    transcript = Transcript()
    for event in (Sent(0.0, sent), Received(0.1, RESPONSE), Eof(0.2)):
        transcript.append(event)
    expect = record(transcript, "tcp://127.0.0.1:8080").recipe.steps[0].expect
    assert expect is not None
    recorded_http = expect.status is not None

    (move,) = moves(Recipe(name="r", steps=(Step(send=sent),)), Context())
    assert move.request is not None
    serve_http = move.request.http

    assert (repl_parsed, recorded_http, serve_http) == (is_http, is_http, is_http)
