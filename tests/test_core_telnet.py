"""Telnet IAC parsing (sans-IO) at every byte split, naming, and the client's negotiation policy."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netbench.core import telnet
from netbench.core.telnet import (
    DO,
    DONT,
    ECHO,
    NAWS,
    SGA,
    TTYPE,
    WILL,
    WONT,
    Command,
    Data,
    Event,
    Negotiation,
    Negotiator,
    Subnegotiation,
    TelnetParser,
    describe,
    negotiation,
    quote_data,
    subnegotiation,
)

# A server's greeting: WILL ECHO, WILL SGA, DO NAWS, DO TTYPE, SB TTYPE SEND, then a prompt
# with a 255 data byte (doubled) and a NOP in the middle.
WIRE = (
    b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f\xff\xfd\x18"
    b"\xff\xfa\x18\x01\xff\xf0"
    b"log\xff\xffin\xff\xf1: "
    b"\xff\xfa\x1f\x00\x50\xff\xff\x00\x18\xff\xf0"
)
EXPECTED: list[Event] = [
    Negotiation(WILL, ECHO),
    Negotiation(WILL, SGA),
    Negotiation(DO, NAWS),
    Negotiation(DO, TTYPE),
    Subnegotiation(TTYPE, b"\x01"),
    Data(b"log\xffin"),
    Command(telnet.NOP),
    Data(b": "),
    Subnegotiation(NAWS, b"\x00\x50\xff\x00\x18"),
]


def merged(events: list[Event]) -> list[Event]:
    """Adjacent Data events joined (a split may cut one run of data in two)."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, Data) and out and isinstance(out[-1], Data):
            out[-1] = Data(out[-1].data + event.data)
        else:
            out.append(event)
    return out


def test_every_two_way_split_gives_the_same_events() -> None:
    for cut in range(len(WIRE) + 1):
        parser = TelnetParser()
        events = parser.feed(WIRE[:cut]) + parser.feed(WIRE[cut:])
        assert merged(events) == EXPECTED, cut


def test_byte_by_byte() -> None:
    parser = TelnetParser()
    events: list[Event] = []
    for byte in WIRE:
        events += parser.feed(bytes([byte]))
    assert merged(events) == EXPECTED


def test_events_are_named_as_a_person_reads_them() -> None:
    assert describe(WIRE).splitlines() == [
        "IAC WILL ECHO",
        "IAC WILL SUPPRESS-GO-AHEAD",
        "IAC DO NAWS",
        "IAC DO TERMINAL-TYPE",
        "IAC SB TERMINAL-TYPE SEND IAC SE",
        "log\\xffin",
        "IAC NOP",
        ": ",
        "IAC SB NAWS 00 50 ff 00 18 IAC SE",
    ]
    assert str(Subnegotiation(NAWS, b"\x00\x50\x00\x18")) == "IAC SB NAWS 80x24 IAC SE"
    assert str(Subnegotiation(TTYPE, b"\x00XTERM")) == "IAC SB TERMINAL-TYPE IS XTERM IAC SE"
    assert str(Negotiation(DONT, 200)) == "IAC DONT 200"
    assert "\x1b" not in describe(b"\x1b[2J")


@given(st.binary(max_size=60), st.integers(min_value=0, max_value=70))
def test_quoted_data_comes_back_exactly(data: bytes, cut: int) -> None:
    wire = quote_data(data)
    parser = TelnetParser()
    events = parser.feed(wire[:cut]) + parser.feed(wire[cut:])
    assert b"".join(e.data for e in events if isinstance(e, Data)) == data
    assert all(isinstance(e, Data) for e in events)


@given(st.binary(max_size=40))
def test_subnegotiation_payload_round_trips(payload: bytes) -> None:
    assert TelnetParser().feed(subnegotiation(TTYPE, payload)) == [Subnegotiation(TTYPE, payload)]


def test_an_endless_subnegotiation_is_capped() -> None:
    parser = TelnetParser()
    events = parser.feed(b"\xff\xfa\x18" + b"x" * 100_000 + b"\xff\xf0after")
    assert events == [Subnegotiation(TTYPE, b"x" * telnet.MAX_SUBNEGOTIATION), Data(b"after")]


def test_negotiator_agrees_to_the_basics_and_refuses_the_rest() -> None:
    client = Negotiator()
    assert client.answer(Negotiation(WILL, ECHO)) == negotiation(DO, ECHO)
    assert client.answer(Negotiation(WILL, SGA)) == negotiation(DO, SGA)
    assert client.answer(Negotiation(DO, SGA)) == negotiation(WILL, SGA)
    assert client.answer(Negotiation(DO, NAWS)) == negotiation(WONT, NAWS)
    assert client.answer(Negotiation(DO, TTYPE)) == negotiation(WONT, TTYPE)
    assert client.answer(Negotiation(WILL, telnet.LINEMODE)) == negotiation(DONT, telnet.LINEMODE)
    assert client.answer(Subnegotiation(TTYPE, b"\x01")) == b""


def test_negotiator_never_loops() -> None:
    client = Negotiator()
    assert client.answer(Negotiation(WILL, ECHO)) == negotiation(DO, ECHO)
    assert client.answer(Negotiation(WILL, ECHO)) == b""  # already on: no answer
    assert client.answer(Negotiation(WONT, ECHO)) == negotiation(DONT, ECHO)
    assert client.answer(Negotiation(WONT, ECHO)) == b""
    assert client.answer(Negotiation(DONT, NAWS)) == b""  # never on
    assert client.answer(Negotiation(DO, 99)) == negotiation(WONT, 99)
    assert client.answer(Negotiation(DO, 99)) == b""


def test_negotiator_sends_terminal_type_and_window_when_given() -> None:
    client = Negotiator(terminal_type="XTERM", window=(80, 24))
    assert (
        client.answer(Negotiation(DO, NAWS))
        == negotiation(WILL, NAWS) + b"\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"
    )
    assert client.answer(Negotiation(DO, TTYPE)) == negotiation(WILL, TTYPE)
    assert client.answer(Subnegotiation(TTYPE, b"\x01")) == b"\xff\xfa\x18\x00XTERM\xff\xf0"
