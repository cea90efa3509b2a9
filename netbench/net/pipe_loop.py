"""The one-thread netcat pipe: TLS, UDP and ``--telnet``, blocking work under one ``poll``.

``pipe_loop(sock, ends, options, peer)`` moves stdin to *sock* and *sock* to
stdout as :func:`netbench.net.pipe.pipe_stream` does, but in the calling
thread alone: the socket is non-blocking and every wait (for stdin, for the
peer, for room to send) is one ``poll`` bounded by the ``-q``/``-w`` clocks
(:mod:`netbench.net.pipe_options`). No asyncio, no worker thread:

* TLS (an :class:`ssl.SSLSocket` from :func:`netbench.net.dial.dial`): an SSL
  object must never be used from two threads, hence one thread. A read or a
  write may need the other direction first (``SSLWantReadError`` /
  ``SSLWantWriteError``): the call is retried when the socket is ready for
  what it asked. OpenSSL hands out at most one record per read and may keep
  decrypted bytes (``pending()``) where ``poll`` cannot see them, so a turn
  reads until OpenSSL asks for more from the socket; a turn cut short after
  :data:`READS_PER_TURN` reads goes on before the next wait. A write that
  could not finish is retried with the same bytes, as OpenSSL requires.
  The peer's close_notify, and a peer closing TCP without one, are both
  end-of-file. TLS is not half-closed when stdin ends
  (docs/pipe.md: OpenSSL servers take that for a truncation attack); the
  pipe waits for the server to close (or ``-q``/``-w``), and
  :func:`close_socket` sends our close_notify at the end.
* UDP: each read of stdin (at most :data:`MAX_DATAGRAM` bytes) is one
  datagram, each datagram received is written as it is, an empty one is
  skipped (UDP has no end-of-file). An ICMP port-unreachable comes back as a
  refused send or receive: :class:`~netbench.errors.Refused` (exit 3). Going
  quiet for ``-w`` is how a UDP pipe ends (exit 0), not a timeout.
* ``--telnet`` (TCP or TLS): negotiation received is answered on the wire
  and kept off stdout (:func:`~netbench.net.pipe_filters.make_telnet_filter`);
  a 255 byte from stdin is sent as IAC IAC. A TCP socket is half-closed once
  stdin has been sent (later negotiation then goes unanswered).

Memory stays flat whatever the size: stdin is not read while one read of it
still waits to be sent, and what arrives goes to stdout before the next
read. The pipe ends as the kernel-copy one does: stdin sent and the peer
closed (or the peer closed and stdin is a terminal), ``-q`` after stdin's
end, ``-w`` idle (:class:`~netbench.errors.TimedOut` for a stream). Errors
are netbench errors; BrokenPipeError means our stdout's reader went away.
"""

from __future__ import annotations

import os
import select
import socket
import stat
import sys
import time
from collections import deque
from collections.abc import Callable

from netbench.errors import NetbenchError
from netbench.net.dial import READ_SIZE
from netbench.net.failures import translate
from netbench.net.pipe import grow_pipe
from netbench.net.pipe_filters import make_source_transform, make_telnet_filter, telnet_escape
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

MAX_DATAGRAM = 65507
"""The largest UDP payload over IPv4: the most one read of stdin sends as one datagram."""
READS_PER_TURN = 64
"""Receives in a row before stdin gets its turn again (what is left is read without waiting)."""
CLOSE_NOTIFY_WAIT = 1.0
"""Seconds :func:`close_socket` waits for room to send our close_notify (never for the peer's)."""

_IN = select.POLLIN
_OUT = select.POLLOUT
_TROUBLE = select.POLLERR | select.POLLHUP | select.POLLNVAL


def pipe_loop(
    sock: socket.socket, ends: Ends, options: PipeOptions, peer: str, *, first: bytes = b""
) -> None:
    """Pipe stdin <-> *sock* until done (see the module docstring); *sock* stays open.

    *first* is data already received (``listen -u``: the first datagram).
    """
    pipe = _LoopPipe(sock, ends, options, peer)
    try:
        if first:
            pipe.deliver(first)
        pipe.run()
    finally:
        pipe.sink.finish()


def close_socket(sock: socket.socket) -> None:
    """Close *sock*; a TLS socket sends its close_notify first (without waiting for the peer's).

    The wait for room to send it is bounded by :data:`CLOSE_NOTIFY_WAIT`; a
    peer already gone just gets the close.
    """
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(sock, ssl.SSLSocket) and sock.fileno() >= 0:
        deadline = time.monotonic() + CLOSE_NOTIFY_WAIT
        try:
            sock.setblocking(False)
            while True:
                try:
                    sock.unwrap()  # sends close_notify; returns once the peer's has come too
                    break
                except ssl.SSLWantWriteError:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    wait_fd(sock.fileno(), write=True, timeout=left)
        except (OSError, ValueError):  # SSLWantReadError (ours sent, theirs not awaited), a dead peer
            pass
    sock.close()


def _is_pipe(fd: int) -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        return False


class _LoopPipe:
    """One pipe's state: what waits to be sent, whether each side has ended, the clocks."""

    def __init__(self, sock: socket.socket, ends: Ends, options: PipeOptions, peer: str) -> None:
        self.sock = sock
        self.options = options
        self.peer = peer
        self.datagram = sock.type == socket.SOCK_DGRAM
        ssl = sys.modules.get("ssl")
        self.tls = ssl is not None and isinstance(sock, ssl.SSLSocket)
        # What a TLS call raises when it must wait for the socket to be readable / writable.
        self.want_read: tuple[type[BaseException], ...] = (BlockingIOError,)
        self.want_write: tuple[type[BaseException], ...] = ()
        self.closed_errors: tuple[type[BaseException], ...] = ()
        if self.tls and ssl is not None:
            self.want_read = (BlockingIOError, ssl.SSLWantReadError)
            self.want_write = (ssl.SSLWantWriteError,)
            # The peer's close_notify seen as an error; a send after a close without one.
            self.closed_errors = (ssl.SSLZeroReturnError, ssl.SSLEOFError)
        trace = Trace(ends.stderr) if options.hex else None
        self.sink = Sink(ends.stdout_fd, terminal=options.terminal, trace=trace)
        self.transform = make_source_transform(options.crlf, trace)
        self.telnet: Callable[[bytes], tuple[bytes, bytes]] | None = None
        if options.telnet:
            self.telnet = make_telnet_filter(ends.stderr, verbose=options.verbose)
        self.stdin_fd = ends.stdin_fd
        self.read_size = MAX_DATAGRAM if self.datagram else READ_SIZE
        self.stdin_buffer = bytearray(self.read_size if ends.stdin_fd is not None else 0)
        self.stdin_view = memoryview(self.stdin_buffer)
        if ends.stdin_fd is not None and _is_pipe(ends.stdin_fd):
            grow_pipe(ends.stdin_fd)  # fewer, fuller reads
        self.stdin_eof = ends.stdin_fd is None
        self.stdin_done_at: float | None = time.monotonic() if ends.stdin_fd is None else None
        self.outgoing: deque[memoryview] = deque()  # what waits to be sent, in order
        self.peer_eof = False
        self.write_shut = False
        self.last_activity = time.monotonic()
        self.buffer = bytearray(READ_SIZE)  # at least a whole datagram; TLS gives one record, <= 16 KiB
        self.view = memoryview(self.buffer)
        self.receive_waits = _IN  # what the next receive waits for (TLS: maybe _OUT)
        self.send_waits = _OUT  # what the next send waits for (TLS: maybe _IN)
        self.ready = False  # bytes may be waiting where poll cannot see them (TLS pending())
        sock.setblocking(False)

    # -- the loop --------------------------------------------------------------------

    def run(self) -> None:
        """Until both sides are done, a clock runs out, or an error."""
        poller = select.poll()
        sock_fd = self.sock.fileno()
        registered: dict[int, int] = {}
        while not self.finished():
            ran_out = clock_ran_out(self.options, self.stdin_done_at, self.last_activity)
            if ran_out == QUIT or (ran_out == IDLE and self.datagram):
                return  # UDP has no end-of-file: going quiet is how it ends
            if ran_out == IDLE:
                raise idle_error(self.options, self.peer)
            wanted = {sock_fd: self.socket_interest()}
            if self.stdin_fd is not None:
                wanted[self.stdin_fd] = _IN if not self.stdin_eof and not self.outgoing else 0
            for fd, mask in wanted.items():
                if registered.get(fd, 0) != mask:
                    if mask:
                        poller.register(fd, mask)
                    else:
                        poller.unregister(fd)
                    registered[fd] = mask
            clocks = poll_timeout_ms(self.options, self.stdin_done_at, self.last_activity)
            events = poller.poll(0 if self.ready else clocks)
            if self.ready:
                self.receive()
            for fd, mask in events:
                if fd == sock_fd:
                    self.socket_event(mask)
                else:
                    self.read_stdin()

    def finished(self) -> bool:
        """True when both sides are done (as the kernel-copy pipe decides)."""
        stdin_done = self.stdin_done_at is not None
        if self.peer_eof and (stdin_done or self.options.interactive or self.stdin_fd is None):
            return True
        return stdin_done and self.options.quit_after == 0

    def socket_interest(self) -> int:
        """What to wait for on the socket: data or room, as the pending calls asked."""
        mask = 0
        if not self.peer_eof:
            mask |= self.receive_waits
        if self.outgoing:
            mask |= self.send_waits
        return mask

    def socket_event(self, mask: int) -> None:
        """Do what the socket is ready for (trouble: both, so the error is raised and reported)."""
        if self.outgoing and mask & (self.send_waits | _TROUBLE):
            self.send_some()
        if not self.peer_eof and mask & (self.receive_waits | _TROUBLE):
            self.receive()

    # -- stdin -> socket -----------------------------------------------------------

    def read_stdin(self) -> None:
        """One read of stdin, queued to be sent (and sent now if the socket takes it).

        Plain bytes are read into one buffer, kept for the whole pipe: stdin is not
        read again before they are all sent (a fresh 256 KiB each time costs an
        mmap and its page faults).
        """
        assert self.stdin_fd is not None
        try:
            if self.transform is None and self.telnet is None:
                data: bytes | memoryview = self.stdin_view[: os.readv(self.stdin_fd, [self.stdin_buffer])]
            else:
                data = os.read(self.stdin_fd, self.read_size)
        except BlockingIOError:  # an O_NONBLOCK stdin that had nothing after all
            return
        except OSError:  # stdin failed: that is its end
            data = b""
        if not data:
            self.stdin_eof = True
            if not self.outgoing:
                self.stdin_sent()
            return
        if self.transform is not None:
            data = self.transform(bytes(data))
        if self.telnet is not None:
            data = telnet_escape(bytes(data))
        self.outgoing.append(memoryview(data))
        self.send_some()

    def send_some(self) -> None:
        """Send what waits, until the socket has no room; then half-close if stdin is over."""
        outgoing = self.outgoing
        while outgoing:
            data = outgoing[0]
            try:
                count = self.sock.send(data)
            except self.want_read:
                self.send_waits = _IN if self.tls else _OUT  # a plain socket: EAGAIN, wait for room
                return
            except self.want_write:
                self.send_waits = _OUT
                return
            except self.closed_errors:  # TLS: the peer is gone, as a reset is for TCP (exit 5)
                raise self.failure(ConnectionResetError(), "send to") from None
            except OSError as error:
                raise self.failure(error, "send to") from None
            self.send_waits = _OUT
            self.last_activity = time.monotonic()
            if count < len(data) and not self.datagram:
                outgoing[0] = data[count:]
            else:
                outgoing.popleft()
        if self.stdin_eof:
            self.stdin_sent()

    def stdin_sent(self) -> None:
        """All of stdin is sent: start the ``-q`` clock; half-close a TCP stream (``-N``)."""
        if self.stdin_done_at is not None:
            return
        self.stdin_done_at = time.monotonic()
        if self.options.shutdown and not self.datagram and not self.tls and not self.write_shut:
            self.write_shut = True
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # already reset: the receiving side reports it

    # -- socket -> stdout -----------------------------------------------------------

    def receive(self) -> None:
        """Receive what is there (a few reads at most), write it out; note the peer's end.

        A stream's reads are gathered in the buffer and written out together (TLS
        gives one record, <= 16 KiB, per read: one write per record would be 16
        times the writes); each datagram is written as it is.
        """
        self.ready = False
        filled = 0
        for _ in range(READS_PER_TURN):
            try:
                count = self.sock.recv_into(self.view[filled:])
            except self.want_read:
                self.receive_waits = _IN
                break
            except self.want_write:
                self.receive_waits = _OUT
                break
            except self.closed_errors:
                count = 0
            except OSError as error:
                self.flush(filled)  # what came before the failure still goes out
                raise self.failure(error, "receive from") from None
            self.receive_waits = _IN
            if self.datagram:
                if count:  # (an empty datagram is no end: UDP has none)
                    self.deliver(self.view[:count])
                continue
            if not count:
                self.flush(filled)
                self.peer_eof = True
                self.sink.finish()
                return
            filled += count
            if filled == len(self.buffer):
                self.flush(filled)
                filled = 0
        else:
            self.ready = True  # more may be waiting: read it before the next wait
        self.flush(filled)

    def flush(self, filled: int) -> None:
        """Write out the first *filled* bytes of the receive buffer (if any)."""
        if filled:
            self.deliver(self.view[:filled])

    def deliver(self, data: bytes | memoryview) -> None:
        """Received *data* to stdout (``--telnet``: negotiation answered, not shown)."""
        if self.telnet is not None:
            data, answer = self.telnet(bytes(data))
            if answer and not self.write_shut:
                self.outgoing.append(memoryview(answer))
                self.send_some()
        self.sink.write(data)
        self.last_activity = time.monotonic()

    def failure(self, error: OSError, during: str) -> NetbenchError:
        """The netbench error for a socket failure (never BrokenPipeError: that one is stdout's)."""
        return translate(error, self.peer, during=during)
