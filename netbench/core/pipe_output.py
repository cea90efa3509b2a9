"""Byte transforms used by the pipe (``connect``/``listen``), free of I/O.

* :class:`CrlfTranslator` turns LF into CRLF (``--crlf``) across chunk
  boundaries, leaving an existing CRLF alone.
* :class:`StreamEscaper` makes a byte stream safe for a terminal chunk by
  chunk with :func:`netbench.core.escape.escape`, holding back a split UTF-8
  sequence or a trailing CR until the next chunk shows what it is.
* :class:`HexTrace` formats ``--hex`` dumps: one direction mark per line
  (``>`` sent, ``<`` received) and offsets that continue per direction.

Nothing here touches a socket or a file descriptor.
"""

from __future__ import annotations

from netbench.core.escape import escape, hexdump


class CrlfTranslator:
    """LF -> CRLF for data we send; a CR already before the LF is kept as is."""

    def __init__(self) -> None:
        self._last = b""

    def feed(self, data: bytes) -> bytes:
        """Return *data* with every bare LF made CRLF."""
        if not data:
            return data
        out = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if data[:1] == b"\n" and self._last == b"\r":
            out = out[1:]  # the CR was sent at the end of the previous chunk
        self._last = data[-1:]
        return out


def _incomplete_utf8_tail(data: bytes) -> int:
    """How many bytes at the end of *data* start a UTF-8 sequence not yet complete."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # continuation byte: look further back
            continue
        if byte & 0xE0 == 0xC0:
            need = 2
        elif byte & 0xF0 == 0xE0:
            need = 3
        elif byte & 0xF8 == 0xF0:
            need = 4
        else:
            return 0
        return back if back < need else 0
    return 0


class StreamEscaper:
    """Terminal-safe text from a byte stream that arrives in pieces.

    ``feed`` returns the text for the bytes that can be shown now; ``finish``
    returns the rest at end of stream. The concatenated output equals
    ``escape(all_bytes)``, whatever the split.
    """

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> str:
        """Escape what can be escaped now; keep a possibly split tail for later."""
        data = self._pending + data
        hold = _incomplete_utf8_tail(data)
        if data[len(data) - hold - 1 : len(data) - hold] == b"\r":
            hold += 1  # a CR whose LF may come next
        ready, self._pending = data[: len(data) - hold], data[len(data) - hold :]
        return escape(ready) if ready else ""

    def finish(self) -> str:
        """Escape whatever is still held back."""
        data, self._pending = self._pending, b""
        return escape(data) if data else ""


class HexTrace:
    """Hexdump lines for both directions of a conversation (``--hex``)."""

    def __init__(self) -> None:
        self.offsets = {">": 0, "<": 0}

    def dump(self, mark: str, data: bytes) -> str:
        """Return the dump of *data* (``mark`` is ``>`` sent or ``<`` received), newline-ended."""
        offset = self.offsets[mark]
        self.offsets[mark] = offset + len(data)
        lines = hexdump(data, offset=offset).splitlines()
        return "".join(f"{mark} {line}\n" for line in lines)
