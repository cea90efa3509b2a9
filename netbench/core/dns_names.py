"""DNS names (RFC 1035 sections 3.1, 4.1.4) sans-IO: encode, and decode compressed names safely.

A name is a sequence of labels, each a length byte (1-63) and that many
bytes, ended by a zero byte (the root); a label may instead be a two-byte
*pointer* (top bits ``11``) to where the rest of the name was written
earlier in the message. A whole name is at most :data:`MAX_NAME` bytes.

Decoding is bounded whatever the bytes say: a pointer must point back,
before the name and before the previous pointer (RFC 1035 section 4.1.4's
"a prior occurrence"), so pointers cannot loop; at most :data:`MAX_POINTERS`
are followed per name; and a :class:`NameReader` decodes the name at each
offset of a message once, so a message whose every record points at one long
name costs one decode of that name, not one per record. Malformed names
raise :class:`~netbench.errors.ProtocolError`. Nothing here does I/O.
"""

from __future__ import annotations

from netbench.core.escape import escape
from netbench.errors import ProtocolError

MAX_NAME = 255
"""The most bytes a name takes uncompressed, length bytes and the root's zero included."""
MAX_POINTERS = 64
"""The most compression pointers followed in one name."""


def check_room(data: bytes, offset: int, size: int, what: str) -> None:
    """Raise :class:`ProtocolError` unless *data* holds *size* bytes at *offset* (for *what*)."""
    if offset + size > len(data):
        raise ProtocolError(f"DNS message cut short in {what} (at byte {offset}, {len(data)} bytes)")


def absolute(name: str) -> str:
    """*name* ending with exactly one dot (``lab.test`` -> ``lab.test.``)."""
    return name.rstrip(".") + "."


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
    if len(out) > MAX_NAME:
        raise ProtocolError(f"DNS name {name!r} is longer than {MAX_NAME} bytes", remote=False)
    return bytes(out)


class NameReader:
    """Decodes the names of one message, each offset once: :meth:`name` at an offset.

    Remembers, for every offset where a label or pointer was read, the name
    that starts there, its uncompressed size and where it ends in place.
    """

    def __init__(self, message: bytes) -> None:
        self.message = message
        self._known: dict[int, tuple[str, int, int]] = {}  # offset -> (text without the root dot, size, end)

    def name(self, offset: int) -> tuple[str, int]:
        """The name at *offset* (``www.lab.test.``; the root is ``.``) and the offset after it in place.

        A dot inside a label is written ``\\.``; label bytes are escaped as
        :func:`netbench.core.escape.escape` does.
        """
        data = self.message
        # (offset, label text, label size) for a label, (offset, "", 0) for a pointer
        steps: list[tuple[int, str, int]] = []
        limit, jumps, read = offset, 0, 1  # read: the root's byte and the labels read so far
        while True:
            known = self._known.get(offset)
            if known is not None:
                text, size, end = known
                break
            check_room(data, offset, 1, "a name")
            length = data[offset]
            if length & 0xC0 == 0xC0:
                check_room(data, offset, 2, "a name pointer")
                target = (length & 0x3F) << 8 | data[offset + 1]
                if target >= limit:
                    raise ProtocolError(
                        f"DNS name pointer at byte {offset} to byte {target} does not point back: a pointer "
                        "names an earlier occurrence (RFC 1035 section 4.1.4), so it cannot loop"
                    )
                jumps += 1
                if jumps > MAX_POINTERS:
                    raise ProtocolError(f"DNS name with more than {MAX_POINTERS} compression pointers")
                steps.append((offset, "", 0))
                limit = offset = target
                continue
            if length & 0xC0:
                raise ProtocolError(f"DNS label length byte 0x{length:02x} is not valid")
            if length == 0:
                text, size, end = "", 1, offset + 1
                break
            check_room(data, offset + 1, length, "a label")
            label = escape(data[offset + 1 : offset + 1 + length], keep_newlines=False).replace(".", "\\.")
            steps.append((offset, label, length + 1))
            offset += 1 + length
            read += length + 1
            if read > MAX_NAME:
                raise ProtocolError(f"DNS name longer than {MAX_NAME} bytes")
        for at, label, length in reversed(steps):
            if length:
                text, size = (f"{label}.{text}" if text else label), size + length
                if size > MAX_NAME:
                    raise ProtocolError(f"DNS name longer than {MAX_NAME} bytes")
            else:
                end = at + 2  # a pointer ends the name in place
            self._known[at] = (text, size, end)
        return text + ".", end


def decode_name(message: bytes, offset: int) -> tuple[str, int]:
    """The name at *offset* of *message* (following pointers) and the offset after it in place."""
    return NameReader(message).name(offset)
