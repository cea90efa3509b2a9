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
from netbench.net.pipe import Ends, PipeOptions, make_source_transform, next_deadline, read_some
from netbench.net.session import Session
from netbench.net.sink import Sink, Trace

MAX_DATAGRAM = 65507
_KEEP_EVENTS = 64


def _start_stdin_thread(fd: int, size: int, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[bytes]:
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1)

    def reader() -> None:
        try:
            while True:
                data = read_some(fd, size)
                asyncio.run_coroutine_threadsafe(queue.put(data), loop).result()
                if not data:
                    return
        except Exception:  # the loop is gone (the pipe ended) or stdin failed: stop
            try:
                asyncio.run_coroutine_threadsafe(queue.put(b""), loop)
            except RuntimeError:
                pass

    threading.Thread(target=reader, name="netbench-stdin", daemon=True).start()
    return queue


def _trim(session: Session) -> None:
    """Keep the transcript small: a pipe may move gigabytes (counters stay exact)."""
    events = session.transcript.events
    if len(events) > 4 * _KEEP_EVENTS:
        del events[:-_KEEP_EVENTS]


async def pipe_session(session: Session, ends: Ends, options: PipeOptions, *, first: bytes = b"") -> None:
    """Pipe stdin <-> *session* until done; *first* is data already received (listen -u)."""
    datagram = not session.target.is_stream
    trace = Trace(ends.stderr) if options.hex else None
    sink = Sink(ends.stdout_fd, terminal=options.terminal, trace=trace)
    transform = make_source_transform(options, trace)
    loop = asyncio.get_running_loop()
    last_activity = time.monotonic()
    stdin_done_at: float | None = None
    if first:
        sink.write(first)

    async def send_loop(queue: asyncio.Queue[bytes]) -> None:
        nonlocal last_activity
        while True:
            data = await queue.get()
            if not data:
                if options.shutdown and session.target.transport not in ("udp", "tls"):
                    await session.send_eof()
                return
            if transform is not None:
                data = transform(data)
            await session.send(data)
            last_activity = time.monotonic()
            _trim(session)

    sender: asyncio.Task[None] | None = None
    if ends.stdin_fd is not None:
        size = MAX_DATAGRAM if datagram else 256 * 1024
        sender = asyncio.create_task(send_loop(_start_stdin_thread(ends.stdin_fd, size, loop)))
    else:
        stdin_done_at = time.monotonic()
    receiver: asyncio.Task[bytes] | None = asyncio.create_task(session.receive_some(timeout=None))
    try:
        while True:
            waiting = {task for task in (sender, receiver) if task is not None}
            if not waiting:
                return
            deadline = next_deadline(options, stdin_done_at, last_activity)
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if sender is not None and sender in done:
                sender.result()  # raises what the send loop raised
                sender = None
                stdin_done_at = time.monotonic()
                if receiver is None or (options.quit_after == 0):
                    return
            if receiver is not None and receiver in done:
                data = receiver.result()
                if not data and not datagram:
                    sink.finish()
                    receiver = None
                    if sender is None or options.interactive:
                        return
                    continue
                sink.write(data)
                last_activity = time.monotonic()
                _trim(session)
                receiver = asyncio.create_task(session.receive_some(timeout=None))
            if done:
                continue
            now = time.monotonic()
            quit_at = options.quit_at(stdin_done_at)
            if quit_at is not None and now >= quit_at:
                return
            idle_at = options.idle_at(last_activity)
            if idle_at is not None and now >= idle_at:
                if datagram:
                    return  # UDP has no end-of-file: going quiet is how it ends
                raise TimedOut(
                    f"no data to or from {session.target.display} for {options.idle_timeout:g}s (-w)",
                    session.target.display,
                )
    finally:
        for task in (sender, receiver):
            if task is not None and not task.done():
                task.cancel()
        sink.finish()
