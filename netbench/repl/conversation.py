"""One numbered session in the REPL: the net session and what the REPL keeps about it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netbench.repl.flood import DisplayGate
from netbench.repl.hints import HeadWatch
from netbench.repl.httpview import HttpTracker

if TYPE_CHECKING:  # the network modules (ssl) load with the first /open
    from netbench.net.session import Session


@dataclass
class Conversation:
    """One numbered session in the REPL."""

    number: int
    session: Session
    tracker: HttpTracker = field(default_factory=HttpTracker)
    task: asyncio.Task[None] | None = None
    offset: int = 0
    since_send: bytearray = field(default_factory=bytearray)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    last_response: Any = None
    last_activity: float = field(default_factory=time.monotonic)
    write_shut: bool = False  # /eof was used: nothing more can be sent
    give_up: asyncio.TimerHandle | None = None
    gate: DisplayGate = field(default_factory=DisplayGate)
    quiet_check: asyncio.TimerHandle | None = None
    full: bool = False  # the transcript reached its cap: reading stopped
    refused: bool = False  # UDP: a datagram was refused (ICMP) and nothing answered since
    refused_since_send: bool = False  # UDP: the last send was refused (ends a /wait)
    head: HeadWatch = field(default_factory=HeadWatch)
    last_answer: bytes = b""  # the start of what arrived after the last send that had an answer (/explain)
    head_hint: asyncio.TimerHandle | None = None
    datagrams: int = 0  # UDP: datagrams read (netbench.repl.datagrams counts the rest)

    @property
    def label(self) -> str:
        """The prompt form: ``127.0.0.1:8080`` for TCP, ``udp://127.0.0.1:7`` otherwise."""
        target = self.session.target
        return target.display if target.transport == "tcp" else str(target)

    @property
    def state(self) -> str:
        """connecting / open / half-closed / closed by peer / closed / error."""
        if self.full and self.session.is_open:
            return "full"
        if self.udp and self.session.state == "open":
            return "refused (ICMP)" if self.refused else "ready"
        return self.session.state

    @property
    def udp(self) -> bool:
        """True for a UDP session (datagrams, no connection)."""
        return self.session.target.transport == "udp"

    @property
    def opened(self) -> str:
        """The line that announces the session: connected (TCP, TLS), ready (UDP)."""
        from netbench.core.escape import escape_text as safe

        if self.udp:
            target = self.session.target
            return f"[{self.number}] ready: datagrams go to {safe(target.display)} (udp, no connection)"
        peer = self.session.peer or self.session.target.display
        return f"[{self.number}] connected to {safe(peer)} ({self.session.target.transport})"

    @property
    def finished(self) -> bool:
        """True when nothing more can arrive."""
        # ('closed by peer' implies peer_closed)
        return not self.session.is_open or self.session.peer_closed or self.full
