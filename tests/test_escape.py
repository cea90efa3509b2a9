"""Terminal-safe escaping, hexdumps and hex parsing (sans-IO, property-tested)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbench.core.escape import escape, hexdump, is_text, parse_hex, quote, scrub, unescape, visible
from netbench.errors import UsageError


@given(st.binary())
def test_escape_round_trips_any_bytes(data: bytes) -> None:
    assert unescape(escape(data)) == data


@given(st.binary())
def test_escape_without_newlines_round_trips(data: bytes) -> None:
    assert unescape(escape(data, keep_newlines=False, keep_tabs=False)) == data


@given(st.binary())
def test_escape_never_emits_controls_from_input(data: bytes) -> None:
    text = escape(data)
    assert "\x1b" not in text
    assert "\x9b" not in text  # C1 CSI
    assert all(ch in "\n\r\t" or ord(ch) >= 0x20 for ch in text)
    assert "\x7f" not in text


@given(st.text())
def test_escape_round_trips_any_text(text: str) -> None:
    data = text.encode("utf-8", errors="surrogatepass")
    assert unescape(escape(data)) == data


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b"\x1b[2J", "\\x1b[2J"),
        (b"over\rwrite", "over\\rwrite"),
        (b"line\r\nnext", "line\r\nnext"),
        (b"\x00\xff", "\\x00\\xff"),
        (b"back\\slash", "back\\\\slash"),
        (b"\xc2\x9b31m", "\\u009b31m"),
        ("caf\u00e9".encode(), "caf\u00e9"),
    ],
)
def test_escape_examples(data: bytes, shown: str) -> None:
    assert escape(data) == shown


def test_visible_shows_line_endings_and_keeps_lines() -> None:
    assert visible(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == ("GET / HTTP/1.1\\r\\n\nHost: x\\r\\n\n\\r\\n\n")


@given(st.binary())
def test_visible_breaks_lines_only_after_a_real_lf(data: bytes) -> None:
    shown = visible(data)
    assert shown.count("\n") == data.count(b"\n")
    assert unescape(shown.replace("\\n\n", "\\n")) == data


def test_visible_keeps_a_literal_backslash_n_on_its_line() -> None:
    assert visible(b"a\\nb") == "a\\\\nb"


def test_hexdump_layout_and_mark() -> None:
    dump = hexdump(b"hello world, this is a test\x00\x01", mark=3)
    lines = dump.splitlines()
    assert lines[0].startswith("00000000 ")
    assert ">6c" in lines[0]
    assert lines[0].endswith("|hello world, thi|")
    assert lines[1].startswith("00000010 ")
    assert lines[1].endswith("|s is a test..|")


@given(st.binary(min_size=1, max_size=200))
def test_hexdump_then_parse_gives_bytes_back(data: bytes) -> None:
    hex_columns = [line[9:58] for line in hexdump(data).splitlines()]
    assert parse_hex(" ".join(hex_columns)) == data


def test_parse_hex_accepts_common_spellings() -> None:
    assert parse_hex("50 49 4e 47") == b"PING"
    assert parse_hex("0x50:0x49\n4E47") == b"PING"
    with pytest.raises(UsageError):
        parse_hex("zz")


def test_is_text() -> None:
    assert is_text(b"hello\r\n")
    assert not is_text(b"\xff\xfe\x00")
    assert not is_text(b"\x00\x01\x02\x03\x04")


@given(st.text())
def test_scrub_leaves_one_safe_line(text: str) -> None:
    line = scrub(text)
    assert all(ord(ch) >= 0x20 and ord(ch) != 0x7F and not 0x80 <= ord(ch) < 0xA0 for ch in line)


@given(st.binary())
def test_scrub_does_not_escape_twice(data: bytes) -> None:
    once = escape(data, keep_newlines=False, keep_tabs=False)
    assert scrub(once) == once


def test_scrub_keeps_backslashes_and_escapes_raw_bytes() -> None:
    assert scrub("bad \\x1b and \x1b[2J and \udcff\n") == "bad \\x1b and \\x1b[2J and \\xff\\n"


# -- one spelling: bidi and invisible characters, quote, is_text ---------------------------------

HIDDEN = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # bidi isolates
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero widths, LRM, RLM
    "\u2028", "\u2029", "\ufeff", "\u061c",
]  # fmt: skip


@pytest.mark.parametrize("char", HIDDEN)
def test_bidi_and_invisible_characters_are_escaped_everywhere(char: str) -> None:
    spelled = f"\\u{ord(char):04x}"
    data = f"a{char}b".encode()
    assert escape(data) == f"a{spelled}b"
    assert escape(data, keep_newlines=False, keep_tabs=False) == f"a{spelled}b"
    assert visible(data) == f"a{spelled}b"
    assert scrub(f"a{char}b") == f"a{spelled}b"
    assert scrub(f"a{char}b", keep_newlines=True) == f"a{spelled}b"
    assert quote(data) == f'"a{spelled}b"'
    assert unescape(escape(data)) == data


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b"\x85", "\\x85"),  # a stray byte: \xNN
        (b"\xc2\x85", "\\u0085"),  # the C1 character NEL: \uNNNN, so the two never look alike
        (b"\x7f", "\\x7f"),
        (b"\x1b", "\\x1b"),
    ],
)
def test_one_spelling_for_a_byte_and_for_a_character(data: bytes, shown: str) -> None:
    assert escape(data) == shown
    assert quote(data) == f'"{shown}"'
    assert unescape(shown) == data


def test_scrub_spells_like_escape() -> None:
    text = "x\x1b[2J\x85\u202e\x7f\udc85"
    assert scrub(text) == escape(text.encode("utf-8", "surrogateescape"))
    assert scrub("line\n\tnext\r", keep_newlines=True) == "line\n\tnext\\r"


@pytest.mark.parametrize(
    ("data", "quoted"),
    [
        (b"PING\r\n", '"PING\\r\\n"'),
        (b'say "hi"\t', '"say \\"hi\\"\\t"'),
        ("caf\u00e9", '"caf\u00e9"'),
        (b"a" * 70, '"' + "a" * 60 + '..."'),
        (b"a" * 58 + b"\x1b[2J", '"' + "a" * 58 + '..."'),  # never cut inside \x1b
        (b"a" * 55 + b"\xc2\x85", '"' + "a" * 55 + '..."'),  # nor inside \u0085
        (b"", '""'),
    ],
)
def test_quote(data: bytes | str, quoted: str) -> None:
    assert quote(data) == quoted


def test_quote_of_header_text_uses_the_wire_bytes() -> None:
    latin1 = b"bad\x85\xe2\x80\xae".decode("latin-1")  # as h11 header text arrives
    assert quote(latin1, wire=True) == '"bad\\x85\\u202e"'


@given(st.binary(max_size=400), st.integers(min_value=4, max_value=80))
def test_quote_is_one_safe_line_cut_only_between_escapes(data: bytes, limit: int) -> None:
    quoted = quote(data, limit)
    assert quoted[0] == quoted[-1] == '"'
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0 for ch in quoted)
    whole = escape(data, keep_newlines=False, keep_tabs=False)
    inner = quoted[1:-1].replace('\\"', '"')
    if inner == whole:
        return
    assert inner.endswith("...")
    kept = inner[:-3]
    assert len(kept) <= limit and whole.startswith(kept)
    assert len(whole) - len(kept) > 0
    assert escape(unescape(kept), keep_newlines=False, keep_tabs=False) == kept  # no escape cut in two


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", True),
        (b"hello\r\n\tworld", True),
        (b"\x1b[1;31mWARNING\x1b[0m\r\n", True),  # a coloured banner: ESC does not count
        ("\u202eevil\u2066".encode(), True),  # shown as text, escaped
        (b"hello world\x00", True),  # a C string is still text
        (b"a\x00b\r\n", True),  # one control in five: a short line, still text
        (b"a\x00b\x00c\x00", False),
        (b"ab\x00\x01\x02\x03\x04\x05\x06xyz", False),
        (b"\x00\x01\x02\x03\x04", False),
        (b"\xff\xfe\x00", False),  # invalid UTF-8
        (b"caf\xe9", False),
    ],
)
def test_is_text_is_the_one_threshold(data: bytes, text: bool) -> None:
    assert is_text(data) is text
