"""Volatile parts of recorded answers: dates, times and (in banners) numbers (pure).

A recording must replay green tomorrow against the same server, so an answer
holding the time of day cannot be expected byte for byte. :func:`generalise`
turns recorded bytes into a regular expression (text, for a recipe) that
matches exactly those bytes except that, on every line that looks like it
carries a date or a time, weekday and month names match any such name,
runs of digits any digits, runs of spaces any spaces, and AM/PM either.
With ``digits=True`` (a banner: process ids, versions, counters) every run
of digits is generalised, on every line. The pattern is anchored at the
start (``\\A``) so that, as a recipe ``regex`` expectation, it consumes
exactly the bytes of the answer and no more.

The input is a recipe *template* (``$${`` for a literal ``${``,
``${secret:NAME}`` for a secret): placeholders match loosely (``.+?``), so
a secret echoed back is never written into a pattern.
"""

from __future__ import annotations

import re

_NAMES = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|"
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE_LINE = re.compile(
    rb"\d{1,2}:\d{2}(?::\d{2})?|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    rb"|\b(?:" + _NAMES.encode() + rb")\b\.?,?\s+\d",
    re.IGNORECASE,
)
_DATE_TOKEN = re.compile(
    rb"(?P<name>\b(?:" + _NAMES.encode() + rb")\b)|(?P<ampm>\b[AaPp][Mm]\b)|(?P<num>\d+)|(?P<sp> +)",
    re.IGNORECASE,
)
_DIGITS = re.compile(rb"(?P<num>\d+)")
_PLACEHOLDER = re.compile(rb"\$\$\{|\$\{[^}]*\}")
_ESCAPES = {ord("\r"): r"\r", ord("\n"): r"\n", ord("\t"): r"\t"}
_SPECIAL = set(b".^$*+?{}[]\\|()")


def literal(data: bytes) -> str:
    """*data* as a regular expression (text) that matches exactly these bytes."""
    out: list[str] = []
    text = data.decode("utf-8", "surrogateescape")
    for char in text:
        code = ord(char)
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x80 and code in _SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def has_date(data: bytes) -> bool:
    """True when some line of *data* looks like it holds a date or a time of day."""
    return _DATE_LINE.search(data) is not None


def _line_pattern(line: bytes, digits: bool) -> str:
    token = _DATE_TOKEN if _DATE_LINE.search(line) else (_DIGITS if digits else None)
    if token is None:
        return literal(line)
    out: list[str] = []
    position = 0
    for found in token.finditer(line):
        out.append(literal(line[position : found.start()]))
        kind = found.lastgroup
        out.append({"name": "[A-Za-z]+", "ampm": "[AaPp][Mm]", "num": r"\d+", "sp": " +"}[kind or "num"])
        position = found.end()
    out.append(literal(line[position:]))
    return "".join(out)


def _pattern(data: bytes, digits: bool) -> str:
    out: list[str] = []
    position = 0
    for found in _PLACEHOLDER.finditer(data):
        out.append(_plain(data[position : found.start()], digits))
        out.append(r"\$\{" if found.group(0) == b"$${" else ".+?")
        position = found.end()
    out.append(_plain(data[position:], digits))
    return "".join(out)


def _plain(data: bytes, digits: bool) -> str:
    return "".join(_line_pattern(line, digits) for line in data.splitlines(keepends=True))


def generalise(data: bytes, *, digits: bool = False, whole: bool = False) -> str | None:
    """A ``\\A``-anchored pattern for *data* with its volatile parts generalised.

    None when nothing in *data* is volatile (then the bytes can be expected
    as they are). ``whole`` adds ``\\Z`` (a UDP datagram is checked whole).
    """
    volatile = has_date(data) or (digits and _DIGITS.search(data) is not None)
    if not volatile:
        return None
    return r"\A" + _pattern(data, digits) + (r"\Z" if whole else "")
