"""What a netcat pipe is given: its ends (file descriptors), its options, and its two clocks.

Shared by both pipes of ``connect``/``listen``: the kernel-copy pipe
(:mod:`netbench.net.pipe`, TCP and unix) and the one-thread pipe
(:mod:`netbench.net.pipe_loop`, TLS, UDP and ``--telnet``). The clocks are
``-q`` (quit that long after stdin ended) and ``-w`` (idle: no byte moving
either way for that long); both pipes read them the same way, before every
wait, so a peer that keeps talking cannot hold ``-q`` off.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, NamedTuple, TextIO

from netbench.errors import TimedOut

if TYPE_CHECKING:
    from netbench.net.stdin_feed import StdinFeed


class PipeOptions(NamedTuple):
    """How the pipe behaves (from the command-line options).

    A NamedTuple rather than a dataclass: the dataclass machinery (and the
    ``inspect`` module it pulls in) would cost the fast path start-up time.
    """

    crlf: bool = False
    hex: bool = False
    terminal: bool = False  # stdout is a terminal: escape what is received
    idle_timeout: float | None = None
    shutdown: bool = True  # half-close when stdin ends (nc -N)
    quit_after: float | None = None  # -q: end this long after stdin ends
    interactive: bool = False  # stdin is a terminal: the peer's EOF ends the pipe
    telnet: bool = False  # --telnet: answer option negotiation (the one-thread pipe only)
    verbose: bool = False  # -v: say what happens on stderr (the telnet negotiation)

    def quit_at(self, stdin_done_at: float | None) -> float | None:
        """When ``-q`` ends the pipe, given when stdin ended (None: not yet, or no -q)."""
        if self.quit_after is None or stdin_done_at is None:
            return None
        return stdin_done_at + self.quit_after

    def idle_at(self, last_activity: float) -> float | None:
        """When ``-w`` ends the pipe, given the last data either way (None: no -w)."""
        return None if self.idle_timeout is None else last_activity + self.idle_timeout


class Ends(NamedTuple):
    """Our side of the pipe: file descriptors and the stream for ``--hex``."""

    stdin_fd: int | None  # None: do not read stdin (-d)
    stdout_fd: int
    stderr: TextIO
    feed: StdinFeed | None = None  # stdin shared by successive connections (listen -k)


QUIT = "quit"
IDLE = "idle"


def next_deadline(options: PipeOptions, stdin_done_at: float | None, last_activity: float) -> float | None:
    """The earlier of the ``-q`` and ``-w`` deadlines, or None when neither applies."""
    deadlines = [
        at for at in (options.quit_at(stdin_done_at), options.idle_at(last_activity)) if at is not None
    ]
    return min(deadlines) if deadlines else None


def poll_timeout_ms(options: PipeOptions, stdin_done_at: float | None, last_activity: float) -> int:
    """Milliseconds ``poll`` may wait before the next deadline (-1: no deadline), rounded up."""
    deadline = next_deadline(options, stdin_done_at, last_activity)
    if deadline is None:
        return -1
    return max(0, int((deadline - time.monotonic()) * 1000) + 1)


def clock_ran_out(options: PipeOptions, stdin_done_at: float | None, last_activity: float) -> str | None:
    """Which clock has run out now: :data:`QUIT` (``-q``), :data:`IDLE` (``-w``), or None."""
    if options.quit_after is None and options.idle_timeout is None:
        return None
    now = time.monotonic()
    quit_at = options.quit_at(stdin_done_at)
    if quit_at is not None and now >= quit_at:
        return QUIT
    idle_at = options.idle_at(last_activity)
    if idle_at is not None and now >= idle_at:
        return IDLE
    return None


def idle_error(options: PipeOptions, peer: str) -> TimedOut:
    """The error ``-w`` ends a stream pipe with (exit 4)."""
    return TimedOut(f"no data to or from {peer} for {options.idle_timeout:g}s (-w)", peer)
