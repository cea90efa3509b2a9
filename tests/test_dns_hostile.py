"""DNS decoding as an attacker feeds it: every lie in a message is a ProtocolError, with bounded work.

A table of hand-made hostile messages (no hypothesis: each row is one trick),
then the decompression-bomb case counted, not timed: a message whose every
question points at one long name decodes that name's labels once.
"""

from __future__ import annotations

import struct

import pytest

from netbench.core import dns, dns_names
from netbench.core.dns import decode_message, describe_message
from netbench.errors import ProtocolError


def header(qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    return struct.pack("!HH4H", 0x1234, 0x8180, qd, an, ns, ar)


def pointer(offset: int) -> bytes:
    return struct.pack("!H", 0xC000 | offset)


def record(name: bytes, rtype: int, rdata: bytes, rdlength: int | None = None) -> bytes:
    size = len(rdata) if rdlength is None else rdlength
    return name + struct.pack("!HHIH", rtype, 1, 300, size) + rdata


QUESTION_TAIL = b"\x00\x01\x00\x01"  # type A, class IN
LONG_LABELS = b"".join(b"\x3f" + bytes([65 + n]) * 63 for n in range(4))  # 4 labels of 63: 256 bytes


def pointer_chain(pointers: int) -> bytes:
    """Two answers, the second's name *pointers* pointers: each to the one before, the first to byte 12."""
    rdata = pointer(12) + b"".join(pointer(23 + 2 * n) for n in range(pointers - 2))
    first = record(b"\x00", 99, rdata)  # at 12: a root name; at 23, as an unknown type's RDATA, the chain
    return header(an=2) + first + record(pointer(23 + 2 * (pointers - 2)), 1, b"\x7f\x00\x00\x01")


HOSTILE = [
    ("pointer to itself", header(qd=1) + pointer(12) + QUESTION_TAIL, "cannot loop"),
    ("two pointers at each other", header(qd=1) + pointer(14) + pointer(12) + QUESTION_TAIL, "point back"),
    ("pointer forward, in range", header(qd=1) + pointer(14) + b"\x00" + QUESTION_TAIL, "point back"),
    ("pointer past the end", header(qd=1) + pointer(0x3FFF) + QUESTION_TAIL, "point back"),
    ("pointer back into the header", header(qd=1) + pointer(2) + QUESTION_TAIL, "label length byte 0x81"),
    ("pointer cut in half", header(qd=1) + b"\xc0", "cut short in a name pointer"),
    ("label length past the end", header(qd=1) + b"\x3fabc", "cut short in a label"),
    ("name with no end", header(qd=1) + b"\x01a" * 20, "cut short in a name"),
    ("reserved label type 01", header(qd=1) + b"\x40abc", "label length byte 0x40"),
    ("reserved label type 10", header(qd=1) + b"\x80abc", "label length byte 0x80"),
    ("65535 answers in 12 bytes", header(an=0xFFFF), "cut short in a name"),
    ("65535 of each section in 12 bytes", header(0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF), "cut short"),
    ("a question without type and class", header(qd=1) + b"\x00\x00", "cut short in a question"),
    ("name over 255 bytes", header(qd=1) + LONG_LABELS + b"\x00" + QUESTION_TAIL, "longer than 255"),
    (
        "name over 255 bytes through a pointer",
        header(qd=2)
        + LONG_LABELS[:192]
        + b"\x00"
        + QUESTION_TAIL
        + b"\x3f"
        + b"x" * 63
        + pointer(12)
        + QUESTION_TAIL,
        "longer than 255",
    ),
    ("65 pointers in one name", pointer_chain(65), "more than 64 compression pointers"),
    ("record header cut short", header(an=1) + b"\x00\x00\x01", "cut short in a record header"),
    ("RDATA longer than the message", header(an=1) + record(b"\x00", 1, b"\x7f", 0xFFFF), "record data"),
    ("CNAME running past its RDATA", header(an=1) + record(b"\x00", 5, b"\x03abc\x00", 2), "runs past"),
    (
        "MX name running past its RDATA",
        header(an=1) + record(b"\x00", 15, b"\x00\x0a\x01a\x00", 3),
        "runs past",
    ),
    ("SOA numbers missing", header(an=1) + record(b"\x00", 6, b"\x00\x00" + b"\x00" * 19), "not 20"),
    ("TXT string past its RDATA", header(an=1) + record(b"\x00", 16, b"\x05ab"), "TXT string"),
    ("longer than any DNS message", header(qd=1) + b"\x00" * 70_000, "longer than any DNS message"),
]


@pytest.mark.parametrize("wire, reason", [row[1:] for row in HOSTILE], ids=[row[0] for row in HOSTILE])
def test_a_hostile_message_is_a_protocol_error_saying_why(wire: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        decode_message(wire)
    assert describe_message(wire).startswith("not a DNS message: ")  # the one-line form never raises


def test_64_pointers_in_a_name_are_still_followed() -> None:
    message = decode_message(pointer_chain(64))
    assert message.answers[1].name == "."


def test_a_name_of_exactly_255_bytes_decodes() -> None:
    name = LONG_LABELS[:192] + b"\x3d" + b"x" * 61 + b"\x00"
    assert len(name) == 255
    question = decode_message(header(qd=1) + name + QUESTION_TAIL).questions[0]
    assert question.name == "".join(letter * 63 + "." for letter in "ABC") + "x" * 61 + "."


class TooMuchWork(Exception):
    pass


def test_questions_pointing_at_one_long_name_decode_its_labels_once(monkeypatch: pytest.MonkeyPatch) -> None:
    long_name = b"\x01a" * 127 + b"\x00"  # 127 one-byte labels: 255 bytes, the most label work one name has
    count = 5000
    wire = header(qd=count + 1) + long_name + QUESTION_TAIL + (pointer(12) + QUESTION_TAIL) * count
    assert len(wire) <= dns.MAX_MESSAGE
    labels = [0]
    real_escape = dns_names.escape

    def counting_escape(data: bytes, **options: bool) -> str:
        labels[0] += 1
        if labels[0] > 2 * 127:
            raise TooMuchWork("a label decoded again for every pointer to it")
        return real_escape(data, **options)

    monkeypatch.setattr(dns_names, "escape", counting_escape)
    message = decode_message(wire)
    assert labels[0] == 127
    assert len(message.questions) == count + 1
    assert {question.name for question in message.questions} == {"a." * 127}


def test_pointers_to_a_pointer_and_into_the_middle_of_a_name_share_the_decoded_suffix() -> None:
    first = b"\x03www\x07example\x04test\x00"  # at 12
    wire = (
        header(qd=3)
        + first
        + QUESTION_TAIL
        + b"\x04mail"
        + pointer(16)  # example.test. (the middle of the first name)
        + QUESTION_TAIL
        + pointer(12 + len(first) + 4)  # the second name, itself ending in a pointer
        + QUESTION_TAIL
    )
    names = [question.name for question in decode_message(wire).questions]
    assert names == ["www.example.test.", "mail.example.test.", "mail.example.test."]
