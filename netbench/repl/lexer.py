"""Colours for the line being typed: commands, their arguments, ${variables}, header names."""

from __future__ import annotations

import re
from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer

from netbench.repl.registry import find

_VARIABLE = re.compile(r"\$\{[^}]*\}")
_HEADER = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+:)(\s.*)?$")


def _with_variables(text: str, style: str) -> StyleAndTextTuples:
    out: StyleAndTextTuples = []
    position = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > position:
            out.append((style, text[position : match.start()]))
        out.append(("class:input.variable", match.group()))
        position = match.end()
    if position < len(text):
        out.append((style, text[position:]))
    return out


def style_line(line: str) -> StyleAndTextTuples:
    """The styled fragments of one typed line."""
    if line.startswith("/") and not line.startswith("//"):
        name, space, rest = line.partition(" ")
        found = find(name[1:].removesuffix("!"))
        known = found is not None and (not name.endswith("!") or found.name == "save")  # /save! FILE
        return [
            ("class:input.command" if known else "class:input.unknown", name + space),
            *_with_variables(rest, "class:input.argument"),
        ]
    header = _HEADER.match(line)
    if header:
        return [("class:input.header", header.group(1)), *_with_variables(header.group(2) or "", "")]
    return _with_variables(line, "")


class ReplLexer(Lexer):
    """Highlights what the user types at the REPL prompt."""

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = document.lines

        def get_line(number: int) -> StyleAndTextTuples:
            return style_line(lines[number]) if number < len(lines) else []

        return get_line
