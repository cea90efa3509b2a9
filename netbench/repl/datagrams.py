"""How many datagrams a UDP session received, and how many of them were not shown.

UDP has no stream to hold back and no end: the honest account is a count of
datagrams. What netbench can count (:func:`count`):

- *arrived*: every datagram netbench took from its socket: read by the
  session, waiting in the session's queue, or dropped because that queue
  was full (:data:`netbench.net.transports.QUEUE_LIMIT`);
- *not shown*: of those, the ones the display left out in whole or in part
  (a flood coalesced, the display paused with Ctrl-C), the ones dropped by
  the full queue, and, once the transcript is full and reading has stopped,
  the ones left waiting (``/tail`` and ``/save`` see what was read, not these);
- *kernel dropped*: datagrams the kernel threw away before netbench could
  take them (the socket's receive buffer was full). Linux counts them per
  socket (the ``drops`` column of ``/proc/net/udp``); :func:`kernel_drops`
  reads that, and says None elsewhere.

What no one can count from here: datagrams lost on the way or never sent
(UDP has no sequence numbers), and empty datagrams (the transport skips them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from netbench.repl.flood import plural

if TYPE_CHECKING:
    from netbench.repl.conversation import Conversation

PROC_TABLES = (Path("/proc/net/udp"), Path("/proc/net/udp6"))


@dataclass(frozen=True)
class DatagramCount:
    """One UDP session's datagrams: read, waiting unread, dropped by the queue, left out by the display."""

    read: int
    waiting: int
    dropped: int
    hidden: int
    reading: bool  # False once the transcript is full: what waits will not be read

    @property
    def arrived(self) -> int:
        """Every datagram netbench took from the socket."""
        return self.read + self.waiting + self.dropped

    @property
    def not_shown(self) -> int:
        """Datagrams not shown (in whole or in part): left out by the display, dropped, or never read."""
        return self.hidden + self.dropped + (0 if self.reading else self.waiting)


def count(conv: Conversation) -> DatagramCount | None:
    """The datagram count of *conv*, or None for a session that is not UDP."""
    if not conv.udp:
        return None
    transport = conv.session.transport
    protocol = getattr(transport, "protocol", None)  # (netbench.net.transports.DatagramTransport)
    queue = getattr(protocol, "queue", None)
    return DatagramCount(
        read=conv.datagrams,
        waiting=queue.qsize() if queue is not None else 0,
        dropped=int(getattr(transport, "dropped", 0)),
        hidden=conv.gate.unshown_datagrams,
        reading=not conv.full and conv.session.is_open,
    )


def summary(counted: DatagramCount) -> str:
    """``12 datagrams in, 3 not shown``: the toolbar's and ``/sessions``' words."""
    return f"{plural(counted.arrived, 'datagram')} in, {counted.not_shown:,} not shown"


def kernel_drops(conv: Conversation) -> int | None:
    """Datagrams the kernel dropped for *conv*'s socket (a full receive buffer); None where unknowable.

    Linux only: the ``drops`` column of ``/proc/net/udp`` (or ``udp6``) on the
    socket's line, found by its inode. None on other systems, for a closed
    session, or when the tables cannot be read.
    """
    if not conv.udp or not conv.session.is_open:
        return None
    asyncio_transport = getattr(conv.session.transport, "transport", None)
    sock = asyncio_transport.get_extra_info("socket") if asyncio_transport is not None else None
    if sock is None:
        return None
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
    except (OSError, ValueError):
        return None
    for table in PROC_TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) >= 13 and fields[9] == inode:
                return int(fields[-1]) if fields[-1].isdigit() else None
    return None
