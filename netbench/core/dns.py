"""DNS messages (RFC 1035) sans-IO: build a query, encode and decode messages, TCP framing.

A message is a 12-byte header (id, flags, four counts), then the question,
answer, authority and additional sections (RFC 1035 section 4.1). Names are
length-prefixed labels, possibly compressed with pointers (section 4.1.4);
:func:`decode_message` follows pointers (only backwards, so never in a loop;
names are :mod:`netbench.core.dns_names`, record types and RDATA
:mod:`netbench.core.dns_rdata`, re-exported here) and
:func:`encode_message` writes names uncompressed. Over TCP each message is
preceded by its length in two bytes (section 4.2.2): :func:`frame_tcp` and
:class:`TcpDeframer`. :func:`render` shows a message as ``dig`` does.
Nothing here does I/O; malformed input raises
:class:`~netbench.errors.ProtocolError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from netbench.core.dns_names import (
    MAX_NAME,
    MAX_POINTERS,
    NameReader,
    absolute,
    check_room,
    decode_name,
    encode_name,
)
from netbench.core.dns_rdata import (
    TYPE_NAMES,
    TYPES,
    rdata_a,
    rdata_aaaa,
    rdata_mx,
    rdata_soa,
    rdata_text,
    rdata_txt,
    type_name,
    type_number,
)
from netbench.errors import ProtocolError

__all__ = [  # the names of dns_names and dns_rdata stay reachable as dns.X for callers
    "CLASS_IN",
    "FLAG_MEANINGS",
    "MAX_MESSAGE",
    "MAX_NAME",
    "MAX_POINTERS",
    "OPCODES",
    "RCODES",
    "TYPES",
    "TYPE_NAMES",
    "UDP_LIMIT",
    "Header",
    "Message",
    "Question",
    "Record",
    "TcpDeframer",
    "absolute",
    "build_query",
    "decode_header",
    "decode_message",
    "decode_name",
    "describe_message",
    "encode_message",
    "encode_name",
    "frame_tcp",
    "rdata_a",
    "rdata_aaaa",
    "rdata_mx",
    "rdata_soa",
    "rdata_txt",
    "render",
    "type_name",
    "type_number",
]

CLASS_IN = 1
OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
"""Response codes (RFC 1035 section 4.1.1)."""
UDP_LIMIT = 512
"""The largest DNS message over UDP without EDNS (RFC 1035 section 4.2.1)."""
MAX_MESSAGE = 0xFFFF
"""The largest DNS message at all (TCP's two-byte length, RFC 1035 section 4.2.2)."""


@dataclass(frozen=True)
class Header:
    """The fixed 12-byte header: the id, each flag, and the four section counts."""

    id: int
    qr: bool = False
    opcode: int = 0
    aa: bool = False
    tc: bool = False
    rd: bool = True
    ra: bool = False
    rcode: int = 0

    @property
    def flags(self) -> int:
        """The 16-bit flags word."""
        return (
            self.qr << 15
            | (self.opcode & 0xF) << 11
            | self.aa << 10
            | self.tc << 9
            | self.rd << 8
            | self.ra << 7
            | (self.rcode & 0xF)
        )

    def flag_names(self) -> list[str]:
        """The flags that are set, as dig names them: ``["qr", "aa", "rd"]``."""
        names = ("qr", "aa", "tc", "rd", "ra")
        return [name for name in names if getattr(self, name)]


@dataclass(frozen=True)
class Question:
    """A question: the name (absolute, ending with a dot), its type and class."""

    name: str
    type: int
    cls: int = CLASS_IN


@dataclass(frozen=True)
class Record:
    """A resource record. ``data`` is the raw RDATA; :attr:`value` is its readable form."""

    name: str
    type: int
    ttl: int
    data: bytes
    cls: int = CLASS_IN
    value: str = field(default="", compare=False)
    """RDATA for a person: ``127.0.0.1``, ``10 mail.lab.test.``, ``"text"`` (set by decode)."""


@dataclass(frozen=True)
class Message:
    """A whole DNS message."""

    header: Header
    questions: tuple[Question, ...] = ()
    answers: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = ()


# --- encoding -------------------------------------------------------------------


def _record_bytes(record: Record) -> bytes:
    return (
        encode_name(record.name)
        + struct.pack("!HHIH", record.type, record.cls, record.ttl, len(record.data))
        + record.data
    )


def encode_message(message: Message) -> bytes:
    """The wire form of *message* (names uncompressed)."""
    h = message.header
    counts = (len(message.questions), len(message.answers), len(message.authority), len(message.additional))
    out = bytearray(struct.pack("!HH4H", h.id, h.flags, *counts))
    for question in message.questions:
        out += encode_name(question.name) + struct.pack("!HH", question.type, question.cls)
    for record in (*message.answers, *message.authority, *message.additional):
        out += _record_bytes(record)
    return bytes(out)


def build_query(name: str, qtype: str | int = "A", query_id: int = 0, *, recursion: bool = True) -> bytes:
    """A standard query for *name* and *qtype* with the id *query_id* (RD set unless told)."""
    number = qtype if isinstance(qtype, int) else type_number(qtype)
    header = Header(id=query_id & 0xFFFF, rd=recursion)
    return encode_message(Message(header, (Question(absolute(name), number),)))


# --- decoding -------------------------------------------------------------------


def _record(names: NameReader, offset: int) -> tuple[Record, int]:
    message = names.message
    name, offset = names.name(offset)
    check_room(message, offset, 10, "a record header")
    rtype, rclass, ttl, size = struct.unpack_from("!HHIH", message, offset)
    offset += 10
    value = rdata_text(names, rtype, offset, size)
    record = Record(name, rtype, ttl, message[offset : offset + size], rclass, value)
    return record, offset + size


def decode_header(data: bytes) -> Header:
    """The header of *data* (the first 12 bytes)."""
    check_room(data, 0, 12, "the header")
    ident, flags = struct.unpack_from("!HH", data)
    return Header(
        id=ident,
        qr=bool(flags >> 15),
        opcode=(flags >> 11) & 0xF,
        aa=bool(flags & 0x400),
        tc=bool(flags & 0x200),
        rd=bool(flags & 0x100),
        ra=bool(flags & 0x80),
        rcode=flags & 0xF,
    )


def decode_message(data: bytes) -> Message:
    """Decode a whole message (one UDP datagram, or one TCP message without its length).

    Hostile input is bounded: a message is at most :data:`MAX_MESSAGE` bytes,
    the counts in the header are only believed as far as the bytes go (a
    section cut short is an error as soon as it is reached), and names are
    read as :mod:`netbench.core.dns_names` says (pointers point back, each
    offset's name decoded once). Raises :class:`ProtocolError`.
    """
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(f"{len(data)} bytes is longer than any DNS message ({MAX_MESSAGE})")
    header = decode_header(data)
    qd, an, ns, ar = struct.unpack_from("!4H", data, 4)
    names = NameReader(data)
    offset = 12
    questions: list[Question] = []
    for _ in range(qd):
        name, offset = names.name(offset)
        check_room(data, offset, 4, "a question")
        qtype, qclass = struct.unpack_from("!HH", data, offset)
        offset += 4
        questions.append(Question(name, qtype, qclass))
    sections: list[list[Record]] = [[], [], []]
    for section, count in zip(sections, (an, ns, ar), strict=True):
        for _ in range(count):
            record, offset = _record(names, offset)
            section.append(record)
    return Message(header, tuple(questions), *(tuple(s) for s in sections))


# --- TCP framing ------------------------------------------------------------------


def frame_tcp(message: bytes) -> bytes:
    """*message* with its 2-byte length in front, as DNS over TCP sends it."""
    if len(message) > 0xFFFF:
        raise ProtocolError("a DNS message over TCP is at most 65535 bytes", remote=False)
    return struct.pack("!H", len(message)) + message


class TcpDeframer:
    """Splits a TCP byte stream into DNS messages: :meth:`feed`, then :meth:`next_message`.

    Holds at most one message (65535 bytes) plus what was fed past it.
    """

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> None:
        """Add bytes that arrived."""
        self._data += data

    @property
    def pending(self) -> int:
        """Bytes buffered that are not yet a whole message."""
        return len(self._data)

    def next_message(self) -> bytes | None:
        """The next whole message (without its length), or None when more bytes are needed."""
        if len(self._data) < 2:
            return None
        size = struct.unpack_from("!H", self._data)[0]
        if len(self._data) < 2 + size:
            return None
        message = bytes(self._data[2 : 2 + size])
        del self._data[: 2 + size]
        return message


# --- rendering ------------------------------------------------------------------


def _record_line(record: Record) -> str:
    cls = "IN" if record.cls == CLASS_IN else f"CLASS{record.cls}"
    return f"{record.name:<23} {record.ttl:<7} {cls:<3} {type_name(record.type):<5} {record.value}"


def render(message: Message) -> str:
    """*message* as ``dig`` prints it: the header line, flags and counts, then each section."""
    h = message.header
    opcode = OPCODES.get(h.opcode, str(h.opcode))
    status = RCODES.get(h.rcode, f"RCODE{h.rcode}")
    lines = [
        f";; ->>HEADER<<- opcode: {opcode}, status: {status}, id: {h.id}",
        f";; flags: {' '.join(h.flag_names())}; QUERY: {len(message.questions)}, "
        f"ANSWER: {len(message.answers)}, AUTHORITY: {len(message.authority)}, "
        f"ADDITIONAL: {len(message.additional)}",
    ]
    if message.questions:
        lines += ["", ";; QUESTION SECTION:"]
        for q in message.questions:
            cls = "IN" if q.cls == CLASS_IN else f"CLASS{q.cls}"
            lines.append(f";{q.name:<22} {'':<7} {cls:<3} {type_name(q.type)}")
    for title, records in (
        ("ANSWER", message.answers),
        ("AUTHORITY", message.authority),
        ("ADDITIONAL", message.additional),
    ):
        if records:
            lines += ["", f";; {title} SECTION:"]
            lines += [_record_line(record) for record in records]
    return "\n".join(lines)


def describe_message(data: bytes) -> str:
    """*data* (one message, no TCP length) decoded and rendered; never raises."""
    try:
        return render(decode_message(data))
    except ProtocolError as error:
        return f"not a DNS message: {error}"


FLAG_MEANINGS = {
    "qr": "query response: this is an answer",
    "aa": "authoritative answer: from a server for the zone",
    "tc": "truncated: too big for UDP, ask again over TCP",
    "rd": "recursion desired: the client asked the server to resolve fully",
    "ra": "recursion available: the server offers recursion",
}
"""What each header flag means (RFC 1035 section 4.1.1), for ``/explain``."""
