"""Where the pipe's bytes go: stdout (raw or terminal-safe) and the ``--hex`` trace.

Shared by the fast stream pipe and the session pipe. Writes go straight to
file descriptors (no Python buffering), so bytes reach a pipe or a file
untouched and in order; a terminal gets :class:`StreamEscaper` text instead,
never a raw escape sequence.
"""

from __future__ import annotations

import os
import select
import threading
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from netbench.core.pipe_output import StreamEscaper

# netbench.core.pipe_output (and the escaping it needs) is imported only when a
# terminal or --hex needs it: the raw pipe starts without it.


def wait_fd(fd: int, *, write: bool, timeout: float | None = None) -> None:
    """Block until *fd* is readable (or writable with ``write``), for non-blocking fds."""
    if write:
        select.select([], [fd], [], timeout)
    else:
        select.select([fd], [], [], timeout)


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write all of *data* to *fd*, coping with short writes and O_NONBLOCK."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            wait_fd(fd, write=True)
            continue
        view = view[written:]


class Trace:
    """The ``--hex`` trace on a text stream (stderr), safe to call from two threads."""

    def __init__(self, stream: TextIO) -> None:
        from netbench.core.pipe_output import HexTrace

        self.stream = stream
        self._hex = HexTrace()
        self._lock = threading.Lock()

    def sent(self, data: bytes) -> None:
        """Dump bytes we sent (marked ``>``)."""
        self._write(">", data)

    def received(self, data: bytes) -> None:
        """Dump bytes we received (marked ``<``)."""
        self._write("<", data)

    def _write(self, mark: str, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            self.stream.write(self._hex.dump(mark, data))
            self.stream.flush()


class Sink:
    """Received bytes to stdout: byte for byte, or escaped when stdout is a terminal."""

    def __init__(self, fd: int, *, terminal: bool, trace: Trace | None = None) -> None:
        self.fd = fd
        self.trace = trace
        self.escaper: StreamEscaper | None = None
        if terminal:
            from netbench.core.pipe_output import StreamEscaper

            self.escaper = StreamEscaper()

    @property
    def raw(self) -> bool:
        """True when bytes may go to the fd untouched (no escaping, no trace)."""
        return self.escaper is None and self.trace is None

    def write(self, data: bytes | memoryview) -> None:
        """Deliver *data*. BrokenPipeError (stdout's reader went away) propagates."""
        if self.trace is not None:
            self.trace.received(bytes(data))
        if self.escaper is not None:
            data = self.escaper.feed(bytes(data)).encode("utf-8")
        write_all(self.fd, data)

    def finish(self) -> None:
        """End of stream: write what the escaper still held back."""
        if self.escaper is not None:
            rest = self.escaper.finish()
            if rest:
                write_all(self.fd, rest.encode("utf-8"))
