"""RESP parsing as an attacker would feed it: huge replies in tiny pieces, and the caps.

The parser's work must be linear in the bytes fed, however they are split.
Rather than timing it, these tests count how many values the parser builds:
a parser that re-parses a partial reply from its start on every feed builds
the same leading items again and again (quadratic), one that resumes builds
each exactly once. The counting classes stop a runaway parser early.
"""

from __future__ import annotations

import dataclasses

import pytest

from netbench.core import resp
from netbench.core.resp import Array, BulkString, Integer, ReplyParser, encode, parse_request
from netbench.errors import ProtocolError


class TooMuchWork(Exception):
    """Raised by a counting value class once the parser has built more values than the budget."""


def counting(monkeypatch: pytest.MonkeyPatch, name: str, budget: int) -> list[int]:
    """Make resp build its *name* values through a subclass that counts them; the count is returned."""
    base = getattr(resp, name)
    built = [0]

    def count(self: object) -> None:
        built[0] += 1
        if built[0] > budget:
            raise TooMuchWork(f"{built[0]} {name} values built: the parser is re-parsing")

    subclass = dataclasses.dataclass(frozen=True)(type(name, (base,), {"__post_init__": count}))
    monkeypatch.setattr(resp, name, subclass)
    return built


def fed_in_pieces(wire: bytes, size: int) -> list[resp.Value]:
    parser = ReplyParser()
    got: list[resp.Value] = []
    for start in range(0, len(wire), size):
        parser.feed(wire[start : start + size])
        got += parser.values()
    assert parser.pending == 0
    return got


def test_a_100000_item_array_in_7_byte_pieces_builds_each_item_once(monkeypatch: pytest.MonkeyPatch) -> None:
    count = 100_000
    wire = encode(Array(tuple(Integer(number) for number in range(count))))
    built = counting(monkeypatch, "Integer", budget=count)
    (reply,) = fed_in_pieces(wire, 7)
    assert built[0] == count
    assert isinstance(reply, Array) and reply.items is not None
    assert [item.value for item in reply.items if isinstance(item, Integer)] == list(range(count))


def test_bulk_strings_in_nested_arrays_in_1_byte_pieces_are_built_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inner = Array(tuple(BulkString(b"v%d\r\n" % number) for number in range(100)))
    wire = encode(Array((inner,) * 30 + (BulkString(b"x" * 5000),)))
    strings = counting(monkeypatch, "BulkString", budget=3001)
    arrays = counting(monkeypatch, "Array", budget=31)
    (reply,) = fed_in_pieces(wire, 1)
    assert (strings[0], arrays[0]) == (3001, 31)
    assert encode(reply) == wire


def test_pending_counts_every_byte_of_a_partial_reply_even_after_the_parser_drops_parsed_ones() -> None:
    wire = encode(Array(tuple(BulkString(b"x" * 100) for _ in range(2000))))
    parser = ReplyParser()
    for start in range(0, len(wire) - 1, 4096):
        parser.feed(wire[start : min(start + 4096, len(wire) - 1)])
        assert parser.next_value() is None
        assert parser.pending == min(start + 4096, len(wire) - 1)
    parser.feed(wire[-1:] + b"+next\r\n")
    reply, after = parser.values()
    assert encode(reply) == wire and after == resp.SimpleString("next")
    assert parser.pending == 0


@pytest.mark.parametrize(
    "cap, wire, reason",
    [
        ("MAX_VALUES", b"*5\r\n" + b":1\r\n" * 5, "more than 4 values"),
        ("MAX_VALUES", b"*2\r\n*2\r\n:1\r\n:2\r\n:3\r\n", "more than 4 values"),  # arrays count too
        ("MAX_REPLY", b"*2\r\n$30\r\n" + b"x" * 30 + b"\r\n", "longer than 40 bytes"),
        ("MAX_REPLY", b"*20\r\n" + b"+OK\r\n" * 20, "longer than 40 bytes"),
        ("MAX_ITEMS", b"*5\r\n", "array length 5 out of range"),
        ("MAX_DEPTH", b"*1\r\n" * 5, "nested deeper than 4"),
    ],
)
def test_a_reply_past_a_cap_is_a_protocol_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, cap: str, wire: bytes, reason: str
) -> None:
    monkeypatch.setattr(resp, cap, 40 if cap == "MAX_REPLY" else 4)
    parser = ReplyParser()
    for byte in wire:  # the cap holds whatever the split
        parser.feed(bytes([byte]))
        try:
            assert parser.next_value() is None
        except ProtocolError as error:
            assert reason in str(error)
            break
    else:
        pytest.fail("no ProtocolError")
    with pytest.raises(ProtocolError, match=reason):  # the stream has lost its framing: it stays broken
        parser.next_value()


def test_the_caps_are_the_documented_ones() -> None:
    doc = ReplyParser.__doc__ or ""
    for cap in ("MAX_LINE", "MAX_BULK", "MAX_ITEMS", "MAX_DEPTH", "MAX_VALUES", "MAX_REPLY"):
        assert f":data:`{cap}`" in doc
    assert resp.MAX_VALUES >= resp.MAX_ITEMS  # an array of the most items still fits in a reply


def test_a_request_with_a_nested_array_gets_redis_wording() -> None:
    with pytest.raises(ProtocolError, match="expected '\\$'"):
        parse_request(b"*1\r\n*1\r\n$1\r\na\r\n")
    assert parse_request(b"*1\r\n$1\r\na\r\n") == ([b"a"], 11)


def test_parse_request_at_the_head_of_a_long_pipeline_reads_about_its_own_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fed = [0]

    class CountingParser(ReplyParser):
        def feed(self, data: bytes) -> None:
            fed[0] += len(data)
            super().feed(data)

    monkeypatch.setattr(resp, "ReplyParser", CountingParser)
    buffer = bytearray(resp.encode_command("PING") * 20_000 + resp.encode_command("SET", "k", "v" * 10_000))
    size = len(buffer)
    commands = []
    while (found := parse_request(buffer)) is not None:  # as a server does: parse, drop, again
        args, used = found
        commands.append(args)
        del buffer[:used]
    assert len(commands) == 20_001 and commands[-1] == [b"SET", b"k", b"v" * 10_000]
    assert fed[0] <= 256 * len(commands) + 2 * size  # each call reads a piece, not the whole pipeline
