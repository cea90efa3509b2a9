"""DNS messages (sans-IO): queries, decoding with compression, TCP framing at every split."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbench.core import dns
from netbench.core.dns import (
    Header,
    Message,
    Question,
    Record,
    TcpDeframer,
    build_query,
    decode_message,
    describe_message,
    encode_message,
    frame_tcp,
    rdata_a,
    rdata_aaaa,
    rdata_mx,
    rdata_txt,
)
from netbench.errors import ProtocolError

# What a real server sends for `www.example.test A`: a CNAME, then the A record
# of its target, with names compressed (pointers to offset 12, then to the CNAME).
COMPRESSED = bytes.fromhex(
    "1234 8180 0001 0002 0000 0000"
    "03 777777 07 6578616d706c65 04 74657374 00 0001 0001"
    "c00c 0005 0001 0000012c 0002 c010"
    "c010 0001 0001 0000012c 0004 7f000001".replace(" ", "")
)


def test_build_query_is_the_rfc_1035_layout() -> None:
    wire = build_query("lab.test", "AAAA", 0xBEEF)
    assert wire == bytes.fromhex(
        "beef 0100 0001 0000 0000 0000 036c6162 0474657374 00 001c 0001".replace(" ", "")
    )
    assert build_query("lab.test.", 1, 7, recursion=False)[2:4] == b"\x00\x00"


def test_decode_follows_compression_and_names_flags() -> None:
    message = decode_message(COMPRESSED)
    assert message.header.id == 0x1234
    assert message.header.flag_names() == ["qr", "rd", "ra"]
    assert message.questions == (Question("www.example.test.", 1),)
    cname, a = message.answers
    assert (cname.type, cname.value) == (5, "example.test.")
    assert (a.name, a.ttl, a.value) == ("example.test.", 300, "127.0.0.1")


def test_every_truncation_is_a_protocol_error_not_a_crash() -> None:
    for cut in range(len(COMPRESSED)):
        with pytest.raises(ProtocolError):
            decode_message(COMPRESSED[:cut])


def test_a_pointer_loop_is_refused() -> None:
    looping = struct.pack("!HH4H", 1, 0, 1, 0, 0, 0) + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(ProtocolError, match="loop"):
        decode_message(looping)


@given(st.binary(max_size=200))
def test_garbage_never_raises_anything_but_protocol_error(data: bytes) -> None:
    try:
        decode_message(data)
    except ProtocolError:
        pass


labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
names = st.lists(labels, min_size=0, max_size=4).map(lambda parts: ".".join(parts) + ".")
records = st.one_of(
    st.builds(
        lambda n, t, a: Record(n, 1, t, rdata_a(a)),
        names,
        st.integers(0, 2**31),
        st.ip_addresses(v=4).map(str),
    ),
    st.builds(lambda n, a: Record(n, 28, 60, rdata_aaaa(a)), names, st.ip_addresses(v=6).map(str)),
    st.builds(lambda n, p, x: Record(n, 15, 60, rdata_mx(p, x)), names, st.integers(0, 65535), names),
    st.builds(lambda n, x: Record(n, 5, 60, dns.encode_name(x)), names, names),
    st.builds(
        lambda n, s: Record(n, 16, 60, rdata_txt(*s)), names, st.lists(st.binary(max_size=40), max_size=3)
    ),
)
headers = st.builds(
    Header,
    id=st.integers(0, 65535),
    qr=st.booleans(),
    opcode=st.sampled_from([0, 2]),
    aa=st.booleans(),
    tc=st.booleans(),
    rd=st.booleans(),
    ra=st.booleans(),
    rcode=st.integers(0, 5),
)


@given(
    headers,
    st.lists(st.builds(Question, names, st.sampled_from([1, 28, 15, 16])), max_size=2),
    st.lists(records, max_size=4),
    st.lists(records, max_size=2),
)
def test_encode_decode_round_trip(
    header: Header, questions: list[Question], answers: list[Record], extra: list[Record]
) -> None:
    message = Message(header, tuple(questions), tuple(answers), (), tuple(extra))
    back = decode_message(encode_message(message))
    assert back == message
    assert all(record.value for record in back.answers if record.type != 16 or record.data)


def test_tcp_deframer_at_every_two_way_split() -> None:
    one, two = build_query("lab.test", "A", 1), build_query("nope.lab.test", "MX", 2)
    stream = frame_tcp(one) + frame_tcp(two) + frame_tcp(b"")
    for cut in range(len(stream) + 1):
        deframer = TcpDeframer()
        got = []
        for piece in (stream[:cut], stream[cut:]):
            deframer.feed(piece)
            while (message := deframer.next_message()) is not None:
                got.append(message)
        assert got == [one, two, b""], cut
        assert deframer.pending == 0


def test_render_looks_like_dig() -> None:
    text = describe_message(COMPRESSED)
    assert text.splitlines()[:2] == [
        ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4660",
        ";; flags: qr rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 0",
    ]
    assert ";; ANSWER SECTION:" in text
    assert "example.test.           300     IN  A     127.0.0.1" in text
    txt = Message(Header(1, qr=True, rcode=3), answers=(Record("t.", 16, 1, rdata_txt("a \x1b[2J", '"q"')),))
    rendered = dns.render(decode_message(encode_message(txt)))
    assert "status: NXDOMAIN" in rendered and '"a \\x1b[2J" "\\"q\\""' in rendered
    assert describe_message(b"\x00").startswith("not a DNS message")


def test_names_and_types() -> None:
    assert dns.type_number("aaaa") == 28 and dns.type_number("TYPE99") == 99
    assert dns.type_name(15) == "MX" and dns.type_name(99) == "TYPE99"
    with pytest.raises(ProtocolError, match="unknown DNS record type"):
        dns.type_number("BOGUS")
    with pytest.raises(ProtocolError, match="1 to 63"):
        dns.encode_name("a" * 64 + ".test")
    assert dns.encode_name(".") == b"\x00" and dns.absolute("lab.test") == "lab.test."
