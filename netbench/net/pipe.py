"""The fast netcat pipe for connected TCP and unix stream sockets.

``pipe_stream(sock, ends, options, peer)`` moves stdin to the socket and the
socket to stdout until the conversation is over, with blocking sockets and
the kernel doing the copying where it can:

* stdin -> socket (a worker thread): ``os.sendfile`` when stdin is a regular
  file, ``os.splice`` when it is a pipe, else ``os.read`` + ``sendall``
  (also whenever ``--crlf`` or ``--hex`` must see the bytes);
* socket -> stdout (the calling thread, so Ctrl-C lands there): ``os.splice``
  into a stdout pipe, else ``recv_into`` a preallocated buffer + ``os.write``;
  a terminal gets escaped text (:class:`~netbench.net.sink.Sink`).

When stdin ends the write side is shut down (``nc -N``) and the pipe ends
once the peer closes. When the peer closes first, the rest of stdin is still
sent (no data is dropped) unless stdin is a terminal. ``idle_timeout`` (``-w``)
raises :class:`TimedOut` after that long with no byte moving either way;
``quit_after`` (``-q``) ends the pipe that long after stdin ended
(:mod:`netbench.net.pipe_options`). Errors are netbench errors (Reset,
TimedOut, ...); BrokenPipeError means our stdout's reader went away.

TLS, UDP and ``--telnet`` go through :mod:`netbench.net.pipe_loop` instead:
one thread owns the socket there (an SSL object is never used from two).
"""

from __future__ import annotations

import errno
import os
import select
import socket
import stat
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from netbench.errors import NetbenchError, Reset
from netbench.net.dial import READ_SIZE
from netbench.net.failures import translate
from netbench.net.pipe_filters import make_source_transform
from netbench.net.pipe_options import (
    IDLE,
    QUIT,
    Ends,
    PipeOptions,
    clock_ran_out,
    idle_error,
    poll_timeout_ms,
)
from netbench.net.sink import Sink, Trace, wait_fd

if TYPE_CHECKING:
    from netbench.net.stdin_feed import StdinFeed

CHUNK = 1 << 20
SENDFILE_CHUNK = 16 << 20
PIPE_SIZE = 1 << 20
_FALLBACK_ERRNOS = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF, errno.ESPIPE}


class _Shared:
    """State both threads touch (attribute writes only; the GIL orders them)."""

    def __init__(self) -> None:
        self.last_activity = time.monotonic()
        self.stdin_done_at: float | None = None
        self.error: BaseException | None = None
        self.stopped = False


def read_some(fd: int, size: int) -> bytes:
    """``os.read`` that waits instead of failing on an O_NONBLOCK stdin."""
    while True:
        try:
            return os.read(fd, size)
        except BlockingIOError:
            wait_fd(fd, write=False)


class _Upstream:
    """stdin -> socket, run in a worker thread."""

    def __init__(
        self,
        sock: socket.socket,
        in_fd: int,
        shared: _Shared,
        transform: Callable[[bytes], bytes] | None,
        shutdown: bool,
        wake_fd: int,
        peer: str,
        feed: StdinFeed | None = None,
    ) -> None:
        self.feed = feed
        self.peer = peer
        self.sock = sock
        self.in_fd = in_fd
        self.shared = shared
        self.transform = transform
        self.shutdown = shutdown
        self.wake_fd = wake_fd

    def run(self) -> None:
        shared = self.shared
        try:
            self._move()
            if self.shutdown and not shared.stopped:
                try:
                    self.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass  # already reset: the receiving side reports it
        except OSError as error:  # handed to the main thread
            shared.error = _send_failure(error, self.peer)
        except BaseException as error:
            shared.error = error
        finally:
            shared.stdin_done_at = time.monotonic()
            if not shared.stopped:
                try:
                    os.write(self.wake_fd, b"x")
                except OSError:
                    pass

    def _move(self) -> None:
        if self.feed is not None:
            self._copy_from_feed(self.feed)
            return
        if self.transform is None:
            kind = os.fstat(self.in_fd).st_mode
            if stat.S_ISREG(kind) and self._kernel_copy(self._sendfile):
                return
            if stat.S_ISFIFO(kind):
                grow_pipe(self.in_fd)
                if self._kernel_copy(self._splice):
                    return
        self._copy()

    def _sendfile(self) -> int:
        return os.sendfile(self.sock.fileno(), self.in_fd, None, SENDFILE_CHUNK)

    def _splice(self) -> int:
        return os.splice(self.in_fd, self.sock.fileno(), CHUNK)

    def _kernel_copy(self, step: Callable[[], int]) -> bool:
        """Copy with *step* until EOF; False if the kernel refused before any byte moved."""
        moved = False
        while not self.shared.stopped:
            try:
                count = step()
            except BlockingIOError:
                wait_fd(self.in_fd, write=False, timeout=0.5)
                continue
            except OSError as error:
                if not moved and error.errno in _FALLBACK_ERRNOS:
                    return False
                raise
            if count == 0:
                return True
            moved = True
            self.shared.last_activity = time.monotonic()
        return True

    def _copy_from_feed(self, feed: StdinFeed) -> None:
        while True:
            data = feed.take(lambda: self.shared.stopped)
            if not data:  # b"": stdin ended; None: this connection is over
                return
            self._send(data)

    def _copy(self) -> None:
        while not self.shared.stopped:
            data = read_some(self.in_fd, READ_SIZE)
            if not data:
                return
            self._send(data)

    def _send(self, data: bytes) -> None:
        """Send *data* whole (through the transform, when there is one); note the activity."""
        if self.transform is not None:
            data = self.transform(data)
        self.sock.sendall(data)
        self.shared.last_activity = time.monotonic()


def grow_pipe(fd: int) -> None:
    """Make a pipe hold 1 MiB (fewer wake-ups for the writer and for us); best effort."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
    except OSError:
        pass


class _Downstream:
    """socket -> stdout, one read per call, choosing the fastest way once."""

    def __init__(self, sock: socket.socket, sink: Sink) -> None:
        self.sock = sock
        self.sink = sink
        self.buffer = bytearray(CHUNK)
        self.view = memoryview(self.buffer)
        self.splice = sink.raw and stat.S_ISFIFO(os.fstat(sink.fd).st_mode)

    def once(self) -> int:
        """Move what is available now; 0 means the peer closed its side."""
        if self.splice:
            try:
                return os.splice(self.sock.fileno(), self.sink.fd, CHUNK)
            except BlockingIOError:  # stdout is an O_NONBLOCK pipe that is full
                wait_fd(self.sink.fd, write=True)
                return -1
            except OSError as error:
                if error.errno not in _FALLBACK_ERRNOS:
                    raise
                self.splice = False
        count = self.sock.recv_into(self.buffer)
        if count:
            self.sink.write(self.view[:count])
        return count


def pipe_stream(sock: socket.socket, ends: Ends, options: PipeOptions, peer: str) -> None:
    """Pipe stdin <-> *sock* until done (see the module docstring). *sock* stays open."""
    sock.setblocking(True)
    trace = Trace(ends.stderr) if options.hex else None
    sink = Sink(ends.stdout_fd, terminal=options.terminal, trace=trace)
    shared = _Shared()
    wake_r, wake_w = os.pipe()
    worker: threading.Thread | None = None
    if ends.stdin_fd is not None:
        upstream = _Upstream(
            sock,
            ends.stdin_fd,
            shared,
            make_source_transform(options.crlf, trace),
            options.shutdown,
            wake_w,
            peer,
            ends.feed,
        )
        worker = threading.Thread(target=upstream.run, name="netbench-stdin", daemon=True)
        worker.start()
    else:
        shared.stdin_done_at = time.monotonic()
    try:
        _receive_loop(sock, sink, shared, options, wake_r, peer, reading_stdin=worker is not None)
    finally:
        shared.stopped = True
        os.close(wake_r)
        # A worker still blocked on stdin may yet write to wake_w: leave that end open.
        if worker is None or not worker.is_alive():
            os.close(wake_w)


def _receive_loop(
    sock: socket.socket,
    sink: Sink,
    shared: _Shared,
    options: PipeOptions,
    wake_r: int,
    peer: str,
    *,
    reading_stdin: bool,
) -> None:
    downstream = _Downstream(sock, sink)
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    peer_eof = False
    while True:
        if shared.error is not None:
            _raise(shared.error, peer)
        stdin_done = shared.stdin_done_at is not None
        if peer_eof and (stdin_done or options.interactive or not reading_stdin):
            return
        # Before every wait, not only after an empty one: a peer that keeps talking must not hold -q off.
        ran_out = clock_ran_out(options, shared.stdin_done_at, shared.last_activity)
        if ran_out == QUIT:
            return
        if ran_out == IDLE:
            raise idle_error(options, peer)
        events = poller.poll(poll_timeout_ms(options, shared.stdin_done_at, shared.last_activity))
        for fd, _mask in events:
            if fd == wake_r:
                os.read(wake_r, 64)
                continue
            try:
                count = downstream.once()
            except BrokenPipeError:
                raise
            except OSError as error:
                _raise(error, peer)
            if count == 0:
                peer_eof = True
                sink.finish()
                poller.unregister(sock.fileno())
            elif count > 0:
                shared.last_activity = time.monotonic()


def _send_failure(error: OSError, peer: str) -> NetbenchError:
    """The error for a failed send: the peer going away mid-send is a Reset (exit 5)."""
    if error.errno in (errno.EPIPE, errno.ECONNRESET):
        return Reset(f"{peer} closed the connection before all of stdin was sent", peer)
    return translate(error, peer, during="send to")


def _raise(error: BaseException, peer: str) -> None:
    """Re-raise *error* as the netbench error a user should see."""
    if isinstance(error, (NetbenchError, BrokenPipeError, KeyboardInterrupt)):
        raise error
    if isinstance(error, OSError):
        raise translate(error, peer, during="talk to") from None
    raise error
