"""A receive buffer: bytes in, complete pieces out (sans-IO).

The rich receive vocabulary (until a delimiter, a line, an exact count) is
written once here; sessions feed it whatever arrives.
"""

from __future__ import annotations

import re


class ReceiveBuffer:
    """Accumulates received bytes; ``take_*`` return a piece or ``None`` if incomplete."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> None:
        """Append bytes that arrived."""
        self._data += data

    def __len__(self) -> int:
        return len(self._data)

    def __bytes__(self) -> bytes:
        return bytes(self._data)

    def peek(self) -> bytes:
        """Everything buffered, without consuming it."""
        return bytes(self._data)

    def take_all(self) -> bytes:
        """Consume and return everything buffered."""
        data = bytes(self._data)
        self._data.clear()
        return data

    def take_exactly(self, count: int) -> bytes | None:
        """Consume *count* bytes, or return None when fewer are buffered."""
        if len(self._data) < count:
            return None
        data = bytes(self._data[:count])
        del self._data[:count]
        return data

    def take_until(self, delimiter: bytes, *, include: bool = True) -> bytes | None:
        """Consume up to and including the first *delimiter*, or return None."""
        index = self._data.find(delimiter)
        if index == -1:
            return None
        end = index + len(delimiter)
        data = bytes(self._data[: end if include else index])
        del self._data[:end]
        return data

    def take_line(self) -> bytes | None:
        """Consume one line ending in LF; return it without CRLF/LF, or None."""
        line = self.take_until(b"\n")
        if line is None:
            return None
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]

    def take_match(self, pattern: re.Pattern[bytes]) -> re.Match[bytes] | None:
        """Consume up to the end of the first match of *pattern*, or return None."""
        match = pattern.search(bytes(self._data))
        if match is None:
            return None
        del self._data[: match.end()]
        return match
