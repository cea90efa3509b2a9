"""DNS messages (RFC 1035) sans-IO: build a query, encode and decode messages, TCP framing.

A message is a 12-byte header (id, flags, four counts), then the question,
answer, authority and additional sections (RFC 1035 section 4.1). Names are
length-prefixed labels, possibly compressed with pointers (section 4.1.4);
:func:`decode_message` follows pointers (never in a loop) and
:func:`encode_message` writes names uncompressed. Over TCP each message is
preceded by its length in two bytes (section 4.2.2): :func:`frame_tcp` and
:class:`TcpDeframer`. :func:`render` shows a message as ``dig`` does.
Nothing here does I/O; malformed input raises
:class:`~netbench.errors.ProtocolError`.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from netbench.core.escape import escape
from netbench.errors import ProtocolError

TYPES = {
    "A": 1,
    "NS": 2,
    "CNAME": 5,
    "SOA": 6,
    "PTR": 12,
    "MX": 15,
    "TXT": 16,
    "AAAA": 28,
    "OPT": 41,
    "ANY": 255,
}
"""Record type names and numbers (RFC 1035 section 3.2.2, RFC 3596, RFC 6891)."""
TYPE_NAMES = {number: name for name, number in TYPES.items()}
CLASS_IN = 1
OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
"""Response codes (RFC 1035 section 4.1.1)."""
UDP_LIMIT = 512
"""The largest DNS message over UDP without EDNS (RFC 1035 section 4.2.1)."""
MAX_POINTERS = 64


def type_number(name: str) -> int:
    """``"AAAA"`` -> 28; ``"TYPE99"`` -> 99. Raises :class:`ProtocolError` (local) when unknown."""
    text = name.upper()
    if text in TYPES:
        return TYPES[text]
    if text.startswith("TYPE") and text[4:].isdigit() and int(text[4:]) < 65536:
        return int(text[4:])
    raise ProtocolError(f"unknown DNS record type {name!r} (known: {', '.join(TYPES)})", remote=False)


def type_name(number: int) -> str:
    """28 -> ``"AAAA"``; an unknown number -> ``"TYPE99"`` (RFC 3597's form)."""
    return TYPE_NAMES.get(number, f"TYPE{number}")


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


def encode_name(name: str) -> bytes:
    """``lab.test.`` -> ``\\x03lab\\x04test\\x00``; ``.`` or empty is the root.

    Raises :class:`ProtocolError` (local) for a label over 63 bytes or a name over 255.
    """
    out = bytearray()
    for label in name.rstrip(".").split(".") if name.strip(".") else []:
        raw = label.encode("idna") if not label.isascii() else label.encode()
        if not 0 < len(raw) < 64:
            raise ProtocolError(f"DNS label {label!r} must be 1 to 63 bytes", remote=False)
        out += bytes([len(raw)]) + raw
    out.append(0)
    if len(out) > 255:
        raise ProtocolError(f"DNS name {name!r} is longer than 255 bytes", remote=False)
    return bytes(out)


def rdata_a(address: str) -> bytes:
    """RDATA of an A record."""
    return ipaddress.IPv4Address(address).packed


def rdata_aaaa(address: str) -> bytes:
    """RDATA of an AAAA record."""
    return ipaddress.IPv6Address(address).packed


def rdata_mx(preference: int, exchange: str) -> bytes:
    """RDATA of an MX record: a 16-bit preference and a name."""
    return struct.pack("!H", preference) + encode_name(exchange)


def rdata_txt(*strings: str | bytes) -> bytes:
    """RDATA of a TXT record: character-strings of at most 255 bytes each."""
    out = bytearray()
    for text in strings:
        raw = text.encode() if isinstance(text, str) else text
        if len(raw) > 255:
            raise ProtocolError("a TXT character-string is at most 255 bytes", remote=False)
        out += bytes([len(raw)]) + raw
    return bytes(out)


def rdata_soa(
    mname: str, rname: str, serial: int, refresh: int, retry: int, expire: int, minimum: int
) -> bytes:
    """RDATA of an SOA record."""
    return (
        encode_name(mname) + encode_name(rname) + struct.pack("!5I", serial, refresh, retry, expire, minimum)
    )


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


def absolute(name: str) -> str:
    """*name* ending with exactly one dot (``lab.test`` -> ``lab.test.``)."""
    return name.rstrip(".") + "."


# --- decoding -------------------------------------------------------------------


def _need(data: bytes, offset: int, size: int, what: str) -> None:
    if offset + size > len(data):
        raise ProtocolError(f"DNS message cut short in {what} (at byte {offset}, {len(data)} bytes)")


def decode_name(data: bytes, offset: int) -> tuple[str, int]:
    """The name at *offset* (following compression pointers) and the offset after it."""
    labels: list[str] = []
    end: int | None = None
    jumps = 0
    total = 0
    while True:
        _need(data, offset, 1, "a name")
        size = data[offset]
        if size & 0xC0 == 0xC0:
            _need(data, offset, 2, "a name pointer")
            if end is None:
                end = offset + 2
            jumps += 1
            if jumps > MAX_POINTERS:
                raise ProtocolError("DNS name compression pointers loop")
            offset = struct.unpack_from("!H", data, offset)[0] & 0x3FFF
            continue
        if size & 0xC0:
            raise ProtocolError(f"DNS label length byte 0x{size:02x} is not valid")
        offset += 1
        if size == 0:
            break
        _need(data, offset, size, "a label")
        label = data[offset : offset + size]
        total += size + 1
        if total > 255:
            raise ProtocolError("DNS name longer than 255 bytes")
        labels.append(escape(label, keep_newlines=False).replace(".", "\\."))
        offset += size
    return ".".join(labels) + ".", (end if end is not None else offset)


def _character_strings(data: bytes) -> list[bytes]:
    out: list[bytes] = []
    offset = 0
    while offset < len(data):
        size = data[offset]
        _need(data, offset + 1, size, "a TXT string")
        out.append(data[offset + 1 : offset + 1 + size])
        offset += 1 + size
    return out


def _rdata_text(message: bytes, rtype: int, start: int, size: int) -> str:
    data = message[start : start + size]
    if rtype == TYPES["A"] and size == 4:
        return str(ipaddress.IPv4Address(data))
    if rtype == TYPES["AAAA"] and size == 16:
        return str(ipaddress.IPv6Address(data))
    if rtype in (TYPES["CNAME"], TYPES["NS"], TYPES["PTR"]):
        return decode_name(message, start)[0]
    if rtype == TYPES["MX"] and size >= 3:
        return f"{struct.unpack_from('!H', message, start)[0]} {decode_name(message, start + 2)[0]}"
    if rtype == TYPES["TXT"]:
        parts = _character_strings(data)
        return " ".join('"' + escape(part, keep_newlines=False).replace('"', '\\"') + '"' for part in parts)
    if rtype == TYPES["SOA"]:
        mname, after = decode_name(message, start)
        rname, after = decode_name(message, after)
        _need(message, after, 20, "an SOA record")
        return f"{mname} {rname} " + " ".join(str(n) for n in struct.unpack_from("!5I", message, after))
    return f"\\# {size} {data.hex()}"  # RFC 3597's generic form


def _record(message: bytes, offset: int) -> tuple[Record, int]:
    name, offset = decode_name(message, offset)
    _need(message, offset, 10, "a record header")
    rtype, rclass, ttl, size = struct.unpack_from("!HHIH", message, offset)
    offset += 10
    _need(message, offset, size, "record data")
    value = _rdata_text(message, rtype, offset, size)
    record = Record(name, rtype, ttl, message[offset : offset + size], rclass, value)
    return record, offset + size


def decode_header(data: bytes) -> Header:
    """The header of *data* (the first 12 bytes)."""
    _need(data, 0, 12, "the header")
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
    """Decode a whole message (one UDP datagram, or one TCP message without its length)."""
    header = decode_header(data)
    qd, an, ns, ar = struct.unpack_from("!4H", data, 4)
    offset = 12
    questions: list[Question] = []
    for _ in range(qd):
        name, offset = decode_name(data, offset)
        _need(data, offset, 4, "a question")
        qtype, qclass = struct.unpack_from("!HH", data, offset)
        offset += 4
        questions.append(Question(name, qtype, qclass))
    sections: list[list[Record]] = [[], [], []]
    for section, count in zip(sections, (an, ns, ar), strict=True):
        for _ in range(count):
            record, offset = _record(data, offset)
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
