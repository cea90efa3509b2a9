"""Telnet parsing as an attacker feeds it: endless subnegotiations, IAC at every piece's edge, floods.

Memory is checked (a subnegotiation that never ends holds at most
MAX_SUBNEGOTIATION bytes) and answers are compared with a byte-at-a-time
reading; nothing is timed.
"""

from __future__ import annotations

import random
import tracemalloc

import pytest

from netbench.core import telnet
from netbench.core.telnet import (
    IAC,
    SB,
    SE,
    TTYPE,
    Command,
    Data,
    Event,
    Negotiation,
    Subnegotiation,
    TelnetParser,
)
from tests.test_core_telnet import merged


def in_pieces(wire: bytes, size: int) -> list[Event]:
    parser = TelnetParser()
    events: list[Event] = []
    for start in range(0, len(wire), size):
        events += parser.feed(wire[start : start + size])
    return merged(events)


def test_an_endless_subnegotiation_in_pieces_holds_at_most_the_cap() -> None:
    parser = TelnetParser()
    assert parser.feed(bytes([IAC, SB, TTYPE])) == []
    piece = b"\x00\x01" * 2048 + b"\xff\xff"  # payload with escaped 255s, never IAC SE
    tracemalloc.start()
    try:
        for _ in range(1024):  # 4 MiB of it
            assert parser.feed(piece) == []
        grown = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024  # a piece, its copy, the capped payload: not the 4 MiB
    events = parser.feed(bytes([IAC, SE]) + b"after")
    assert events == [
        Subnegotiation(TTYPE, (b"\x00\x01" * 2048)[: telnet.MAX_SUBNEGOTIATION]),
        Data(b"after"),
    ]


HOSTILE = {
    "IAC IAC flood": b"\xff\xff" * 5000,
    "IAC at every edge": b"a\xff" * 3000,
    "stray IAC commands in SB": b"\xff\xfa\x18" + b"\xff\x01x" * 2000 + b"\xff\xf0tail",
    "SB inside SB": b"\xff\xfa\x18\xff\xfa\x18ab\xff\xf0c",
    "SB with no option before the end": b"\xff\xfa",
    "negotiation cut at the verb": b"data\xff\xfb",
    "random": random.Random(5).randbytes(20000),
    "random with many IAC": bytes(
        random.Random(6).choice(b"\xff\xff\xfa\xf0\xfb\x01a") for _ in range(20000)
    ),
}


@pytest.mark.parametrize("wire", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_streams_give_the_same_events_at_any_piece_size(wire: bytes) -> None:
    expected = in_pieces(wire, 1)
    for size in (2, 3, 7, 64, 4096, len(wire) or 1):
        assert in_pieces(wire, size) == expected, size
    for event in expected:
        if isinstance(event, Subnegotiation):
            assert len(event.payload) <= telnet.MAX_SUBNEGOTIATION


def test_an_iac_alone_at_the_end_of_a_piece_waits_for_the_next() -> None:
    parser = TelnetParser()
    assert parser.feed(b"x\xff") == [Data(b"x")]
    assert parser.feed(b"\xff") == [Data(b"\xff")]
    assert parser.feed(b"\xff") == []
    assert parser.feed(b"\xfb") == []
    assert parser.feed(b"\x01\xff") == [Negotiation(telnet.WILL, telnet.ECHO)]
    assert parser.feed(b"\xf1y") == [Command(telnet.NOP), Data(b"y")]
