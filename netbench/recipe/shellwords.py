"""Shell words, both ways (pure): split a pasted command line, quote a word safely.

:func:`split_shell` splits as a POSIX shell would (single and double quotes,
backslashes, bash's ``$'...'``) and expands nothing; :func:`quote` quotes
one literal piece so that a shell reads it back exactly, writing control and
invisible characters as their UTF-8 bytes, ``$'\\xNN'``, so a printed command
never carries a raw control sequence to a terminal and bash passes on the same
bytes in any locale. ``\\xNN`` and octal escapes are bytes both ways, as in bash.
"""

from __future__ import annotations

import re
import shlex

from netbench.core.escape import is_unsafe
from netbench.errors import UsageError

_ANSI_C = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "v": "\v",
}
_ANSI_C_CODE = re.compile(r"x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})|U([0-9a-fA-F]{1,8})|([0-7]{1,3})")


def _byte(value: int) -> str:
    """Byte *value* from ``\\xNN`` or ``\\NNN`` (bash gives a byte, not a character): ASCII as
    itself, above 0x7F as its surrogate escape until :func:`_utf8` reads the run."""
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


def _utf8(text: str) -> str:
    """*text* with runs of escaped bytes that form UTF-8 read as the characters they spell."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate from \\uD800: left as written
        return text


def _ansi_c(text: str, start: int) -> tuple[str, int]:
    """The body of a ``$'...'`` word from *start* (after the quote): its text and the end index."""
    out: list[str] = []
    index = start
    while index < len(text):
        char = text[index]
        if char == "'":
            return _utf8("".join(out)), index + 1
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            code = _ANSI_C_CODE.match(text, index + 1)
            if following in _ANSI_C:
                out.append(_ANSI_C[following])
                index += 2
            elif code is not None:
                digits = next(group for group in code.groups() if group is not None)
                value = int(digits, 8 if code.group(4) else 16)
                out.append(chr(value) if code.group(2) or code.group(3) else _byte(value & 0xFF))
                index = code.end()
            else:
                out.append(following)
                index += 2
            continue
        out.append(char)
        index += 1
    raise UsageError("cannot split the curl command: no closing quotation")


def split_shell(text: str) -> list[str]:
    """Split a command line as a POSIX shell would (quotes, backslashes, ``$'...'``), expanding nothing."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    index = 0
    while index < len(text):
        char = text[index]
        if char in " \t\r\n":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            index += 1
            continue
        in_word = True
        if char == "\\":
            current.append(text[index + 1 : index + 2])
            index += 2
        elif char == "'":
            end = text.find("'", index + 1)
            if end < 0:
                raise UsageError("cannot split the curl command: no closing quotation")
            current.append(text[index + 1 : end])
            index = end + 1
        elif char == "$" and text[index + 1 : index + 2] == "'":
            body, index = _ansi_c(text, index + 2)
            current.append(body)
        elif char == '"':
            index += 1
            while index < len(text) and text[index] != '"':
                if text[index] == "\\" and text[index + 1 : index + 2] in ('"', "\\", "$", "`"):
                    index += 1
                current.append(text[index])
                index += 1
            if index >= len(text):
                raise UsageError("cannot split the curl command: no closing quotation")
            index += 1
        else:
            current.append(char)
            index += 1
    if in_word:
        words.append("".join(current))
    return words


def _ansi_c_spelling(char: str) -> str:
    """*char* inside ``$'...'``: bash gives back exactly its bytes, in every locale.

    A byte that was not UTF-8 (a surrogate escape) is that byte, ``\\xNN``; any
    other character is its UTF-8 bytes, so U+0085 is ``\\xc2\\x85`` (bash's
    ``\\u0085`` would depend on the locale: under LC_ALL=C it stays the six
    characters ``\\u0085``).
    """
    if "\udc80" <= char <= "\udcff":
        return f"\\x{ord(char) - 0xDC00:02x}"
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8"))


def _needs_spelling(char: str) -> bool:
    return is_unsafe(char) or "\udc80" <= char <= "\udcff"


def quote(literal: str) -> str:
    """One literal piece of a shell word, read back by bash as exactly the same bytes.

    Plain text is quoted as :func:`shlex.quote` does. A piece with a control or
    invisible character (:func:`netbench.core.escape.is_unsafe`) or a byte that
    was not UTF-8 becomes one ``$'...'`` word with those characters spelt as
    ``\\xNN`` bytes, so a printed command never carries a raw control sequence
    to a terminal and the shell still passes the original bytes on.
    """
    if not literal:
        return ""
    if not any(_needs_spelling(char) for char in literal):
        return shlex.quote(literal)
    out = []
    for char in literal:
        if char in "\\'":
            out.append("\\" + char)
        elif _needs_spelling(char):
            out.append(_ansi_c_spelling(char))
        else:
            out.append(char)
    return "$'" + "".join(out) + "'"
