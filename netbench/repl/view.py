"""How the REPL shows traffic: pure formatting, no I/O.

Every function returns *fragments*: a list of ``(style, text)`` pairs that
end with a newline, ready for prompt_toolkit's ``print_formatted_text`` or
for plain output (join the texts). Bytes from a peer only ever reach the
result through :func:`netbench.core.escape.escape` (or a hexdump), so no
terminal control sequence a peer sends can get through.

Markers: ``->`` for what we sent, ``<-`` for what arrived.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netbench.core.escape import escape, hexdump, is_text, visible

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse

Fragments = list[tuple[str, str]]

SENT = "->"
RECEIVED = "<-"


def plain(fragments: Fragments) -> str:
    """The text of *fragments* without styles."""
    return "".join(text for _style, text in fragments)


def _lines(text: str) -> list[str]:
    """Split escaped text into display lines (a CRLF ends a line like a LF)."""
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _prefixed(
    lines: list[str], marker: str, style: str, stamp: str | None, *, indent_rest: bool = False
) -> Fragments:
    out: Fragments = []
    for index, line in enumerate(lines):
        if stamp is not None:
            out.append(("class:stamp", (stamp if index == 0 else " " * len(stamp)) + " "))
        shown = marker if index == 0 or not indent_rest else " " * len(marker)
        out.append((f"class:{style}.marker", shown + " "))
        out.append((f"class:{style}", line))
        out.append(("", "\n"))
    return out


def received(
    data: bytes,
    *,
    hex_mode: bool = False,
    offset: int = 0,
    stamp: str | None = None,
    endings: bool = False,
    raw: bool = False,
) -> Fragments:
    """Show bytes that arrived: safe text, or a hexdump (``/hex on`` or binary data).

    With *endings* each line ends with a dim marker of how it ended (``\\r\\n``
    or ``\\n``; none for a line still open when the data stopped). With *raw*
    every byte is shown as it was (``visible``: CR, LF, tabs as escapes).
    """
    if hex_mode or not is_text(data):
        return _prefixed(hexdump(data, offset=offset).split("\n"), RECEIVED, "received", stamp)
    if raw:
        return _prefixed(_lines(visible(data)), RECEIVED, "received", stamp)
    if not endings:
        return _prefixed(_lines(escape(data)), RECEIVED, "received", stamp)
    out: Fragments = []
    pieces = data.split(b"\n")
    last = pieces.pop()  # what follows the last LF: a line not ended (yet), or nothing
    lines = [(piece[:-1], "\\r\\n") if piece.endswith(b"\r") else (piece, "\\n") for piece in pieces]
    if last:
        lines.append((last, ""))
    for index, (line, ending) in enumerate(lines):
        if stamp is not None:
            out.append(("class:stamp", (stamp if index == 0 else " " * len(stamp)) + " "))
        out.append(("class:received.marker", RECEIVED + " "))
        out.append(("class:received", escape(line, keep_newlines=False)))
        if ending:
            out.append(("class:eol", ending))
        out.append(("", "\n"))
    return out


def sent(data: bytes, *, hex_mode: bool = False, stamp: str | None = None) -> Fragments:
    """Show bytes we sent, with CR and LF visible (``GET / HTTP/1.1\\r\\n``)."""
    if hex_mode or not is_text(data):
        return _prefixed(hexdump(data).split("\n"), SENT, "sent", stamp)
    return _prefixed(_lines(visible(data)), SENT, "sent", stamp)


def block(
    text: str, *, marker: str = RECEIVED, style: str = "received", stamp: str | None = None
) -> Fragments:
    """Already-safe multi-line *text* (a rendered response) under one marker, the rest indented."""
    return _prefixed(_lines(text), marker, style, stamp, indent_rest=True)


def note(text: str, style: str = "note") -> Fragments:
    """One line of our own (not peer data); *text* must already be safe."""
    return [(f"class:{style}", text), ("", "\n")]


def _status_style(status: int) -> str:
    if status >= 500:
        return "class:status.error"
    if status >= 400:
        return "class:status.client"
    if status >= 300:
        return "class:status.redirect"
    return "class:status.ok"


def response(resp: HttpResponse, *, stamp: str | None = None, raw: bool = False) -> Fragments:
    """Show a parsed HTTP response: status, header table, body; with *raw* the wire bytes too.

    The text comes from :func:`netbench.core.render.render_response` (which
    makes peer bytes safe); only the status line gets a style here.
    """
    from netbench.core.render import render_response

    out = block(render_response(resp, color=False, show_raw=raw), stamp=stamp)
    for index, (style, _text) in enumerate(out):
        if style == "class:received":
            out[index] = (_status_style(resp.status), out[index][1])
            break
    return out
