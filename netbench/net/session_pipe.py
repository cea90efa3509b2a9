"""The netcat pipe over a :class:`~netbench.net.session.Session` (TLS and UDP).

TLS and UDP are not the fast path: they go through the asyncio session
engine, which owns the socket in one thread (an SSL object is never used
from two threads). stdin is read by a daemon thread that hands each read to
the loop, one at a time (so a slow peer holds stdin back instead of memory
filling up). For UDP each read of stdin is one datagram and each datagram
received is written as it is; UDP has no end-of-file, so the pipe ends on
the idle timeout (``-w``, exit 0), ``-q`` after stdin ends, or Ctrl-C.

TLS is not half-closed when stdin ends: OpenSSL peers take a TCP half-close
under TLS for a truncation attack and can no longer answer, and asyncio
cannot send a lone close_notify. The pipe waits for the server to close
(or ``-w`` idle, or ``-q``), as ``openssl s_client -ign_eof`` does.
"""

from __future__ import annotations

import asyncio
import threading
import time

from netbench.errors import TimedOut
from netbench.net.dial import READ_SIZE
from netbench.net.pipe import (
    Ends,
    PipeOptions,
    make_source_transform,
    make_telnet_filter,
    next_deadline,
    read_some,
)
from netbench.net.session import Session
from netbench.net.sink import Sink, Trace

MAX_DATAGRAM = 65507
_KEEP_EVENTS = 64


class StdinReads:
    """stdin's reads, handed by a daemon thread to the loop one at a time; ``b""`` at its end.

    The thread never makes a coroutine: it schedules ``put_nowait`` on the
    loop and then waits for the loop to take that read (:meth:`get`) before
    reading again, so a slow peer holds stdin back instead of memory filling
    up. When the loop has closed (Ctrl-C or SIGTERM while stdin ends) the
    thread just stops: nothing is left behind to print "coroutine ... was
    never awaited" at exit.
    """

    def __init__(self, fd: int, size: int, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._loop = loop
        self._slot = threading.Semaphore(1)  # one read handed over and not yet taken
        self.thread = threading.Thread(target=self._read, args=(fd, size), name="netbench-stdin", daemon=True)
        self.thread.start()

    def _read(self, fd: int, size: int) -> None:
        while True:
            try:
                data = read_some(fd, size)
            except OSError:  # stdin failed: that is its end
                data = b""
            if not self._hand_over(data) or not data:
                return

    def _hand_over(self, data: bytes) -> bool:
        """Queue *data* for the loop once the last read was taken; False when the loop is closed."""
        self._slot.acquire()
        try:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, data)
        except RuntimeError:  # the loop is closed: the pipe has ended
            return False
        return True

    async def get(self) -> bytes:
        """The next read of stdin (``b""``: its end)."""
        data = await self.queue.get()
        self._slot.release()
        return data


def _trim(session: Session) -> None:
    """Keep the transcript small: a pipe may move gigabytes (counters stay exact)."""
    events = session.transcript.events
    if len(events) > 4 * _KEEP_EVENTS:
        del events[:-_KEEP_EVENTS]


async def pipe_session(session: Session, ends: Ends, options: PipeOptions, *, first: bytes = b"") -> None:
    """Pipe stdin <-> *session* until done; *first* is data already received (listen -u)."""
    pipe = _SessionPipe(session, ends, options)
    if first:
        pipe.sink.write(first)
    try:
        await pipe.run()
    finally:
        pipe.stop()


class _SessionPipe:
    """One pipe's two tasks (stdin -> session, session -> stdout) and its ``-q``/``-w`` clocks."""

    def __init__(self, session: Session, ends: Ends, options: PipeOptions) -> None:
        self.session = session
        self.options = options
        self.datagram = not session.target.is_stream
        trace = Trace(ends.stderr) if options.hex else None
        self.sink = Sink(ends.stdout_fd, terminal=options.terminal, trace=trace)
        self.transform = make_source_transform(options, trace)
        self.last_activity = time.monotonic()
        self.stdin_done_at: float | None = None
        self.sender: asyncio.Task[None] | None = None
        self.receiver: asyncio.Task[bytes] | None = None
        self.stdin_fd = ends.stdin_fd
        self.telnet = make_telnet_filter(ends.stderr, verbose=options.verbose) if options.telnet else None
        self.answering: set[asyncio.Task[None]] = set()  # telnet answers being sent

    async def run(self) -> None:
        """Until the pipe is done: both sides finished, ``-q`` or ``-w`` passed, or an error."""
        self.start()
        while True:
            waiting = {task for task in (self.sender, self.receiver) if task is not None}
            if not waiting:
                return
            deadline = next_deadline(self.options, self.stdin_done_at, self.last_activity)
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if self.sender is not None and self.sender in done and self.sender_finished():
                return
            if self.receiver is not None and self.receiver in done and self.received():
                return
            if not done and self.clock_ran_out():
                return

    def start(self) -> None:
        if self.stdin_fd is not None:
            size = MAX_DATAGRAM if self.datagram else READ_SIZE
            reads = StdinReads(self.stdin_fd, size, asyncio.get_running_loop())
            self.sender = asyncio.create_task(self.send_loop(reads))
        else:
            self.stdin_done_at = time.monotonic()
        self.receiver = asyncio.create_task(self.session.receive_some(timeout=None))

    async def send_loop(self, reads: StdinReads) -> None:
        """stdin's reads to the session; at stdin's end, half-close (TCP only) and stop."""
        session = self.session
        while True:
            data = await reads.get()
            if not data:
                if self.options.shutdown and session.target.transport not in ("udp", "tls"):
                    await session.send_eof()
                return
            if self.transform is not None:
                data = self.transform(data)
            if self.telnet is not None:
                data = data.replace(b"\xff", b"\xff\xff")  # a data byte 255 is IAC IAC on telnet
            await session.send(data)
            self.last_activity = time.monotonic()
            _trim(session)

    def sender_finished(self) -> bool:
        """stdin ended (or sending failed: raised here). True when that ends the pipe."""
        assert self.sender is not None
        self.sender.result()  # raises what the send loop raised
        self.sender = None
        self.stdin_done_at = time.monotonic()
        return self.receiver is None or self.options.quit_after == 0

    def received(self) -> bool:
        """Write what arrived and wait for more. True when the peer's end-of-file ends the pipe."""
        assert self.receiver is not None
        data = self.receiver.result()
        if not data and not self.datagram:
            self.sink.finish()
            self.receiver = None
            return self.sender is None or self.options.interactive
        if self.telnet is not None:  # --telnet: answer negotiation, keep it off stdout
            data, answer = self.telnet(data)
            if answer:
                task = asyncio.create_task(self.session.send(answer))
                self.answering.add(task)
                task.add_done_callback(self._answered)
        self.sink.write(data)
        self.last_activity = time.monotonic()
        _trim(self.session)
        self.receiver = asyncio.create_task(self.session.receive_some(timeout=None))
        return False

    def _answered(self, task: asyncio.Task[None]) -> None:
        """A telnet answer was sent (a failure shows in the receive side, which sees the same socket)."""
        self.answering.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: no "exception never retrieved" warning

    def clock_ran_out(self) -> bool:
        """True when ``-q`` after stdin's end has passed; ``-w`` idle raises (TCP) or ends (UDP)."""
        now = time.monotonic()
        options = self.options
        quit_at = options.quit_at(self.stdin_done_at)
        if quit_at is not None and now >= quit_at:
            return True
        idle_at = options.idle_at(self.last_activity)
        if idle_at is None or now < idle_at:
            return False
        if self.datagram:
            return True  # UDP has no end-of-file: going quiet is how it ends
        target = self.session.target.display
        raise TimedOut(f"no data to or from {target} for {options.idle_timeout:g}s (-w)", target)

    def stop(self) -> None:
        for task in (self.sender, self.receiver):
            if task is not None and not task.done():
                task.cancel()
        self.sink.finish()
