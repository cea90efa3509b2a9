"""The lab's DNS server: a small authoritative zone, ``lab.test.``, over UDP and TCP on one port.

The zone (:data:`ZONE`)::

    lab.test.        A 127.0.0.1, AAAA ::1, NS ns.lab.test., SOA
    ns.lab.test.     A 127.0.0.1
    www.lab.test.    CNAME lab.test.
    mail.lab.test.   MX 10 mx.lab.test.
    mx.lab.test.     A 127.0.0.1
    hello.lab.test.  TXT "hello from the netbench lab"
    big.lab.test.    TXT (about 1.3 KB: too big for a UDP answer; ask over TCP)

Answers follow RFC 1035: the id and question echoed, QR and AA set, RD
copied, RA clear (no recursion here); a CNAME is followed inside the zone;
a name that exists without the type asked gets NOERROR with no answer
(NODATA), an unknown name NXDOMAIN, both with the SOA in the authority
section; names outside the zone are REFUSED; an opcode other than QUERY gets
NOTIMP, a malformed query FORMERR (or nothing, when not even the header is
there). Over UDP an answer over 512 bytes is truncated: TC set, sections
emptied, so the client retries over TCP (section 4.2.1). Over TCP each
message has a two-byte length in front (section 4.2.2); several queries may
share a connection. Responses (QR set) are never answered, so two servers
cannot bounce datagrams at each other.
"""

from __future__ import annotations

from typing import Any

from netbench.core import dns
from netbench.core.dns import Header, Message, Question, Record
from netbench.errors import ProtocolError
from netbench.lab.base import DatagramBase
from netbench.lab.shared import BufferedStream

ORIGIN = "lab.test."
TTL = 300
SOA = Record(
    ORIGIN,
    dns.TYPES["SOA"],
    TTL,
    dns.rdata_soa("ns.lab.test.", "hostmaster.lab.test.", 2026113001, 3600, 600, 86400, 60),
)
BIG_TXT = tuple(f"line {n:02d} of a record too big for one UDP answer: " + "x" * 20 for n in range(20))

ZONE: dict[str, tuple[Record, ...]] = {
    ORIGIN: (
        Record(ORIGIN, dns.TYPES["A"], TTL, dns.rdata_a("127.0.0.1")),
        Record(ORIGIN, dns.TYPES["AAAA"], TTL, dns.rdata_aaaa("::1")),
        Record(ORIGIN, dns.TYPES["NS"], TTL, dns.encode_name("ns.lab.test.")),
        SOA,
    ),
    "ns.lab.test.": (Record("ns.lab.test.", dns.TYPES["A"], TTL, dns.rdata_a("127.0.0.1")),),
    "www.lab.test.": (Record("www.lab.test.", dns.TYPES["CNAME"], TTL, dns.encode_name(ORIGIN)),),
    "mail.lab.test.": (Record("mail.lab.test.", dns.TYPES["MX"], TTL, dns.rdata_mx(10, "mx.lab.test.")),),
    "mx.lab.test.": (Record("mx.lab.test.", dns.TYPES["A"], TTL, dns.rdata_a("127.0.0.1")),),
    "hello.lab.test.": (
        Record("hello.lab.test.", dns.TYPES["TXT"], TTL, dns.rdata_txt("hello from the netbench lab")),
    ),
    "big.lab.test.": (Record("big.lab.test.", dns.TYPES["TXT"], TTL, dns.rdata_txt(*BIG_TXT)),),
}
"""Owner name (lower case, absolute) -> its records."""

ANY = dns.TYPES["ANY"]
CNAME = dns.TYPES["CNAME"]
FORMERR, NXDOMAIN, NOTIMP, REFUSED = 1, 3, 4, 5


def _lookup(name: str, qtype: int) -> tuple[list[Record], bool]:
    """The answer records for *name*/*qtype* (following CNAMEs in the zone) and whether *name* exists."""
    answers: list[Record] = []
    seen: set[str] = set()
    current = name.lower()
    while current in ZONE and current not in seen:
        seen.add(current)
        records = ZONE[current]
        matching = [r for r in records if qtype in (r.type, ANY)]
        if matching:
            answers += [Record(r.name if answers else name, r.type, r.ttl, r.data) for r in matching]
            break
        cname = next((r for r in records if r.type == CNAME), None)
        if cname is None:
            break
        answers.append(Record(cname.name if answers else name, cname.type, cname.ttl, cname.data))
        current = dns.decode_name(cname.data, 0)[0].lower()
    return answers, name.lower() in ZONE


def _in_zone(name: str) -> bool:
    lower = name.lower()
    return lower == ORIGIN or lower.endswith("." + ORIGIN)


def _reply(query: Header, rcode: int, *, aa: bool = False, tc: bool = False) -> Header:
    """The response header for *query*: its id and opcode, QR set, RD copied, RA clear."""
    return Header(id=query.id, qr=True, opcode=query.opcode, aa=aa, tc=tc, rd=query.rd, rcode=rcode)


def answer(query: bytes, *, udp: bool) -> bytes | None:
    """The response to *query* (one DNS message), or None when nothing should be sent."""
    try:
        header = dns.decode_header(query)
    except ProtocolError:
        return None  # not even a header: nothing to answer to
    if header.qr:
        return None
    try:
        message = dns.decode_message(query)
    except ProtocolError:
        return dns.encode_message(Message(_reply(header, FORMERR)))
    if header.opcode != 0:
        return dns.encode_message(Message(_reply(header, NOTIMP), message.questions))
    if len(message.questions) != 1:
        return dns.encode_message(Message(_reply(header, FORMERR), message.questions))
    question = message.questions[0]
    if not _in_zone(question.name) or question.cls not in (dns.CLASS_IN, ANY):
        return dns.encode_message(Message(_reply(header, REFUSED), message.questions))
    answers, exists = _lookup(question.name, question.type)
    rcode = 0 if exists else NXDOMAIN
    authority = () if answers else (SOA,)
    response = Message(_reply(header, rcode, aa=True), (question,), tuple(answers), authority)
    wire = dns.encode_message(response)
    if udp and len(wire) > dns.UDP_LIMIT:
        wire = dns.encode_message(Message(_reply(header, rcode, aa=True, tc=True), (question,)))
    return wire


def query_summary(query: bytes) -> str:
    """``A www.lab.test.`` for the log (escaped), or ``malformed``."""
    try:
        question: Question = dns.decode_message(query).questions[0]
    except (ProtocolError, IndexError):
        return "malformed query"
    return f"{dns.type_name(question.type)} {question.name}"


class DnsDatagrams(DatagramBase):
    """DNS over UDP: each query datagram gets one response datagram (at most 512 bytes)."""

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.note(data, addr)
        if self.notes is not None:
            self.notes.note(f"dns {query_summary(data)} (udp)")
        response = answer(data, udp=True)
        if response is not None:
            self.answer(response, addr)


class DnsStream(BufferedStream):
    """DNS over TCP: length-prefixed queries in, length-prefixed responses out, in order."""

    max_buffer = 2 + 0xFFFF + 2

    def process(self) -> None:
        while len(self.buffer) >= 2 and not self.lingering and not self.write_paused:
            size = int.from_bytes(self.buffer[:2], "big")
            if len(self.buffer) < 2 + size:
                return
            query = bytes(self.buffer[2 : 2 + size])
            del self.buffer[: 2 + size]
            if self.state.log is not None:
                self.note(f"dns {query_summary(query)} (tcp)")
            response = answer(query, udp=False)
            if response is None:
                self.close_gracefully()  # not DNS at all: hang up, as servers do
                return
            self.send(dns.frame_tcp(response))
