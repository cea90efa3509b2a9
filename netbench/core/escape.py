"""The one escaper: make bytes from a peer or a file safe to show on a terminal, and back.

Everything that reaches a terminal from a peer, a recipe file or the user's
typing goes through this module; nothing else escapes. Nothing here does I/O.

One spelling, whoever calls:

- ``\\xNN`` is always one byte: the C0 controls (except tab and newline where
  kept), DEL, a lone CR, and every byte that is not valid UTF-8;
- ``\\uNNNN`` is always one character (its UTF-8 bytes): the C1 controls
  (``\\u0085``, ``\\u009b``), the bidi controls U+202A-U+202E, U+2066-U+2069
  and U+061C, and the invisible U+200B-U+200F, U+2028, U+2029, U+FEFF, which
  would reorder or hide text on a terminal ("Trojan Source"), and a lone
  surrogate (``\\ud800``, no character at all, which ``json.loads`` gives
  for ``"\\ud800"`` and no terminal encoding can write);
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
from collections.abc import Iterator

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}

# Bidi controls and invisible characters: a terminal would reorder or hide text with them.
_INVISIBLE = "\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff"
# The characters escaped whatever the options (not tab, LF, CR, backslash), as a regex class body.
_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _INVISIBLE + "\ud800-\udc7f\udd00-\udfff"
_SURROGATE_BYTES = "\udc80-\udcff"  # bytes that were not UTF-8, after a surrogateescape decode


@functools.cache
def _pattern(extra: str, lone_cr: bool = False) -> re.Pattern[str]:
    """The characters to rewrite: the always-unsafe ones, surrogate escapes, and *extra*.

    Compiled on first use, not at import (start-up time).
    """
    return re.compile(_class(extra) + ("|\r(?!\n)" if lone_cr else ""))


def _class(extra: str) -> str:
    """The regex class of the always-unsafe characters, surrogate escapes and *extra*."""
    return f"[{_ALWAYS}{_SURROGATE_BYTES}{extra}]"


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


def _spelling(char: str) -> str:
    """The one spelling of a character that is not shown as itself."""
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


@functools.cache
def _table(extra: str) -> dict[int, str]:
    """For :meth:`str.translate`: every character ``_pattern(extra)`` matches, to its spelling.

    One C-level pass over the text instead of a Python call per unsafe
    character (1 MiB of controls took seconds through ``re.sub``). The ~2100
    always-unsafe characters are spelled once (:func:`_always_table`); each
    *extra* adds its few to a copy.
    """
    table = dict(_always_table())
    table.update((code, _spelling(chr(code))) for code in _class_codes(extra))
    return table


@functools.cache
def _always_table() -> dict[int, str]:
    """Every always-unsafe character and surrogate escape, to its spelling."""
    return {code: _spelling(chr(code)) for code in _class_codes(_ALWAYS + _SURROGATE_BYTES)}


def _class_codes(body: str) -> Iterator[int]:
    """The code points a regex class body of single characters and ``a-z`` ranges names.

    The bodies here hold no other regex syntax (``\\\\`` in an *extra* is two
    backslashes: the regex's escaped backslash, one code point given twice).
    """
    index = 0
    while index < len(body):
        if body[index + 1 : index + 2] == "-" and index + 2 < len(body):
            yield from range(ord(body[index]), ord(body[index + 2]) + 1)
            index += 3
        else:
            yield ord(body[index])
            index += 1


def _rewrite(text: str, extra: str, lone_cr: bool = False, table: dict[int, str] | None = None) -> str:
    """*text* with what ``_pattern(extra, lone_cr)`` matches spelled out, in linear C-level passes.

    *table* (default ``_table(extra)``) gives the spellings; not with *lone_cr*.
    """
    if _pattern(extra, lone_cr).search(text) is None:
        return text
    if lone_cr and "\r" in text:  # a CR directly before a LF stays; every other CR is escaped
        return "\r\n".join(_translate(part, extra + "\r") for part in text.split("\r\n"))
    return _translate(text, extra, table)


def _translate(text: str, extra: str, table: dict[int, str] | None = None) -> str:
    """*text* through *table* (default ``_table(extra)``: every character ``_pattern(extra)`` matches).

    Both ways are linear; which is faster depends on the text. ASCII text,
    and text whose first 4 KiB has a run of unsafe characters every 32
    characters or more often (binary data), goes through :meth:`str.translate`
    whole (a lookup per character, cached for ASCII); other text (mostly
    safe, non-ASCII) run by run of unsafe characters, skipping the safe ones.
    """
    table = _table(extra) if table is None else table
    runs = _runs(extra)
    if text.isascii() or len(runs.findall(text, 0, 4096)) * 32 > min(len(text), 4096):
        return text.translate(table)
    return runs.sub(lambda run: run.group().translate(table), text)


@functools.cache
def _runs(extra: str) -> re.Pattern[str]:
    """Runs of the characters ``_pattern(extra)`` matches one by one."""
    return re.compile(_class(extra) + "+")


def escape(data: bytes, *, keep_newlines: bool = True, keep_tabs: bool = True) -> str:
    """Return *data* as terminal-safe text, spelled as the module docstring says.

    With ``keep_newlines`` a LF (and a CR directly before a LF) is kept as a
    line break; a lone CR is always escaped, since it would overwrite the line.
    With ``keep_tabs`` a tab is kept. A backslash is always doubled.
    """
    text = data.decode("utf-8", errors="surrogateescape")
    return _rewrite(text, _ESCAPE_EXTRA[keep_newlines, keep_tabs], keep_newlines)


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
    return _rewrite(text, _SCRUB_EXTRA[keep_newlines])


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
    # A LF byte is never part of a UTF-8 sequence, so each LF character is a
    # LF byte: it alone starts a new line (a literal backslash-n does not).
    text = data.decode("utf-8", errors="surrogateescape")
    return _rewrite(text, _ESCAPE_EXTRA[False, False], table=_visible_table())


@functools.cache
def _visible_table() -> dict[int, str]:
    return {**_table(_ESCAPE_EXTRA[False, False]), ord("\n"): "\\n\n"}


_UNESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[rnt\\0])")


def unescape(text: str) -> bytes:
    """Inverse of :func:`escape`: turn escapes back into the original bytes.

    ``\\xNN`` stands for the single byte NN (raw, even above 0x7F);
    ``\\uNNNN`` for the UTF-8 encoding of that character.
    """
    out = bytearray()
    position = 0
    for match in _UNESCAPE.finditer(text):
        out += _encode(text[position : match.start()])
        token = match.group(1)
        if token[0] == "x":
            out.append(int(token[1:], 16))
        elif token[0] == "u":
            out += chr(int(token[1:], 16)).encode("utf-8", errors="surrogatepass")
        else:
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\", "0": b"\0"}[token]
        position = match.end()
    out += _encode(text[position:])
    return bytes(out)


# Controls that make data binary: all but tab, LF, CR and ESC (a coloured banner is text).
_BINARY_C0 = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_BINARY_C1 = tuple(bytes([0xC2, byte]) for byte in range(0x80, 0xA0))  # U+0080-U+009F in UTF-8
BINARY_PERCENT = 30  # more controls than this share of the characters: binary (the REPL's old rule)


def is_text(data: bytes) -> bool:
    """The one text-or-binary decision: True to show *data* as (escaped) text, False for a hexdump.

    Text is valid UTF-8 in which at most :data:`BINARY_PERCENT` % of the
    characters are controls other than tab, LF, CR and ESC. ESC does not
    count, so a coloured banner or a hostile ``\\x1b[2J`` stays readable text
    (escaped), and so does a short line with a NUL in it (``a\\x00b``);
    invalid UTF-8 and mostly-control data are binary. Linear, in C-level
    passes over the bytes (no object per character).
    """
    try:
        characters = len(data.decode("utf-8"))
    except UnicodeDecodeError:
        return False
    # Valid UTF-8: a C0 control or DEL is its one byte; a C1 control is 0xC2 then 0x80-0x9F.
    controls = len(data) - len(data.translate(None, _BINARY_C0))
    if b"\xc2" in data:
        controls += sum(data.count(pair) for pair in _BINARY_C1)
    return controls * 100 <= characters * BINARY_PERCENT


def hexdump(data: bytes, *, offset: int = 0, width: int = 16, mark: int | None = None) -> str:
    """Return a classic hexdump: offset, hex bytes, ASCII column.

    ``offset`` is added to the printed offsets (for a stream shown in
    pieces). ``mark`` is the index of a byte to flag with ``>`` (the first
    difference in a failed comparison).
    """
    lines = []
    pad = width * 3 + 1
    for start in range(0, len(data), width):
        chunk = data[start : start + width]
        if mark is not None and start <= mark < start + width:
            cells = []
            for index, byte in enumerate(chunk):
                cells.append(f"{'>' if start + index == mark else ' '}{byte:02x}")
                if index == 7:
                    cells.append(" ")
            hex_part = "".join(cells)
        else:  # the same cells, made by C-level bytes.hex: a line a few calls, not one per byte
            hex_part = " " + chunk[:8].hex(" ") + ("  " + chunk[8:].hex(" ") if len(chunk) > 8 else "")
        text_part = chunk.translate(_DOTS).decode("ascii")
        lines.append(f"{offset + start:08x} {hex_part:<{pad}}  |{text_part}|")
    return "\n".join(lines)


_DOTS = bytes(byte if 0x20 <= byte < 0x7F else ord(".") for byte in range(256))  # the ASCII column


def parse_hex(text: str) -> bytes:
    """Parse hex digits with optional spaces, newlines, ``0x`` and ``:`` (``"50 49 4e 47"``)."""
    cleaned = re.sub(r"0x|[\s:,]", "", text)
    try:
        return bytes.fromhex(cleaned)
    except ValueError as error:
        from netbench.errors import UsageError

        raise UsageError(f"invalid hex: {error}") from None
