"""Rendering responses: safe text, JSON, hexdump, sizes; properties over any bytes."""

from __future__ import annotations

import gzip

from hypothesis import given, settings
from hypothesis import strategies as st

from netbench.core.http import parse_response
from netbench.core.render import (
    Timings,
    render_body,
    render_head,
    render_raw,
    render_response,
    safe_text,
    sizes_line,
    unescape,
)

# Terminal controls a hostile peer might send: clear screen, set title, colour, bell, CSI via C1.
NASTY = [b"\x1b[2J", b"\x1b]0;pwned\x07", b"\x1b[31m", b"\x07", b"\x9b31m", b"\r", b"\x00", b"\xff\xfe"]


def _response(head: bytes, body: bytes = b"") -> bytes:
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_view_has_status_headers_body_and_sizes():
    response = parse_response(_response(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", b"hello\n"))
    view = render_response(response, color=False, timings=Timings(0.001, 0.002, 0.003))
    lines = view.splitlines()
    assert lines[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: text/plain" in lines
    assert "hello" in lines
    assert lines[-1] == (
        "body: 6 bytes; connect 1.0 ms, first byte 2.0 ms, total 3.0 ms (from the start of the connect)"
    )


def test_timing_line_names_where_its_figures_count_from():
    response = parse_response(_response(b"HTTP/1.1 200 OK\r\n", b"hi"))
    view = render_response(response, color=False, timings=Timings(0.0, 0.0012, 0.0015, reused=True))
    assert view.splitlines()[-1] == (
        "body: 2 bytes; reused connection, first byte 1.2 ms, total 1.5 ms (from the request sent)"
    )


def test_gzip_view_says_encoded_and_decoded_sizes():
    packed = gzip.compress(b"x" * 1024, mtime=0)
    response = parse_response(_response(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n", packed))
    assert sizes_line(response) == f"body: gzip, {len(packed)} -> 1024 bytes"


def test_json_is_pretty_printed_and_highlighted_only_with_colour():
    response = parse_response(
        _response(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", b'{"a": [1, 2], "b": "\\u001b[2J"}'
        )
    )
    plain = render_response(response, color=False)
    assert '{\n  "a": [\n    1,\n    2\n  ],' in plain
    assert "\x1b" not in plain and "\\u001b[2J" in plain
    coloured = render_response(response, color=True)
    assert "\x1b[" in coloured  # our own highlighting
    assert "\x1b[2J" not in coloured  # never the peer's


def test_binary_body_is_a_hexdump():
    body = bytes(range(256)) * 40
    view = render_body(body, "application/octet-stream")
    assert view.startswith("00000000  00 01 02 03")
    assert "more bytes" in view and "\x1b" not in view


def test_charset_from_content_type():
    assert render_body("café".encode("latin-1"), "text/plain; charset=latin-1") == "café"


def test_hostile_reason_and_header_values_are_escaped():
    wire = _response(
        b"HTTP/1.1 200 \x1b[2JOK\r\nX-Evil: \x1b]0;pwned\x07\xff\r\n",
        b"\x1b[31mred text, long enough to stay text\r",
    )
    response = parse_response(wire)
    for color in (False, True):
        view = render_response(response, color=color, show_raw=True, sent=b"GET / HTTP/1.1\r\n\r\n")
        for sequence in ("\x1b[2J", "\x1b]0;", "\x07", "\x1b[31m", "\r"):
            assert sequence not in view
    view = render_response(response, color=False)
    assert "HTTP/1.1 200 \\x1b[2JOK" in view
    assert "X-Evil: \\x1b]0;pwned\\x07\\xff" in view
    assert "\\x1b[31mred text, long enough to stay text\\r" in view


def test_raw_view_shows_line_endings():
    text = render_raw(b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n")
    assert "GET / HTTP/1.1\\r\\n\n\\r\\n" in text and "--- received (19 bytes) ---" in text


def test_informational_and_trailers_are_shown():
    wire = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nX-Sum: 9\r\n\r\n"
    )
    view = render_response(parse_response(wire), color=False)
    assert view.startswith("HTTP/1.1 103 Early Hints\nLink: </a.css>\n\nHTTP/1.1 200 OK")
    assert "trailers:\nX-Sum: 9" in view
    assert render_head(parse_response(wire)).count("HTTP/1.1") == 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_safe_text_round_trips_any_bytes(data):
    assert unescape(safe_text(data)) == data


def _with_nasty(draw_bytes: bytes, nasty: list[bytes]) -> bytes:
    return b"".join(nasty) + draw_bytes


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120), st.lists(st.sampled_from(NASTY), max_size=4))
def test_rendered_body_never_contains_an_esc_from_input(data, nasty):
    body = _with_nasty(data, nasty)
    for content_type in (None, "text/plain", "application/json", "application/octet-stream"):
        assert "\x1b" not in render_body(body, content_type, color=False)
        assert "\x9b" not in render_body(body, content_type, color=False)


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=60).filter(lambda b: b"\r" not in b and b"\n" not in b),
    st.binary(max_size=80),
)
def test_full_view_never_contains_esc_without_colour(value, body):
    wire = _response(b"HTTP/1.1 200 OK\r\nX-V: " + value.strip(b" \t") + b"\r\n", body)
    try:
        response = parse_response(wire)
    except Exception:  # h11 rejects some values: that is the parser's business, not the renderer's
        return
    view = render_response(response, color=False, show_raw=True, sent=b"GET / HTTP/1.1\r\n\r\n")
    assert "\x1b" not in view and "\x9b" not in view and "\x07" not in view
