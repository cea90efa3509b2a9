"""Whether an idle connection holds something nobody asked for: bytes, or the peer's close.

Asked before a kept connection is used again, by the blocking session
(:meth:`netbench.net.blocking.BlockingSession.has_unread`) and the HTTP client
(:class:`netbench.net.http_client.HttpClient`). It needs ``select`` only, so
the HTTP client imports it at start-up without the blocking session's
receive buffers.
"""

from __future__ import annotations

import select
import socket
import sys


def idle_has_data(sock: socket.socket) -> bool:
    """True when an idle connection has something to read: bytes no request asked for, or the
    peer's close. One poll when there is nothing; TLS bytes already decrypted count, a TLS
    session ticket alone (which is no application data) does not."""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending():
        return True
    try:
        if not select.select([sock], [], [], 0)[0]:
            return False
    except (OSError, ValueError):  # closed under us: nothing can be reused
        return True
    if pending is None:
        return True
    previous = sock.gettimeout()
    sock.setblocking(False)
    try:
        sock.recv(1)  # data, or b"" for the peer's close
        return True
    except (BlockingIOError, InterruptedError):
        return False
    except OSError as error:
        ssl = sys.modules.get("ssl")
        return not (ssl is not None and isinstance(error, ssl.SSLWantReadError))
    finally:
        sock.settimeout(previous)


class IdleCheck:
    """:func:`idle_has_data` for one connection, called with no arguments.

    A plain socket is asked with one ``poll`` on a poller kept for it (a
    ``select`` builds its lists and fd sets every call); TLS goes through
    :func:`idle_has_data`, which tells a session ticket from application data.
    """

    __slots__ = ("_poller", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._poller: select.poll | None = None
        if not hasattr(sock, "pending") and hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(sock, select.POLLIN)

    def __call__(self) -> bool:
        poller = self._poller
        if poller is None:
            return idle_has_data(self._sock)
        try:
            return bool(poller.poll(0))  # readable, or POLLHUP/POLLERR/POLLNVAL: not clean
        except (OSError, ValueError):
            return True
