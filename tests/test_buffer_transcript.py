"""The receive buffer and the transcript (sans-IO)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from netbench.core.buffer import ReceiveBuffer
from netbench.core.transcript import Eof, Exchange, HalfClosed, Received, Sent, Transcript


def test_take_until_line_and_exactly() -> None:
    buffer = ReceiveBuffer()
    buffer.feed(b"+PO")
    assert buffer.take_line() is None
    buffer.feed(b"NG\r\nrest\nxyz")
    assert buffer.take_line() == b"+PONG"
    assert buffer.take_until(b"\n") == b"rest\n"
    assert buffer.take_exactly(4) is None
    assert buffer.take_exactly(2) == b"xy"
    assert buffer.take_all() == b"z"
    assert len(buffer) == 0


def test_take_match_consumes_through_the_match() -> None:
    buffer = ReceiveBuffer()
    buffer.feed(b"220 mail ESMTP ready\r\nnext")
    match = buffer.take_match(re.compile(rb"^(\d{3}) .*\r\n"))
    assert match is not None and match.group(1) == b"220"
    assert buffer.peek() == b"next"


@given(st.binary(), st.integers(min_value=1, max_value=50))
def test_lines_survive_any_split(data: bytes, size: int) -> None:
    buffer = ReceiveBuffer()
    lines = []
    for start in range(0, len(data), size):
        buffer.feed(data[start : start + size])
        while (line := buffer.take_until(b"\n")) is not None:
            lines.append(line)
    assert b"".join(lines) + buffer.take_all() == data


def test_transcript_counts_and_groups_exchanges() -> None:
    transcript = Transcript()
    for event in [
        Sent(1.0, b"GET / HTTP/1.0\r\n"),
        Sent(1.1, b"\r\n"),
        Received(1.2, b"HTTP/1.0 200 OK\r\n"),
        Received(1.3, b"\r\nhi"),
        Sent(2.0, b"PING\r\n"),
        Received(2.1, b"+PONG\r\n"),
        Eof(2.2),
    ]:
        transcript.append(event)
    assert transcript.bytes_sent == 24
    assert transcript.bytes_received == len(b"HTTP/1.0 200 OK\r\n\r\nhi+PONG\r\n")
    assert transcript.exchanges() == [
        Exchange(b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\nhi"),
        Exchange(b"PING\r\n", b"+PONG\r\n", closed=True),
    ]


def test_exchanges_keep_half_closes_and_split_datagrams() -> None:
    transcript = Transcript()
    half = HalfClosed(1.1)
    for event in [Sent(1.0, b"a"), Sent(1.05, b"b"), half, Received(1.2, b"x"), Received(1.3, b"y")]:
        transcript.append(event)
    assert transcript.exchanges() == [Exchange(b"ab", b""), half, Exchange(b"", b"xy")]
    assert transcript.exchanges(datagrams=True) == [
        Exchange(b"a", b""),
        Exchange(b"b", b""),
        half,
        Exchange(b"", b"x"),
        Exchange(b"", b"y"),
    ]


def test_next_piece_waits_takes_and_fails_by_contract() -> None:
    from netbench.core.buffer import exactly, line, match, until
    from netbench.errors import ExpectationFailed, Reset

    buffer = ReceiveBuffer(cap=16)
    buffer.feed(b"220 ready\r\nPONG")
    assert buffer.next_piece(line(), eof=False, peer="p") == b"220 ready"
    assert buffer.next_piece(until(b"\n"), eof=False, peer="p") is None  # more is needed
    found = buffer.next_piece(match(re.compile(rb"P(O)N")), eof=False, peer="p")
    assert found is not None and found.group(1) == b"O" and buffer.peek() == b"G"
    assert buffer.next_piece(exactly(1), eof=False, peer="p") == b"G"
    buffer.feed(b"half a li")
    try:
        buffer.next_piece(line(), eof=True, peer="127.0.0.1:7")
    except Reset as error:
        assert error.partial == b"half a li"
        assert str(error) == "127.0.0.1:7 closed the connection before a full line arrived (9 bytes received)"
    else:
        raise AssertionError("a closed peer with half a line must raise Reset")
    buffer.feed(b"x" * 20)  # past the cap of 16 without a line: give up, bounded memory
    try:
        buffer.next_piece(until(b"never"), eof=False, peer="p")
    except ExpectationFailed as error:
        assert str(error) == "gave up: the expected text did not arrive in the first 16 bytes"
    else:
        raise AssertionError("past the cap the receive must give up")


def test_feed_capped_keeps_the_first_bytes_only() -> None:
    buffer = ReceiveBuffer(cap=10)
    for _ in range(5):
        buffer.feed_capped(b"abcd")
    assert buffer.peek() == b"abcdabcdab"
    buffer.feed_capped(b"zz", 12)
    assert buffer.take_all() == b"abcdabcdabzz"
