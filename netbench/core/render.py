"""Render HTTP responses as terminal-safe text (sans-IO: returns strings, never prints).

Every byte that came from a peer goes through :func:`~netbench.core.escape.escape`
(or :func:`visible` for the wire view) before it is part of the output, so
an ESC or other control a terminal would act on is shown as ``\\x1b`` and
never reaches the screen raw. Colour (ANSI sequences made here, never taken
from the peer) is added only when asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from netbench import style
from netbench.core.decoding import text_of
from netbench.core.escape import escape, hexdump, is_text, scrub, unescape, visible
from netbench.core.http_message import Headers, HttpResponse

__all__ = [
    "Timings",
    "escape",
    "hexdump",
    "render_body",
    "render_head",
    "render_response",
    "safe_text",
    "sizes_line",
    "unescape",
    "visible",
]

MAX_HEXDUMP = 4096
# The colours are netbench.style's (style.paint); `color` says whether to paint at all.
_STATUS_COLORS = {1: style.CYAN, 2: style.GREEN, 3: style.CYAN, 4: style.YELLOW, 5: style.RED}


@dataclass(frozen=True)
class Timings:
    """Seconds: connecting (0 on a reused connection), to the first byte, in all."""

    connect: float
    first_byte: float
    total: float
    reused: bool = False


def safe_text(data: bytes) -> str:
    """*data* as terminal-safe text (line breaks and tabs kept, the rest escaped)."""
    return escape(data)


_PLAIN = re.compile(r"[\x20-\x5b\x5d-\x7e]*")


def _field(value: str) -> str:
    """A header name or value (latin-1 text of the wire bytes) made safe, on one line."""
    if _PLAIN.fullmatch(value):
        return value  # printable ASCII without a backslash: nothing to escape
    return escape(value.encode("latin-1", "replace"), keep_newlines=False, keep_tabs=False)


def _status_line(version: str, status: int, reason: str, color: bool) -> str:
    line = f"HTTP/{_field(version)} {status} {_field(reason)}".rstrip()
    codes = (style.BOLD, _STATUS_COLORS[status // 100]) if status // 100 in _STATUS_COLORS else (style.BOLD,)
    return style.paint(line, *codes, on=color)


def _header_lines(headers: Headers, color: bool) -> list[str]:
    if not color and _PLAIN.fullmatch("".join([name + value for name, value in headers])):
        return [f"{name}: {value}" for name, value in headers]  # all plain: one check, not one each
    return [f"{style.paint(_field(name), style.BLUE, on=color)}: {_field(value)}" for name, value in headers]


def render_head(response: HttpResponse, *, color: bool = False) -> str:
    """The 1xx responses, the status line and the headers, one per line (no trailing newline)."""
    lines: list[str] = []
    for info in response.informational:
        lines.append(_status_line(response.http_version, info.status, info.reason, color))
        lines += _header_lines(info.headers, color)
        lines.append("")
    lines.append(_status_line(response.http_version, response.status, response.reason, color))
    lines += _header_lines(response.headers, color)
    return "\n".join(lines)


def _is_json(content_type: str | None, body: bytes) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip()[:1] in (b"{", b"[") and not content_type


def _json_view(body: bytes, content_type: str | None, color: bool) -> str | None:
    import json  # only for a JSON body on a terminal: not on the path of every response

    text = text_of(body, content_type)
    if text is None:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    pretty = scrub(json.dumps(document, indent=2, ensure_ascii=False), keep_newlines=True)
    if color:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import JsonLexer

        pretty = highlight(pretty, JsonLexer(), TerminalFormatter()).rstrip("\n")
    return pretty


def _declared_text(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind.startswith("text/") or kind.endswith(("+json", "+xml", "/json", "/xml", "/javascript"))


def render_body(body: bytes, content_type: str | None = None, *, color: bool = False) -> str:
    """The body as pretty JSON, as text (charset from Content-Type, else UTF-8), or a hexdump."""
    if not body:
        return ""
    if _is_json(content_type, body):
        view = _json_view(body, content_type, color)
        if view is not None:
            return view
    text = text_of(body, content_type)
    if text is not None and (_declared_text(content_type) or is_text(text.encode("utf-8"))):
        return escape(text.encode("utf-8", "surrogateescape")).rstrip("\n")
    shown = hexdump(body[:MAX_HEXDUMP])
    if len(body) > MAX_HEXDUMP:
        shown += f"\n... {len(body) - MAX_HEXDUMP} more bytes (binary; redirect stdout to get them all)"
    return shown


def _size(count: int) -> str:
    return f"{count} byte" if count == 1 else f"{count} bytes"


def sizes_line(response: HttpResponse) -> str:
    """``body: gzip, 312 -> 1024 bytes`` or ``body: 38 bytes``."""
    if response.content_encoding and response.decoded:
        return f"body: {response.content_encoding}, {response.encoded_size} -> {_size(response.body_size)}"
    if response.content_encoding:
        return f"body: {_size(response.encoded_size)}, {response.content_encoding} (not decoded)"
    return f"body: {_size(response.body_size)}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timings_line(timings: Timings) -> str:
    """The three times, each naming what it measures and from when (all from one start).

    ``connect 0.2 ms, first byte 1.0 ms, total 1.3 ms (from the start of the connect)``;
    on a kept-alive connection ``reused connection, first byte 1.0 ms, total 1.3 ms
    (from the request sent)``.
    """
    times = f"first byte {_ms(timings.first_byte)}, total {_ms(timings.total)}"
    if timings.reused:
        return f"reused connection, {times} (from the request sent)"
    return f"connect {_ms(timings.connect)}, {times} (from the start of the connect)"


def render_response(
    response: HttpResponse,
    *,
    color: bool,
    show_raw: bool = False,
    timings: Timings | None = None,
    sent: bytes | None = None,
    show_body: bool = True,
    notes: Sequence[str] = (),
) -> str:
    """The full parsed view of *response*, ending with a newline.

    Status line and header table, the body (JSON pretty, text or hexdump),
    trailers, a line with sizes and timings; with ``show_raw`` the exact
    bytes sent and received with CR and LF made visible.
    """
    parts = [render_head(response, color=color)]
    if show_body and response.body:
        parts.append("")
        parts.append(render_body(response.body, response.content_type, color=color))
    if response.trailers:
        parts.append("")
        parts.append(style.paint("trailers:", style.BOLD, on=color))
        parts += _header_lines(response.trailers, color)
    facts = [sizes_line(response)]
    if timings is not None:
        facts.append(timings_line(timings))
    facts += notes
    parts.append("")
    parts.append(style.paint("; ".join(facts), style.DIM, on=color))
    if show_raw:
        parts.append(render_raw(sent, response.raw, color=color))
    return "\n".join(parts) + "\n"


def render_raw(sent: bytes | None, received: bytes, *, color: bool = False) -> str:
    """The wire view: what was sent (``>``) and received (``<``), CR and LF visible."""
    out = []
    if sent is not None:
        out.append(style.paint(f"--- sent ({_size(len(sent))}) ---", style.BOLD, on=color))
        out.append(visible(sent).rstrip("\n"))
    out.append(style.paint(f"--- received ({_size(len(received))}) ---", style.BOLD, on=color))
    out.append(visible(received).rstrip("\n"))
    return "\n".join(out)
