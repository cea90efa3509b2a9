"""stdin shared by successive connections (``listen -k``).

One daemon thread reads stdin for the whole run; each connection's sender
takes chunks with :meth:`StdinFeed.take`, which gives up *without consuming
anything* once that connection is over. So a line typed while no client is
connected, or while one is leaving, goes to the next client instead of being
lost with a closed socket.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from netbench.net.dial import READ_SIZE
from netbench.net.pipe import read_some

_MAX_QUEUED = 8


class StdinFeed:
    """Chunks of stdin, read ahead by one thread, taken by one sender at a time."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._chunks: deque[bytes] = deque()
        self._eof = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="netbench-stdin-feed", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = read_some(self.fd, READ_SIZE)
            except OSError:
                data = b""
            with self._cond:
                while len(self._chunks) >= _MAX_QUEUED:
                    self._cond.wait()
                if data:
                    self._chunks.append(data)
                else:
                    self._eof = True
                self._cond.notify_all()
            if not data:
                return

    def take(self, stopped: Callable[[], bool]) -> bytes | None:
        """The next chunk; ``b""`` at end of stdin; None once *stopped* says the taker is done."""
        with self._cond:
            while not self._chunks and not self._eof:
                if stopped():
                    return None
                self._cond.wait(0.05)
            if stopped():
                return None
            if self._chunks:
                data = self._chunks.popleft()
                self._cond.notify_all()
                return data
            return b""
