"""A UDP session counts its datagrams: how many arrived, how many were not shown (and why).

Sans-IO tests of the display gate's datagram count, in-process sessions against the
embedded lab's UDP echo (a transcript made small to fill; a socket the kernel overflows
while the loop is held), and the REPL in a pty against the lab's UDP echo. No timing is
asserted: every wait ends on its event or its timeout.
"""

from __future__ import annotations

import asyncio
import io
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netbench.lab import running
from netbench.repl import datagrams
from netbench.repl.datagrams import DatagramCount
from netbench.repl.flood import DisplayGate

TIMEOUT = 10.0


# -- sans-IO ----------------------------------------------------------------------------------------


def test_the_gate_counts_datagrams_cut_or_left_out_and_keeps_a_running_total() -> None:
    gate = DisplayGate()
    shown, _ = gate.arrive(b"\n" * 150, 0.0, datagram=True)
    assert shown == b"\n" * 100  # 100 lines shown, the rest of this datagram is not
    assert "1 datagram, 50 lines, 50 B not shown" in (gate.status() or "")
    shown, _ = gate.arrive(b"small\n", 0.5, datagram=True)  # still flooding: left out whole
    assert shown == b""
    final = gate.quiet(1.6)
    assert final == "… 2 datagrams, 51 lines, 56 B not shown: /tail or /save to see them"
    assert gate.unshown_datagrams == 2  # the running total stays when the flood's count is printed
    shown, _ = gate.arrive(b"calm\n", 3.0, datagram=True)
    assert shown == b"calm\n" and gate.unshown_datagrams == 2
    gate.pause()
    gate.arrive(b"a\n", 3.1, datagram=True)
    gate.arrive(b"b\n", 3.2, datagram=True)
    assert gate.resume() == "… 2 datagrams, 2 lines, 4 B not shown: /tail or /save to see them"
    assert gate.unshown_datagrams == 4


def test_tcp_data_is_never_counted_in_datagrams() -> None:
    gate = DisplayGate()
    gate.arrive(b"\n" * 150, 0.0)
    assert gate.unshown_datagrams == 0
    assert gate.finish() == "… 50 lines, 50 B not shown: /tail or /save to see them"


def test_what_waits_unread_is_not_shown_only_once_reading_has_stopped() -> None:
    reading = DatagramCount(read=10, waiting=2, dropped=1, hidden=3, reading=True)
    assert (reading.arrived, reading.not_shown) == (13, 4)  # the 2 waiting are about to be read
    stopped = DatagramCount(read=10, waiting=2, dropped=1, hidden=3, reading=False)
    assert (stopped.arrived, stopped.not_shown) == (13, 6)
    assert datagrams.summary(stopped) == "13 datagrams in, 6 not shown"
    assert datagrams.summary(DatagramCount(1, 0, 0, 0, True)) == "1 datagram in, 0 not shown"


# -- in-process sessions against real sockets --------------------------------------------------------


class _Repl:
    """What the toolbar reads from the REPL."""

    def __init__(self, sessions: Any) -> None:
        from netbench.repl.context import Settings

        self.sessions = sessions
        self.settings = Settings()
        self.busy = None


def _sessions() -> tuple[Any, io.StringIO, io.StringIO]:
    from netbench.repl.context import PlainPrinter, Settings
    from netbench.repl.sessions import Sessions

    out, errors = io.StringIO(), io.StringIO()
    return Sessions(PlainPrinter(out, errors), Settings()), out, errors


async def _open_udp(sessions: Any, port: int) -> Any:
    from netbench.core.address import parse_target
    from netbench.net.tls import TLSOptions

    return await sessions.open(
        parse_target([f"udp://127.0.0.1:{port}"]), timeout=5, tls=TLSOptions(), family=0
    )


async def _until(check: Callable[[], bool], what: str) -> None:
    """Poll *check* until it holds (the event), or fail after TIMEOUT."""
    try:
        async with asyncio.timeout(TIMEOUT):
            while not check():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out after {TIMEOUT:g} s waiting for {what}") from None


def test_a_full_transcript_stops_reading_and_what_waits_is_counted_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from netbench.repl import sessions as module
    from netbench.repl.toolbar import toolbar

    monkeypatch.setattr(module, "TRANSCRIPT_CAP", 1000)  # full after two echoes of 600 bytes
    sessions, out, errors = _sessions()

    async def main(port: int) -> tuple[DatagramCount | None, str, str]:
        conv = await _open_udp(sessions, port)
        for _ in range(2):
            await sessions.send(conv, b"x" * 600, echo=False)
            await _until(lambda: conv.arrived.is_set(), "the echo")
        await _until(lambda: conv.full, "the cap")
        for _ in range(3):  # echoed into the queue nobody reads now
            await sessions.send(conv, b"y" * 600, echo=False)
        await _until(
            lambda: (datagrams.count(conv) or DatagramCount(0, 0, 0, 0, True)).waiting == 3, "3 waiting"
        )
        counted = datagrams.count(conv)
        bar = "".join(text for _style, text in toolbar(_Repl(sessions)))  # type: ignore[arg-type]
        state = conv.state
        await sessions.close_all()
        return counted, bar, state

    with running("echo") as lab:
        counted, bar, state = asyncio.run(main(lab["echo"].port))
    assert counted == DatagramCount(read=2, waiting=3, dropped=0, hidden=0, reading=False)
    assert state == "full" and "5 datagrams in, 3 not shown" in bar
    assert "UDP cannot hold the peer back" in errors.getvalue() + out.getvalue()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's drop count is read on Linux")
def test_datagrams_the_kernel_dropped_are_counted_from_proc_on_linux() -> None:
    sent = 3000
    sessions, _out, _errors = _sessions()

    async def main() -> tuple[int, int | None]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            conv = await _open_udp(sessions, peer.getsockname()[1])
            assert datagrams.kernel_drops(conv) == 0
            mine = conv.session.transport.transport.get_extra_info("sockname")
            for index in range(sent):  # the loop does not run meanwhile: the socket's buffer overflows
                peer.sendto(b"%05d " % index + b"z" * 1000, mine)

            def accounted() -> bool:
                return conv.datagrams + (datagrams.kernel_drops(conv) or 0) == sent

            await _until(accounted, "every datagram read or dropped by the kernel")
            read, kernel = conv.datagrams, datagrams.kernel_drops(conv)
            await sessions.close_all()
            return read, kernel

    read, kernel = asyncio.run(main())
    assert kernel is not None and kernel > 0 and read > 0
    assert read + kernel == sent


# -- the REPL in a pty ------------------------------------------------------------------------------


def test_pty_a_flood_of_lines_in_one_datagram_is_counted_in_datagrams(term: Callable[..., Any]) -> None:
    with running("echo") as lab:
        label = f"udp://127.0.0.1:{lab['echo'].port}"
        t = term(label)
        t.prompt(label)
        t.line('/send "' + "\\n" * 150 + '"')  # one datagram of 150 lines: 100 are shown
        t.expect("(over 100 lines or 16 KiB a second")
        # the final count, once calm (the updating status line above the prompt goes on "(Ctrl-C pauses)")
        t.expect("… 1 datagram, 50 lines, 50 B not shown: /tail or /save to see them\x1b[0m")
        t.expect("1 datagram in, 1 not shown")  # the toolbar
        t.line("after the flood")
        t.expect("after the flood\x1b[0;90m\\r\\n")  # the display is back: the echo shows
        t.line("/sessions")
        t.expect("2 datagrams in, 1 not shown")
        t.keys("\x04")
        assert t.exit_status() == 0


def test_scripted_sessions_lists_datagrams_for_udp_only() -> None:
    from tests.support.cli import run_main

    with running("echo") as lab:
        port = lab["echo"].port
        script = f"one\n/wait one 5\ntwo\n/wait two 5\n/open 127.0.0.1 {port}\n/sessions\n"
        status, out, err = run_main(
            ["repl", f"udp://127.0.0.1:{port}"], stdin=script, state_dir=Path("/nonexistent-netbench-state")
        )
    assert status == 0, err
    udp_line = next(line for line in out.splitlines() if f"udp://127.0.0.1:{port}" in line and "sent" in line)
    tcp_line = next(line for line in out.splitlines() if f"tcp://127.0.0.1:{port}" in line and "sent" in line)
    assert "  2 datagrams in, 0 not shown" in udp_line
    assert "datagram" not in tcp_line
