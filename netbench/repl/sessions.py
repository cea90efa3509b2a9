"""Several live sessions at once, each with a task that prints what arrives.

Each :class:`~netbench.repl.conversation.Conversation` wraps a :class:`netbench.net.session.Session`
with its number, an :class:`~netbench.repl.httpview.HttpTracker`, and a
receive task that shows data above the prompt the moment it arrives. When
the peer closes, that is announced at once and the transcript is kept.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from netbench.errors import NetbenchError, Refused, SessionClosed, UsageError
from netbench.repl import hints, protoview, view
from netbench.repl.context import Printer, Settings
from netbench.repl.conversation import Conversation
from netbench.repl.flood import FLOOD_STARTS, TRANSCRIPT_CAP
from netbench.repl.httpview import HttpMessage, Note, RawData, Shown

if TYPE_CHECKING:  # the network modules (ssl) load with the first /open
    from netbench.core.address import Target
    from netbench.net.tls import TLSOptions

ANSWER_KEPT = 64 * 1024  # bytes of the last answer kept for /explain
GIVE_UP_AFTER = 2.0  # seconds of quiet before an incomplete HTTP response is shown raw


class Sessions:
    """The REPL's sessions, numbered from 1, and which one is current."""

    def __init__(self, printer: Printer, settings: Settings) -> None:
        self.printer = printer
        self.settings = settings
        self.items: dict[int, Conversation] = {}
        self.current_number: int | None = None
        self._next = 1
        self.last_response: Any = None
        self.connecting: str | None = None  # the target being connected to, for the toolbar
        self.watches: dict[int, protoview.Watch] = {}  # what each session speaks, for the decoded view

    @property
    def current(self) -> Conversation | None:
        """The session plain lines go to, if any."""
        if self.current_number is None:
            return None
        return self.items.get(self.current_number)

    def require_current(self) -> Conversation:
        """The current session, or a UsageError saying how to open one."""
        conv = self.current
        if conv is None:
            raise UsageError("no session: /open HOST PORT first (or /lab http)")
        return conv

    def get(self, number: int) -> Conversation:
        """Session *number*, or a UsageError."""
        conv = self.items.get(number)
        if conv is None:
            known = ", ".join(str(n) for n in self.items) or "none"
            raise UsageError(f"no session {number} (sessions: {known})")
        return conv

    async def open(self, target: Target, *, timeout: float, tls: TLSOptions, family: int) -> Conversation:
        """Connect to *target*, start its receive task and make it current."""
        from netbench.net.session import open_session

        self.connecting = str(target)
        try:
            session = await open_session(target, timeout=timeout, tls=tls, family=family)
        finally:
            self.connecting = None
        conv = Conversation(self._next, session)
        self._next += 1
        self.items[conv.number] = conv
        self.current_number = conv.number
        conv.task = asyncio.get_running_loop().create_task(self._receive(conv))
        return conv

    def _tag(self, conv: Conversation) -> str | None:
        stamp = self.settings.stamp()
        if len(self.items) > 1:
            tag = f"[{conv.number}]"
            return f"{stamp} {tag}" if stamp else tag
        return stamp

    def _show(self, conv: Conversation, items: list[Shown]) -> None:
        for item in items:
            if isinstance(item, RawData):
                was_flooding = conv.gate.flooding
                data = self._admit(conv, item.data) if self.settings.coalesce else item.data
                plain_view = self.settings.hex_mode or self.settings.raw or data != item.data
                watch = self.watch(conv)  # RESP, DNS, telnet (whose negotiation is answered in any view)
                wanted = watch.protocol == "telnet" or (data and not plain_view)
                decoded = watch.decode(item.data, udp=conv.udp) if wanted else None
                if data and decoded is not None and not plain_view:
                    shown = protoview.fragments(decoded, stamp=self._tag(conv), endings=self.settings.endings)
                    self.printer.show(shown)
                elif data:
                    self.printer.show(
                        view.received(
                            data,
                            hex_mode=self.settings.hex_mode,
                            offset=conv.offset,
                            stamp=self._tag(conv),
                            endings=self.settings.endings,
                            raw=self.settings.raw,
                        )
                    )
                conv.offset += len(item.data)
                if conv.gate.flooding and not was_flooding:
                    self.printer.show(view.note(self._numbered(conv, FLOOD_STARTS)))
            elif isinstance(item, HttpMessage):
                conv.offset += len(item.raw)
                conv.last_response = item.response
                self.last_response = item.response
                self.printer.show(view.response(item.response, stamp=self._tag(conv), raw=self.settings.raw))
            elif isinstance(item, Note):
                self.printer.show(view.note(item.text))

    def watch(self, conv: Conversation) -> protoview.Watch:
        """What *conv* speaks, for the decoded view (:mod:`netbench.repl.protoview`)."""
        return self.watches.setdefault(conv.number, protoview.Watch())

    async def _answer(self, conv: Conversation) -> None:
        """Send what the telnet negotiator owes the peer (shown named with ``->``, or as bytes here)."""
        answer = self.watch(conv).take_answer()
        if answer and not conv.write_shut and conv.session.is_open:
            if self.settings.hex_mode or self.settings.raw:  # (the decoded view showed it named)
                self.printer.show(view.sent(answer, hex_mode=True, stamp=self._tag(conv)))
            try:
                await conv.session.send(answer)
            except NetbenchError as error:
                self.printer.show(view.note(f"[{conv.number}] telnet answer not sent: {error}", "error"))

    def _admit(self, conv: Conversation, data: bytes) -> bytes:
        """The part of *data* the session's display gate lets through (:mod:`netbench.repl.flood`)."""
        from netbench.core.escape import is_text

        hexdump = self.settings.hex_mode or not is_text(data)
        shown, before = conv.gate.arrive(data, time.monotonic(), hexdump=hexdump, datagram=conv.udp)
        if before is not None:
            self.printer.show(view.note(self._numbered(conv, before)))
        if len(shown) < len(data) and conv.quiet_check is None:
            conv.quiet_check = asyncio.get_running_loop().call_later(conv.gate.window, self._quiet, conv)
        return shown

    def _quiet(self, conv: Conversation) -> None:
        """Timer: print the final count of a flood once data has stopped for a second."""
        conv.quiet_check = None
        line = conv.gate.quiet(time.monotonic())
        if line is not None:
            self.printer.show(view.note(self._numbered(conv, line)))
        elif conv.gate.flooding:
            conv.quiet_check = asyncio.get_running_loop().call_later(conv.gate.window / 2, self._quiet, conv)

    def _numbered(self, conv: Conversation, text: str) -> str:
        return f"[{conv.number}] {text}" if len(self.items) > 1 else text

    def _finish_display(self, conv: Conversation) -> None:
        """Nothing more will be shown for *conv*: print what the display left out."""
        if conv.quiet_check is not None:
            conv.quiet_check.cancel()
            conv.quiet_check = None
        line = conv.gate.finish()
        if line is not None:
            self.printer.show(view.note(self._numbered(conv, line)))

    def pause_active(self) -> list[Conversation]:
        """Ctrl-C: pause the display of every session whose data is arriving now."""
        now = time.monotonic()
        paused = [conv for conv in self.items.values() if conv.gate.active(now)]
        for conv in paused:
            conv.gate.pause()
        return paused

    def _schedule_give_up(self, conv: Conversation) -> None:
        if conv.give_up is not None:
            conv.give_up.cancel()
            conv.give_up = None
        if conv.tracker.collected:

            def give_up() -> None:
                conv.give_up = None
                self._show(conv, conv.tracker.give_up(f"incomplete after {GIVE_UP_AFTER:g} s of quiet"))
                conv.arrived.set()

            conv.give_up = asyncio.get_running_loop().call_later(GIVE_UP_AFTER, give_up)

    async def _receive(self, conv: Conversation) -> None:
        session = conv.session
        udp = session.target.transport == "udp"
        while True:
            try:
                data = await session.receive_some(timeout=None)
            except SessionClosed:
                return
            except Refused as error:
                if udp:  # ICMP port unreachable: the datagram was refused; the session goes on
                    conv.refused_since_send = True
                    if not conv.refused:  # once, until a datagram is answered again
                        conv.refused = True
                        self.printer.show(
                            view.note(
                                f"[{conv.number}] {conv.label}: datagram refused (ICMP port unreachable: "
                                "nothing listens there); not said again until an answer arrives",
                                "error",
                            )
                        )
                    conv.arrived.set()
                    continue
                self._failed(conv, error)
                return
            except NetbenchError as error:
                self._failed(conv, error)
                return
            conv.last_activity = time.monotonic()
            conv.refused = False
            if not data:  # end of file (never UDP: its transport skips empty datagrams)
                self._show(conv, conv.tracker.on_eof())
                self._cancel_give_up(conv)
                self._finish_display(conv)
                total = session.transcript.bytes_received
                self.printer.show(
                    view.note(
                        f"[{conv.number}] {conv.label}: connection closed by peer "
                        f"({total} bytes received); the transcript is kept",
                        "closed",
                    )
                )
                conv.arrived.set()
                return
            if udp:  # (each read of a UDP session is one datagram)
                conv.datagrams += 1
            if len(conv.since_send) < ANSWER_KEPT:
                conv.last_answer = (bytes(conv.since_send) + data)[:ANSWER_KEPT]
            conv.since_send += data
            self._show(conv, conv.tracker.on_received(data))
            await self._answer(conv)  # telnet:// answers option negotiation
            self._schedule_give_up(conv)
            conv.arrived.set()
            if session.transcript.bytes_received >= TRANSCRIPT_CAP:
                self._full(conv)
                return
            await asyncio.sleep(0)  # the prompt runs between reads, however fast the peer

    def _full(self, conv: Conversation) -> None:
        """The transcript reached its cap: stop reading (TCP holds the peer back, UDP is counted)."""
        from netbench.repl.toolbar import size

        conv.full = True
        then = (
            "reading stopped (UDP cannot hold the peer back: datagrams that arrive now are counted as not "
            "shown, /sessions)"
            if conv.udp
            else "reading stopped (the peer is held back)"
        )
        self._show(conv, conv.tracker.give_up("the transcript is full"))
        self._cancel_give_up(conv)
        self._finish_display(conv)
        self.printer.show(
            view.note(
                f"[{conv.number}] {conv.label}: {size(TRANSCRIPT_CAP)} received, the most a session keeps: "
                f"{then}; /tail and /save see what arrived, /close ends it",
                "closed",
            )
        )
        conv.arrived.set()

    def _cancel_give_up(self, conv: Conversation) -> None:
        if conv.give_up is not None:
            conv.give_up.cancel()
            conv.give_up = None

    def _failed(self, conv: Conversation, error: NetbenchError) -> None:
        self._show(conv, conv.tracker.give_up(str(error)))
        self._cancel_give_up(conv)
        self._finish_display(conv)
        self.printer.show(view.note(f"[{conv.number}] {conv.label}: {error}", "error"))
        conv.arrived.set()

    async def send(self, conv: Conversation, data: bytes, *, echo: bool) -> None:
        """Send *data* on *conv*; show it with ``->`` when *echo*."""
        if conv.write_shut:
            raise UsageError(f"{conv.label}: the write side is shut down (/eof); /open a new session")
        if conv.session.peer_closed and conv.session.target.transport != "udp":
            raise UsageError(f"[{conv.number}] closed by peer; /open to reconnect")
        if conv.session.state == "error":
            raise UsageError(f"[{conv.number}] the connection failed; /open to reconnect")
        resumed = conv.gate.resume()
        if resumed is not None:
            self.printer.show(view.note(self._numbered(conv, resumed)))
        if echo:
            self.printer.show(view.sent(data, hex_mode=self.settings.hex_mode, stamp=self._tag(conv)))
        self.watch(conv).on_sent(data)
        remark = conv.tracker.on_sent(data)
        if remark is not None:
            self.printer.show(view.note(remark.text))
        self._hint(conv, data)
        _answer_starts(conv)
        await conv.session.send(data)

    def _hint(self, conv: Conversation, data: bytes) -> None:
        """Say what a bare ``GET /`` is; after 2 s of an unfinished request head, say how to end it."""
        from netbench.core.escape import escape_text as safe

        if conv.head_hint is not None:
            conv.head_hint.cancel()
            conv.head_hint = None
        note = hints.http09(data)
        if note is not None:
            self.printer.show(view.note(safe(note)))
        if not conv.head.on_sent(data):
            return

        def remind() -> None:
            conv.head_hint = None
            if conv.head.open and not conv.since_send and not conv.finished:
                self.printer.show(view.note(self._numbered(conv, hints.HEAD_NOT_FINISHED)))

        conv.head_hint = asyncio.get_running_loop().call_later(hints.HEAD_HINT_AFTER, remind)

    async def send_eof(self, conv: Conversation) -> None:
        """Half-close *conv*: shut down our write side (the peer reads end-of-file).

        The end-of-file is what the peer answers next, as a send is: ``/wait`` after
        ``/eof`` waits for what comes after it (or the close), not for what came before.
        """
        await conv.session.send_eof()
        conv.write_shut = True
        _answer_starts(conv)

    def use(self, number: int) -> Conversation:
        """Make session *number* current."""
        conv = self.get(number)
        self.current_number = number
        return conv

    async def close(self, conv: Conversation) -> None:
        """Close *conv* (its transcript is dropped with it) and pick another current one."""
        self._cancel_give_up(conv)
        if conv.head_hint is not None:
            conv.head_hint.cancel()
        self._finish_display(conv)
        if conv.task is not None:
            conv.task.cancel()
            try:
                await conv.task
            except (asyncio.CancelledError, Exception):
                pass
        await conv.session.close()
        del self.items[conv.number]
        if self.current_number == conv.number:
            self.current_number = max(self.items) if self.items else None

    async def close_all(self) -> None:
        """Close every session."""
        for conv in list(self.items.values()):
            try:
                await self.close(conv)
            except Exception:  # closing must not fail the exit
                pass


def _answer_starts(conv: Conversation) -> None:
    """A send or ``/eof`` went out: what arrives from now on is its answer (``/wait`` looks at that)."""
    conv.since_send.clear()
    conv.refused_since_send = False
    conv.arrived.clear()
    conv.last_activity = time.monotonic()
