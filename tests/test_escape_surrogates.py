"""Lone surrogates (``json.loads('"\\ud800"')``) are escaped like any unsafe character.

A lone surrogate is no character at all: a terminal's UTF-8 stream cannot
write it (UnicodeEncodeError), so text holding one must come out of the
escaper spelled ``\\uNNNN``, as the escaper's other unsafe characters do.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netbench.core.escape import escape_text, is_unsafe, quote, scrub
from netbench.core.render import render_body

ANY_CHARACTER = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters()


@given(st.text(alphabet=ANY_CHARACTER), st.booleans())
def test_what_scrub_gives_a_terminal_can_always_write(text: str, keep_newlines: bool) -> None:
    shown = scrub(text, keep_newlines=keep_newlines)
    shown.encode("utf-8")  # strict, as a terminal's stream is
    assert scrub(shown, keep_newlines=keep_newlines) == shown  # idempotent
    escape_text(text).encode("utf-8")
    quote(text).encode("utf-8")


def test_a_lone_surrogate_is_spelled_as_a_character_and_an_escaped_byte_as_a_byte() -> None:
    assert scrub("a\ud800b\udfff") == "a\\ud800b\\udfff"
    assert scrub("\udc80") == "\\x80"  # a byte that was not UTF-8 (surrogateescape)
    assert is_unsafe("\ud800") and not is_unsafe("\udc80")


def test_a_json_body_with_a_lone_surrogate_renders_as_text_a_terminal_can_write() -> None:
    shown = render_body(b'{"name": "\\ud800 evil"}', "application/json")
    shown.encode("utf-8")
    assert '"\\ud800 evil"' in shown


def test_http_on_a_terminal_shows_a_json_lone_surrogate_escaped() -> None:
    from tests.hostile.server import CLOSE, HostileServer
    from tests.support.cli import run_main

    body = b'{"name": "\\udfff"}'
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    with HostileServer([answer + body, CLOSE]) as server:
        status, out, err = run_main(
            ["http", "-w", "5", server.url + "/"], tty=True, environ={"NO_COLOR": "1"}
        )
    assert status == 0, err
    out.encode("utf-8")
    assert '"name": "\\udfff"' in out


def test_unescape_of_text_holding_a_lone_surrogate_gives_its_utf_8_bytes_not_an_error() -> None:
    from netbench.core.escape import unescape

    assert unescape("a\ud800\\x00") == b"a\xed\xa0\x80\x00"
    assert unescape("\\ud800") == b"\xed\xa0\x80"  # the same bytes as the escape spelling
    assert unescape("\udc80") == b"\x80"  # an escaped byte stays that byte
