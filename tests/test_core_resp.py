"""RESP2 (sans-IO): encoding, the incremental parser at every byte split, rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbench.core import resp
from netbench.core.resp import (
    Array,
    BulkString,
    Error,
    Integer,
    ReplyParser,
    SimpleString,
    Value,
    describe_reply,
    encode,
    encode_command,
    parse_request,
    render,
)
from netbench.errors import ProtocolError

SESSION = (
    b"+OK\r\n"
    b"$1\r\n1\r\n"
    b":-7\r\n"
    b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    b"$-1\r\n"
    b"*2\r\n$1\r\na\r\n*2\r\n:1\r\n$0\r\n\r\n"
    b"*-1\r\n"
    b"*0\r\n"
    b"$4\r\na\r\nb\r\n"
)
EXPECTED: list[Value] = [
    SimpleString("OK"),
    BulkString(b"1"),
    Integer(-7),
    Error("WRONGTYPE Operation against a key holding the wrong kind of value"),
    BulkString(None),
    Array((BulkString(b"a"), Array((Integer(1), BulkString(b""))))),
    Array(None),
    Array(()),
    BulkString(b"a\r\nb"),
]


def test_encode_command_is_an_array_of_bulk_strings() -> None:
    assert encode_command("SET", "a", 1) == b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert encode_command(b"\x00\xff") == b"*1\r\n$2\r\n\x00\xff\r\n"
    with pytest.raises(ProtocolError):
        encode_command()


def test_parser_gives_typed_values_at_every_two_way_split() -> None:
    for cut in range(len(SESSION) + 1):
        parser = ReplyParser()
        parser.feed(SESSION[:cut])
        got = parser.values()
        parser.feed(SESSION[cut:])
        got += parser.values()
        assert got == EXPECTED, cut
        assert parser.pending == 0


def test_parser_byte_by_byte_yields_each_value_once() -> None:
    parser = ReplyParser()
    got: list[Value] = []
    for byte in SESSION:
        parser.feed(bytes([byte]))
        got += parser.values()
    assert got == EXPECTED


# Text a simple string round-trips: any character but CR, LF and lone surrogates
# (surrogateescape'd bytes are checked on their own below: two of them can be valid UTF-8).
WIRE_TEXT = st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))

values = st.recursive(
    st.one_of(
        st.text(alphabet=WIRE_TEXT, max_size=20).map(SimpleString),
        st.text(alphabet=WIRE_TEXT, max_size=20).map(Error),
        st.integers(min_value=-(2**63), max_value=2**63 - 1).map(Integer),
        st.one_of(st.none(), st.binary(max_size=40)).map(BulkString),
        st.just(Array(None)),
    ),
    lambda children: st.lists(children, max_size=5).map(lambda items: Array(tuple(items))),
    max_leaves=20,
)


@given(st.lists(values, max_size=5), st.integers(min_value=0, max_value=400))
def test_encode_then_parse_round_trips_at_any_split(items: list[Value], cut: int) -> None:
    wire = b"".join(encode(item) for item in items)
    parser = ReplyParser()
    parser.feed(wire[:cut])
    got = parser.values()
    parser.feed(wire[cut:])
    assert got + parser.values() == items


@pytest.mark.parametrize(
    "wire, reason",
    [
        (b"!oops\r\n", "not RESP"),
        (b":12x\r\n", "not a number"),
        (b"$3\r\nabcd\r\n", "not followed by CRLF"),
        (b"$99999999999\r\n", "out of range"),
        (b"*-5\r\n", "out of range"),
        (b"*1\r\n" * 70, "nested deeper"),
    ],
)
def test_malformed_input_is_a_protocol_error(wire: bytes, reason: str) -> None:
    parser = ReplyParser()
    parser.feed(wire)
    with pytest.raises(ProtocolError, match=reason):
        parser.values()


def test_an_endless_line_is_refused_not_buffered_forever() -> None:
    parser = ReplyParser()
    parser.feed(b"+" + b"x" * (resp.MAX_LINE + 10))
    with pytest.raises(ProtocolError, match="longer than"):
        parser.next_value()


def test_render_one_line_per_value_arrays_indented() -> None:
    assert render(BulkString(b"1")) == 'bulk string "1"'
    assert render(BulkString(None)) == "null bulk string (nil)"
    assert render(Integer(3)) == "integer 3"
    assert render(SimpleString("PONG")) == 'simple string "PONG"'
    nested = Array((BulkString(b"a"), Array((Integer(1), BulkString(b"\x1b[2J")))))
    assert render(nested).splitlines() == [
        "array of 2",
        '  1) bulk string "a"',
        "  2) array of 2",
        "       1) integer 1",
        '       2) bulk string "\\x1b[2J"',
    ]


def test_describe_reply_reports_leftovers_and_garbage_without_raising() -> None:
    assert describe_reply(b"$1\r\n1\r\n:5\r\n$3\r\nab") == (
        'bulk string "1"\ninteger 5\n(incomplete: 6 bytes of a value, waiting for the rest)'
    )
    assert describe_reply(b"hello\r\n").startswith("not RESP")
    assert "\x1b" not in describe_reply(b"\x1b[31m\r\n")


def test_parse_request_takes_arrays_and_inline_commands() -> None:
    assert parse_request(encode_command("SET", "a", "1") + b"rest") == ([b"SET", b"a", b"1"], 27)
    assert parse_request(b"SET a 1\r\nGET a\r\n") == ([b"SET", b"a", b"1"], 9)
    assert parse_request(b"SET k \"two words\\n\" 'x y'\n") == ([b"SET", b"k", b"two words\n", b"x y"], 26)
    assert parse_request(b"\r\n") == ([], 2)
    assert parse_request(b"SET a") is None
    assert parse_request(b"*2\r\n$3\r\nGET\r\n") is None
    with pytest.raises(ProtocolError, match="unbalanced quotes"):
        parse_request(b'SET "a\r\n')
    with pytest.raises(ProtocolError, match="expected '\\$'"):
        parse_request(b"*1\r\n:1\r\n")
    with pytest.raises(ProtocolError, match="too big inline"):
        parse_request(b"x" * (resp.MAX_LINE + 1))


def test_parse_request_at_every_split_finds_the_same_commands() -> None:
    wire = encode_command("LPUSH", "l", "a b") + b"PING\r\n" + encode_command("GET", "\x00")
    for cut in range(len(wire) + 1):
        buffer = bytearray()
        commands = []
        for piece in (wire[:cut], wire[cut:]):
            buffer += piece
            while (found := parse_request(buffer)) is not None:
                args, used = found
                commands.append(args)
                del buffer[:used]
        assert commands == [[b"LPUSH", b"l", b"a b"], [b"PING"], [b"GET", b"\x00"]], cut


def test_explain_names_the_type() -> None:
    assert resp.explain(Error("ERR x")).startswith("error (-)")
    assert Error("WRONGTYPE x").kind == "WRONGTYPE"
    assert resp.looks_like_resp(b"+PONG\r\n") and not resp.looks_like_resp(b"HTTP/1.1 200 OK\r\n")


def test_a_lone_surrogate_that_is_no_escaped_byte_is_a_protocol_error_not_a_crash() -> None:
    with pytest.raises(ProtocolError, match="must be text or escaped bytes"):
        encode(SimpleString("\udd00"))
    assert encode(SimpleString("\udcff")) == b"+\xff\r\n"  # an escaped byte goes back as that byte
