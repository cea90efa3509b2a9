"""SMTP/FTP-style replies (sans-IO): parsing at every byte split, encoding, meanings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbench.core import reply_code
from netbench.core.reply_code import (
    Reply,
    ReplyParser,
    describe_reply,
    ehlo_extensions,
    encode_reply,
    explain,
)
from netbench.errors import ProtocolError

WIRE = (
    b"220 lab.test ESMTP netbench-lab ready\r\n"
    b"250-lab.test greets you\r\n250-SIZE 1048576\r\n250-8BITMIME\r\n250 HELP\r\n"
    b"354 End data with <CR><LF>.<CR><LF>\n"
    b"250\r\n"
    b"550 5.1.1 no such user\r\n"
)
EXPECTED = [
    Reply(220, ("lab.test ESMTP netbench-lab ready",)),
    Reply(250, ("lab.test greets you", "SIZE 1048576", "8BITMIME", "HELP")),
    Reply(354, ("End data with <CR><LF>.<CR><LF>",)),
    Reply(250, ("",)),
    Reply(550, ("5.1.1 no such user",)),
]


def test_every_two_way_split_gives_the_same_replies() -> None:
    for cut in range(len(WIRE) + 1):
        parser = ReplyParser()
        parser.feed(WIRE[:cut])
        got = parser.replies()
        parser.feed(WIRE[cut:])
        assert got + parser.replies() == EXPECTED, cut
        assert not parser.partial


texts = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30
)


@given(
    st.lists(st.tuples(st.integers(min_value=100, max_value=599), st.lists(texts, min_size=1, max_size=4))),
    st.integers(min_value=0, max_value=300),
)
def test_encode_then_parse_round_trips(replies: list[tuple[int, list[str]]], cut: int) -> None:
    wire = b"".join(encode_reply(code, *lines) for code, lines in replies)
    parser = ReplyParser()
    parser.feed(wire[:cut])
    got = parser.replies()
    parser.feed(wire[cut:])
    assert got + parser.replies() == [Reply(code, tuple(lines)) for code, lines in replies]


def test_encode_reply_marks_all_but_the_last_line_with_a_hyphen() -> None:
    assert encode_reply(250, "a", "b") == b"250-a\r\n250 b\r\n"
    assert encode_reply(221) == b"221 \r\n"
    with pytest.raises(ProtocolError):
        encode_reply(600, "x")


@pytest.mark.parametrize(
    "wire, reason",
    [
        (b"hello\r\n", "not a reply line"),
        (b"2500 x\r\n", "not a reply line"),
        (b"250-a\r\n251 b\r\n", "changed its code"),
        (b"250 " + b"x" * (reply_code.MAX_LINE + 5), "longer than"),
        (b"250-x\r\n" * (reply_code.MAX_LINES + 1), "more than"),
    ],
)
def test_malformed_replies_are_protocol_errors(wire: bytes, reason: str) -> None:
    parser = ReplyParser()
    parser.feed(wire)
    with pytest.raises(ProtocolError, match=reason):
        parser.replies()


def test_explain_gives_the_meaning_and_the_rfc_section() -> None:
    assert explain(250) == "250: requested mail action okay, completed (RFC 5321 section 4.2.2)"
    assert explain(503).startswith("503: bad sequence of commands")
    assert explain(331, "ftp") == "331: user name okay, need password (RFC 959 section 4.2.2)"
    assert explain(299) == "299: positive completion: the action is done (RFC 5321 section 4.2.1)"
    assert "not a reply code" in explain(700)


def test_describe_reply_explains_and_escapes() -> None:
    text = describe_reply(b"252 can't verify \x1b[2J\r\n250-partial\r\n")
    assert text.splitlines() == [
        "252: cannot VRFY user, but will accept the message and attempt delivery (RFC 5321 section 4.2.2)",
        "  can't verify \\x1b[2J",
        "(incomplete: the reply's last line has not arrived yet)",
    ]
    assert describe_reply(b"HTTP/1.1 200 OK\r\n").startswith("not a reply line")


def test_ehlo_extensions_are_keywords_with_parameters() -> None:
    assert ehlo_extensions(EXPECTED[1]) == {"SIZE": "1048576", "8BITMIME": "", "HELP": ""}
    assert EXPECTED[4].text == "5.1.1 no such user" and not EXPECTED[4].positive


def test_an_ftp_multi_line_reply_may_have_middle_lines_without_a_code() -> None:
    # RFC 959 section 4.2's own example: only the first and last lines carry the code.
    parser = ReplyParser()
    parser.feed(
        b"123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n123 The last line\r\n"
    )
    assert parser.replies() == [
        Reply(123, ("First line", "Second line", "  234 A line beginning with numbers", "The last line"))
    ]
    assert not parser.partial


def test_a_reply_cannot_begin_with_a_line_without_a_code_and_codeless_lines_count_to_the_cap() -> None:
    parser = ReplyParser()
    parser.feed(b"Second line\r\n")
    with pytest.raises(ProtocolError, match="not a reply line"):
        parser.replies()
    parser = ReplyParser()
    parser.feed(b"211-x\r\n" + b"text\r\n" * reply_code.MAX_LINES)
    with pytest.raises(ProtocolError, match="more than"):
        parser.replies()
