"""Make bytes from a peer safe to show on a terminal, and back.

A byte a terminal would act on (ESC and the other C0 controls except tab and
newline, DEL, the C1 controls, a lone CR) is written as an escape such as
``\\x1b``; a backslash is doubled so that :func:`unescape` gives back the
exact original bytes. Invalid UTF-8 is shown as ``\\xNN`` escapes, never
crashed on. Nothing in this module does I/O.
"""

from __future__ import annotations

import re

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}


def _is_unsafe(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or char in "\u2028\u2029"


def escape(data: bytes, *, keep_newlines: bool = True, keep_tabs: bool = True) -> str:
    """Return *data* as terminal-safe text.

    With ``keep_newlines`` a LF (and a CR directly before a LF) is kept as a
    line break; a lone CR is always escaped, since it would overwrite the line.
    """
    text = data.decode("utf-8", errors="surrogateescape")
    out: list[str] = []
    length = len(text)
    for index, char in enumerate(text):
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char == "\r" and keep_newlines and index + 1 < length and text[index + 1] == "\n":
            out.append(char)
        elif char == "\t" and keep_tabs:
            out.append(char)
        elif char == "\\":
            out.append("\\\\")
        elif "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif _is_unsafe(char):
            out.append(_NAMED.get(char) or _code_escape(char))
        else:
            out.append(char)
    return "".join(out)


def escape_text(text: str, *, one_line: bool = True) -> str:
    """Text of ours that may quote peer or typed bytes, made terminal-safe.

    Characters that came from bytes that were not UTF-8 (surrogate escapes,
    as stdin and ``os.fsdecode`` give them) show as ``\\xNN``; with
    *one_line*, CR and LF are escaped too.
    """
    return escape(text.encode("utf-8", "surrogateescape"), keep_newlines=not one_line)


def scrub(text: str) -> str:
    """One line of our own text (an error message) made terminal-safe, idempotently.

    Characters a terminal acts on (controls, CR and LF included) and
    surrogate-escaped bytes are escaped; a backslash is left as it is, so a
    message whose peer bytes were already escaped where it was made comes out
    unchanged rather than escaped twice.
    """
    out: list[str] = []
    for char in text:
        if "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif _is_unsafe(char):
            out.append(_NAMED.get(char) or _code_escape(char))
        else:
            out.append(char)
    return "".join(out)


def _code_escape(char: str) -> str:
    code = ord(char)
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(data: bytes) -> str:
    """Return *data* with every CR, LF and control made visible (``\\r\\n``).

    Used for the wire view: line breaks are shown as escapes *and* kept, so
    ``b"a\\r\\nb"`` becomes ``a\\r\\n`` then a new line, then ``b``.
    """
    # Split on the LF bytes themselves (never part of a UTF-8 sequence): a
    # literal backslash-n in the data must not start a new line.
    lines = data.split(b"\n")
    return "\\n\n".join(escape(line, keep_newlines=False, keep_tabs=False) for line in lines)


_UNESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[rnt\\0])")


def unescape(text: str) -> bytes:
    """Inverse of :func:`escape`: turn escapes back into the original bytes.

    ``\\xNN`` stands for the single byte NN (raw, even above 0x7F);
    ``\\uNNNN`` for the UTF-8 encoding of that character.
    """
    out = bytearray()
    position = 0
    for match in _UNESCAPE.finditer(text):
        out += text[position : match.start()].encode("utf-8", errors="surrogateescape")
        token = match.group(1)
        if token[0] == "x":
            out.append(int(token[1:], 16))
        elif token[0] == "u":
            out += chr(int(token[1:], 16)).encode("utf-8", errors="surrogatepass")
        else:
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\", "0": b"\0"}[token]
        position = match.end()
    out += text[position:].encode("utf-8", errors="surrogateescape")
    return bytes(out)


def is_text(data: bytes) -> bool:
    """True when *data* is valid UTF-8 with few controls (shown as text, not hex)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not text:
        return True
    controls = sum(1 for c in text if _is_unsafe(c) and c not in "\r\n\t")
    return controls * 20 <= len(text)


def hexdump(data: bytes, *, offset: int = 0, width: int = 16, mark: int | None = None) -> str:
    """Return a classic hexdump: offset, hex bytes, ASCII column.

    ``offset`` is added to the printed offsets (for a stream shown in
    pieces). ``mark`` is the index of a byte to flag with ``>`` (the first
    difference in a failed comparison).
    """
    lines = []
    for start in range(0, len(data), width):
        chunk = data[start : start + width]
        cells = []
        for index, byte in enumerate(chunk):
            flag = ">" if mark is not None and start + index == mark else " "
            cells.append(f"{flag}{byte:02x}")
            if index == 7:
                cells.append(" ")
        hex_part = "".join(cells)
        text_part = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset + start:08x} {hex_part:<{width * 3 + 1}}  |{text_part}|")
    return "\n".join(lines)


def parse_hex(text: str) -> bytes:
    """Parse hex digits with optional spaces, newlines, ``0x`` and ``:`` (``"50 49 4e 47"``)."""
    cleaned = re.sub(r"0x|[\s:,]", "", text)
    try:
        return bytes.fromhex(cleaned)
    except ValueError as error:
        from netbench.errors import UsageError

        raise UsageError(f"invalid hex: {error}") from None
