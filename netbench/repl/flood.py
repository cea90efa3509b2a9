"""Keeping the display at a person's pace when a peer is fast (sans-IO).

A :class:`DisplayGate` per session decides, for each piece of data that
arrives, whether to show it or only count it. Past :data:`MAX_LINES` lines
or :data:`MAX_BYTES` bytes in a second, the session is *flooding*: what
arrives is counted, not shown, and one status line says how much was left
out (``… 18,204 lines, 1.4 MiB not shown: /tail or /save to see them``).
When a whole second passes under the limits, the flood is over: the count
is printed once, for good, and data shows again. Ctrl-C pauses a session's
display (everything is counted); sending on it resumes.

Nothing is lost: the transcript keeps every byte up to :data:`TRANSCRIPT_CAP`
and ``/tail`` shows the last lines of it (:func:`tail`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_LINES = 100  # per second per session, shown; past it the display is coalesced
MAX_BYTES = 16 * 1024
WINDOW = 1.0  # seconds
TRANSCRIPT_CAP = 16 * 1024 * 1024  # bytes received kept per session; past it reading stops
HEX_WIDTH = 16  # bytes per hexdump line
TAIL_DEFAULT = 20
TAIL_MAX = 1000
FLOOD_STARTS = (
    f"(over {MAX_LINES} lines or {MAX_BYTES // 1024} KiB a second: the rest is counted above the prompt, "
    "not shown; Ctrl-C pauses, /tail looks)"
)


def plural(number: int, word: str) -> str:
    """``1 datagram``, ``1,204 datagrams``."""
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def amount(lines: int, size: int, datagrams: int = 0) -> str:
    """``18,204 lines, 1.4 MiB``; on a UDP session ``12 datagrams, 18,204 lines, 1.4 MiB``."""
    from netbench.repl.toolbar import size as human

    counted = f"{plural(lines, 'line')}, {human(size)}"
    if datagrams:
        return f"{plural(datagrams, 'datagram')}, {counted}"
    return counted


@dataclass
class DisplayGate:
    """Counts what arrives on one session and decides what is shown."""

    max_lines: int = MAX_LINES
    max_bytes: int = MAX_BYTES
    window: float = WINDOW
    window_start: float = 0.0
    window_lines: int = 0
    window_bytes: int = 0
    flooding: bool = False
    paused: bool = False
    hidden_lines: int = 0  # not shown since the flood (or the pause) began
    hidden_bytes: int = 0
    hidden_datagrams: int = 0  # UDP: datagrams not shown whole since then
    unshown_datagrams: int = 0  # UDP: datagrams not shown whole, ever (never reset)
    last_arrival: float | None = None

    def arrive(
        self, data: bytes, now: float, *, hexdump: bool = False, datagram: bool = False
    ) -> tuple[bytes, str | None]:
        """Take *data* arriving at *now*: (the part to show, a line to print first, if any).

        The part shown is what fits in this second's allowance, cut after a
        line ending where one is in reach; the rest is counted as not shown.
        With *hexdump* (data shown as a hexdump) every 16 bytes are a line.
        A *datagram* (UDP) not shown whole is counted as a datagram not shown.
        The line is the final count of a flood that ended before this data.
        """
        ended = None
        if now - self.window_start >= self.window:
            calm = self.window_lines <= self.max_lines and self.window_bytes <= self.max_bytes
            if self.flooding and (calm or now - self.window_start >= 2 * self.window):
                ended = self._end()
            self.window_start, self.window_lines, self.window_bytes = now, 0, 0
        self.last_arrival = now
        shown = b""
        if not self.flooding and not self.paused:
            shown = self._hex_allowance(data) if hexdump else self._allowance(data)
            if len(shown) < len(data):
                self.flooding = True
        hidden = data[len(shown) :]
        self.window_lines += _lines(data, hexdump)
        self.window_bytes += len(data)
        self.hidden_lines += _lines(hidden, hexdump)
        self.hidden_bytes += len(hidden)
        if datagram and hidden:
            self.hidden_datagrams += 1
            self.unshown_datagrams += 1
        return shown, ended

    def _hex_allowance(self, data: bytes) -> bytes:
        """The start of *data* whose hexdump fits in what is left of this second's allowance."""
        room = min(self.max_lines - self.window_lines, (self.max_bytes - self.window_bytes) // HEX_WIDTH)
        return data[: max(room, 0) * HEX_WIDTH]

    def _allowance(self, data: bytes) -> bytes:
        """The longest start of *data* within what is left of this second's allowance."""
        lines_left = self.max_lines - self.window_lines
        bytes_left = self.max_bytes - self.window_bytes
        if lines_left <= 0 or bytes_left <= 0:
            return b""
        if len(data) <= bytes_left and data.count(b"\n") <= lines_left:
            return data
        end = 0
        for _ in range(lines_left):
            found = data.find(b"\n", end, bytes_left)
            if found < 0:
                break
            end = found + 1
        return data[:end] if end else data[:bytes_left]

    def quiet(self, now: float) -> str | None:
        """Called when nothing arrived for a while: the final count if a flood just ended."""
        if self.flooding and self.last_arrival is not None and now - self.last_arrival >= self.window:
            return self._end()
        return None

    def _end(self) -> str | None:
        self.flooding = False
        if self.paused:
            return None
        return self._final()

    def _final(self) -> str | None:
        if not self.hidden_bytes:
            return None
        text = f"… {self._amount()} not shown: /tail or /save to see them"
        self.hidden_lines = self.hidden_bytes = self.hidden_datagrams = 0
        return text

    def _amount(self) -> str:
        return amount(self.hidden_lines, self.hidden_bytes, self.hidden_datagrams)

    def finish(self) -> str | None:
        """The session ends (closed, failed, full): the final count, if anything was left out."""
        self.flooding = False
        return self._final()

    def active(self, now: float) -> bool:
        """True while data is arriving (within the last window) and shown or coalesced."""
        return not self.paused and self.last_arrival is not None and now - self.last_arrival < self.window

    def pause(self) -> None:
        """Stop showing this session's data (Ctrl-C); it is still counted and kept."""
        self.paused = True
        self.flooding = False
        self.hidden_lines = self.hidden_bytes = self.hidden_datagrams = 0

    def resume(self) -> str | None:
        """Show data again (a send on the session); the count of what the pause left out."""
        if not self.paused:
            return None
        self.paused = False
        return self._final()

    def status(self) -> str | None:
        """The updating status line while flooding or paused, else None."""
        if self.paused:
            return (
                f"display paused: {self._amount()} not shown since (/tail looks, a send resumes, /close ends)"
            )
        if self.flooding:
            return f"… {self._amount()} not shown: /tail or /save to see them (Ctrl-C pauses)"
        return None


def _lines(data: bytes, hexdump: bool) -> int:
    """How many display lines *data* takes: its line endings, or its hexdump rows."""
    return -(-len(data) // HEX_WIDTH) if hexdump else data.count(b"\n")


def tail(pieces: Iterable[bytes], count: int) -> bytes:
    """The last *count* lines of the data in *pieces* (given newest first).

    Walks back only as far as needed: a 16 MiB transcript costs what the
    last lines cost. A last line without its line ending counts as a line.
    """
    wanted: list[bytes] = []
    newlines = 0
    for piece in pieces:
        wanted.append(piece)
        newlines += piece.count(b"\n")
        if newlines > count:
            break
    data = b"".join(reversed(wanted))
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-count:]) if count > 0 else b""
