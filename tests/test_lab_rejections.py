"""What the lab says about a request h11 rejects: one line of words, never a Python repr (sans-IO)."""

from __future__ import annotations

import h11
from hypothesis import given
from hypothesis import strategies as st

from netbench.lab.rejections import explain, http09_line


def rejection(data: bytes) -> str | None:
    """h11's message for *data* as a request (then EOF), or None when h11 takes it."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    conn.receive_data(b"")
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                return None
    except h11.RemoteProtocolError as error:
        return str(error)


heads = st.one_of(
    st.binary(max_size=80),
    st.lists(
        st.sampled_from(
            [b"GET / HTTP/1.1", b"GET /", b"Host: x", b"Host x", b"\x1b[2J", b"\xc2\x85", b"", b" a"]
        ),
        max_size=5,
    ).map(lambda lines: b"\r\n".join(lines) + b"\r\n\r\n"),
)


@given(heads)
def test_every_rejection_is_one_terminal_safe_line_of_words(data: bytes) -> None:
    message = rejection(data)
    if message is None:
        return
    words = explain(message)
    assert "bytearray(" not in words and "b'" not in words
    assert words.isprintable(), words
    assert "\x1b" not in words and "\x85" not in words


def test_http09_is_get_with_a_path_and_no_version() -> None:
    assert http09_line(b"GET /\r\n") == b"GET /"
    assert http09_line(b"GET /a/b\n") == b"GET /a/b"
    assert http09_line(b"GET /") is None  # the line has not ended yet
    assert http09_line(b"GET / HTTP/1.1\r\n") is None
    assert http09_line(b"POST /\r\n") is None  # HTTP/0.9 had GET alone
    assert http09_line(b"GET  /\r\n") is None
    assert http09_line(b"GET x\r\n") is None
