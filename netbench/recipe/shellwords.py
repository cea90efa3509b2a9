"""Shell words, both ways (pure): split a pasted command line, quote a word safely.

:func:`split_shell` splits as a POSIX shell would (single and double quotes,
backslashes, bash's ``$'...'``) and expands nothing; :func:`quote` quotes
one literal piece so that a shell reads it back exactly, writing control and
invisible characters as ``$'\\xNN'`` so a printed command never carries a
raw control sequence to a terminal.
"""

from __future__ import annotations

import re
import shlex

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


def _ansi_c(text: str, start: int) -> tuple[str, int]:
    """The body of a ``$'...'`` word from *start* (after the quote): its text and the end index."""
    out: list[str] = []
    index = start
    while index < len(text):
        char = text[index]
        if char == "'":
            return "".join(out), index + 1
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            code = _ANSI_C_CODE.match(text, index + 1)
            if following in _ANSI_C:
                out.append(_ANSI_C[following])
                index += 2
            elif code is not None:
                digits = next(group for group in code.groups() if group is not None)
                out.append(chr(int(digits, 8 if code.group(4) else 16)))
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


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def quote(literal: str) -> str:
    """One literal piece of a shell word; control and invisible characters as ``$'\\xNN'``."""
    if not literal:
        return ""
    if not _UNSAFE.search(literal):
        return shlex.quote(literal)
    out = []
    for char in literal:
        if char in "\\'":
            out.append("\\" + char)
        elif _UNSAFE.match(char):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "$'" + "".join(out) + "'"
