"""The one escaper: make bytes from a peer or a file safe to show on a terminal, and back.

Everything that reaches a terminal from a peer, a recipe file or the user's
typing goes through this module; nothing else escapes. Nothing here does I/O.

One spelling, whoever calls:

- ``\\xNN`` is always one byte: the C0 controls (except tab and newline where
  kept), DEL, a lone CR, and every byte that is not valid UTF-8;
- ``\\uNNNN`` is always one character (its UTF-8 bytes): the C1 controls
  (``\\u0085``, ``\\u009b``), the bidi controls U+202A-U+202E, U+2066-U+2069
  and U+061C, and the invisible U+200B-U+200F, U+2028, U+2029, U+FEFF, which
  would reorder or hide text on a terminal ("Trojan Source");
- ``\\r``, ``\\n``, ``\\t`` and ``\\\\`` for CR, LF, tab and a backslash.

So ``b"\\x85"`` (a stray byte) and ``b"\\xc2\\x85"`` (the character U+0085)
never look alike, and :func:`unescape` gives back the exact original bytes.

- :func:`escape` -- bytes to safe text (line breaks and tabs kept or not);
- :func:`escape_text`, :func:`scrub` -- text of ours (a message) made safe;
- :func:`quote` -- a short sample on one line in double quotes, for messages;
- :func:`is_text` -- the one text-or-binary decision (text, else a hexdump);
- :func:`visible`, :func:`hexdump`, :func:`unescape`, :func:`parse_hex`.
"""

from __future__ import annotations

import functools
import re

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}

# Bidi controls and invisible characters: a terminal would reorder or hide text with them.
_INVISIBLE = "\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff"
# The characters escaped whatever the options (not tab, LF, CR, backslash), as a regex class body.
_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _INVISIBLE
_SURROGATE_BYTES = "\udc80-\udcff"  # bytes that were not UTF-8, after a surrogateescape decode


@functools.cache
def _pattern(extra: str, lone_cr: bool = False) -> re.Pattern[str]:
    """The characters to rewrite: the always-unsafe ones, surrogate escapes, and *extra*.

    Compiled on first use, not at import (start-up time).
    """
    pattern = f"[{_ALWAYS}{_SURROGATE_BYTES}{extra}]"
    return re.compile(pattern + ("|\r(?!\n)" if lone_cr else ""))


# escape(): the *extra* characters per (keep_newlines, keep_tabs); a lone CR is matched on its own.
_ESCAPE_EXTRA = {
    (False, False): "\\\\\t\n\r",
    (False, True): "\\\\\n\r",
    (True, False): "\\\\\t",
    (True, True): "\\\\",
}
# scrub(): backslashes are left alone (the text may hold escapes already).
_SCRUB_EXTRA = {False: "\t\n\r", True: "\r"}


def is_unsafe(char: str) -> bool:
    """True for a character a terminal would act on or hide: a control, a bidi control, an invisible.

    Tab, LF and CR count as unsafe here; :func:`escape` keeps them where asked.
    """
    return _pattern("\t\n\r").match(char) is not None and not "\udc80" <= char <= "\udcff"


def _spell(match: re.Match[str]) -> str:
    """The one spelling of a character that is not shown as itself."""
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def escape(data: bytes, *, keep_newlines: bool = True, keep_tabs: bool = True) -> str:
    """Return *data* as terminal-safe text, spelled as the module docstring says.

    With ``keep_newlines`` a LF (and a CR directly before a LF) is kept as a
    line break; a lone CR is always escaped, since it would overwrite the line.
    With ``keep_tabs`` a tab is kept. A backslash is always doubled.
    """
    text = data.decode("utf-8", errors="surrogateescape")
    return _pattern(_ESCAPE_EXTRA[keep_newlines, keep_tabs], keep_newlines).sub(_spell, text)


def _encode(text: str) -> bytes:
    """*text* as bytes: a surrogate escape gives its byte back, any other lone surrogate is kept."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def escape_text(text: str, *, one_line: bool = True) -> str:
    """Text of ours that may quote peer or typed bytes, made terminal-safe.

    Characters that came from bytes that were not UTF-8 (surrogate escapes,
    as stdin and ``os.fsdecode`` give them) show as ``\\xNN``; with
    *one_line*, CR and LF are escaped too. A backslash is doubled.
    """
    return escape(_encode(text), keep_newlines=not one_line)


def scrub(text: str, *, keep_newlines: bool = False) -> str:
    """Our own text (an error message, a JSON view) made terminal-safe, idempotently.

    Characters a terminal acts on (controls, tab, CR and LF; with
    *keep_newlines*, LF and tab are kept) and surrogate-escaped bytes are
    escaped; a backslash is left as it is, so a message whose peer bytes were
    already escaped where it was made comes out unchanged, not escaped twice.
    """
    return _pattern(_SCRUB_EXTRA[keep_newlines]).sub(_spell, text)


def quote(data: bytes | str, limit: int = 60, *, wire: bool = False) -> str:
    """A short sample of *data* for a message: one line, escaped, in double quotes.

    ``"GET / HTTP/1.1\\r\\nHost: a\\x1b[2J..."``: CR, LF and tab are escaped
    too, a double quote inside is written ``\\"``, and past *limit* characters
    of escaped text the sample is cut (never inside an escape) and ``...``
    added. Text (*data* as ``str``) is quoted as its UTF-8 bytes would be, or
    with *wire* as the latin-1 bytes it was decoded from (HTTP header text).
    """
    raw = data if isinstance(data, bytes) else data.encode("latin-1", "replace") if wire else _encode(data)
    room = limit * 4 + 4  # no byte takes more than 4 characters to show: enough to fill *limit*
    text = escape(raw[:room], keep_newlines=False, keep_tabs=False)
    if len(text) > limit or len(raw) > room:
        text = _cut(text, limit) + "..."
    return '"' + text.replace('"', '\\"') + '"'


def _cut(text: str, limit: int) -> str:
    """*text* (what escape() gave) cut to at most *limit* characters, never inside an escape."""
    position = 0
    while position < len(text):
        step = 1
        if text[position] == "\\":
            step = {"x": 4, "u": 6}.get(text[position + 1 : position + 2], 2)
        if position + step > limit:
            break
        position += step
    return text[:position]


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


# Controls that make data binary: all but tab, LF, CR and ESC (a coloured banner is text).
_BINARY_CONTROLS = "[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]"
BINARY_PERCENT = 30  # more controls than this share of the characters: binary (the REPL's old rule)


def is_text(data: bytes) -> bool:
    """The one text-or-binary decision: True to show *data* as (escaped) text, False for a hexdump.

    Text is valid UTF-8 in which at most :data:`BINARY_PERCENT` % of the
    characters are controls other than tab, LF, CR and ESC. ESC does not
    count, so a coloured banner or a hostile ``\\x1b[2J`` stays readable text
    (escaped), and so does a short line with a NUL in it (``a\\x00b``);
    invalid UTF-8 and mostly-control data are binary.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    controls = len(re.findall(_BINARY_CONTROLS, text))  # re caches the compiled pattern
    return controls * 100 <= len(text) * BINARY_PERCENT


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
