"""DNS record types and their data (RDATA) sans-IO: type names, building RDATA, showing it.

The record types netbench knows by name (RFC 1035 section 3.2.2, RFC 3596,
RFC 6891), the RDATA of the common ones built from readable values
(:func:`rdata_a` ... :func:`rdata_soa`), and :func:`rdata_text`, RDATA read
back for a person as ``dig`` shows it (RFC 3597's ``\\# size hex`` for a type
it does not know). A name inside RDATA must end inside it. Malformed RDATA
raises :class:`~netbench.errors.ProtocolError`. Nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
import struct

from netbench.core.dns_names import NameReader, check_room, encode_name
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


def _character_strings(data: bytes) -> list[bytes]:
    out: list[bytes] = []
    offset = 0
    while offset < len(data):
        size = data[offset]
        check_room(data, offset + 1, size, "a TXT string")
        out.append(data[offset + 1 : offset + 1 + size])
        offset += 1 + size
    return out


def rdata_text(names: NameReader, rtype: int, start: int, size: int) -> str:
    """The RDATA of *size* bytes at *start* of the message *names* reads, for a person.

    ``127.0.0.1``, ``10 mail.lab.test.``, ``"text" "more"``, an SOA's names
    and numbers; any other type (or a size that does not fit the type) as
    ``\\# size hex``. Raises :class:`ProtocolError` for a name or string
    that runs past the RDATA.
    """
    message = names.message
    check_room(message, start, size, "record data")
    data = message[start : start + size]
    stop = start + size

    def name_at(offset: int) -> tuple[str, int]:
        name, after = names.name(offset)
        if after > stop:
            raise ProtocolError(f"DNS {type_name(rtype)} record: a name runs past its {size}-byte RDATA")
        return name, after

    if rtype == TYPES["A"] and size == 4:
        return str(ipaddress.IPv4Address(data))
    if rtype == TYPES["AAAA"] and size == 16:
        return str(ipaddress.IPv6Address(data))
    if rtype in (TYPES["CNAME"], TYPES["NS"], TYPES["PTR"]):
        return name_at(start)[0]
    if rtype == TYPES["MX"] and size >= 3:
        return f"{struct.unpack_from('!H', message, start)[0]} {name_at(start + 2)[0]}"
    if rtype == TYPES["TXT"]:
        parts = _character_strings(data)
        return " ".join('"' + escape(part, keep_newlines=False).replace('"', '\\"') + '"' for part in parts)
    if rtype == TYPES["SOA"]:
        mname, after = name_at(start)
        rname, after = name_at(after)
        if stop - after != 20:
            raise ProtocolError(f"DNS SOA record: {stop - after} bytes after its names, not 20")
        return f"{mname} {rname} " + " ".join(str(n) for n in struct.unpack_from("!5I", message, after))
    return f"\\# {size} {data.hex()}"  # RFC 3597's generic form
