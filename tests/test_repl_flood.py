"""A fast peer never makes the REPL unresponsive (issue 12, item 1).

Driven in a real pty that answers cursor-position requests, as tmux and real
terminals do (the hang after a flood only showed with one). The peers are a
paced chargen-like server (a network peer: it floods for as long as the test
needs) and the embedded lab's chargen (in this process: as fast as loopback
goes, so it reaches the transcript's cap). No timing is asserted: every wait
is pexpect's timeout.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable

import pytest

from netbench.lab import running
from tests.test_repl_pty import Peer, Terminal

pytest.importorskip("pexpect")


PATTERN = bytes(range(33, 127))


def flood_until_told(conn: socket.socket, peer: Peer) -> None:
    """Numbered chargen lines, about 2,500 a second, until ``peer.go`` (or 60 s); then a last line."""
    conn.settimeout(1.0)
    count = 0
    deadline = time.monotonic() + 60
    try:
        while not peer.go.is_set() and time.monotonic() < deadline:
            burst = b"".join(
                b"flood %06d " % (count + i) + PATTERN[(count + i) % 94 :][:60] + b"\r\n" for i in range(50)
            )
            conn.sendall(burst)
            count += 50
            time.sleep(0.02)
        conn.sendall(b"END-OF-FLOOD after %d lines\r\n" % count)
        conn.settimeout(10)
        while conn.recv(4096):  # until the REPL closes
            pass
    except OSError:
        pass


def test_a_flood_is_coalesced_paused_tailed_closed_and_ctrl_d_quits(term: Callable[..., Terminal]) -> None:
    peer = Peer(flood_until_told)
    label = f"127.0.0.1:{peer.port}"
    t = term(label)
    t.expect("(over 100 lines or 16 KiB a second: the rest is counted")
    t.expect("(Ctrl-C pauses)")  # the one updating status line above the prompt
    t.line("/eol")  # the prompt answers while the flood goes on
    t.expect("line ending: crlf")
    t.line("/tail 2")
    t.expect("the last 2 lines of")
    t.expect("flood ")
    t.keys("\x03")  # Ctrl-C on an empty line: pause this session's display
    t.expect("display paused")
    t.expect("not shown since")  # the status line, now saying it is paused
    peer.go.set()  # the peer stops; its last line arrives while the display is paused
    t.line("/wait END-OF-FLOOD 10")  # (the last line arrives after go: /tail must not look before it)
    t.line("/tail 1")
    t.expect("END-OF-FLOOD after")  # nothing was lost: the transcript has what was not shown
    t.line("/close")
    t.expect(f"{label} closed")
    t.prompt("netbench")
    t.keys("\x04")
    assert t.exit_status() == 0
    peer.close()
    assert b"^C" not in t.raw  # Ctrl-C reached the REPL as a key, not the terminal as a signal


@pytest.mark.parametrize("leave", ["\x04", "/quit\r"], ids=["ctrl-d", "quit"])
def test_leaving_in_the_middle_of_a_flood(term: Callable[..., Terminal], leave: str) -> None:
    peer = Peer(flood_until_told)
    t = term(f"127.0.0.1:{peer.port}")
    t.expect("(over 100 lines or 16 KiB a second")
    t.keys(leave)
    assert t.exit_status() == 0
    peer.go.set()
    peer.close()


def test_lab_chargen_fills_the_transcript_then_close_and_quit(term: Callable[..., Terminal]) -> None:
    t = term()
    t.prompt("netbench")
    t.line("/lab chargen")
    t.expect("not shown: /tail or /save to see them\x1b[0m")  # the final count (not the status line's)
    t.expect("16.0 MiB received, the most a session keeps: reading stopped")
    t.expect("(full)")
    t.line("/tail 1")
    t.expect("the last 1 line of 16.0 MiB received")
    t.line("/close")
    t.expect("closed")
    t.prompt("netbench")
    t.line("/quit")
    assert t.exit_status() == 0


def ticking_echo(conn: socket.socket, peer: Peer) -> None:
    """A line every 50 ms (data is always arriving) and an echo of what comes in, until the REPL closes."""
    count = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            readable, _, _ = select.select([conn], [], [], 0.05)
            if not readable:
                conn.sendall(b"tick %d\r\n" % count)
                count += 1
                continue
            data = conn.recv(4096)
            if not data:
                return
            conn.sendall(data)
    except OSError:
        pass


def test_a_paused_session_shows_again_after_a_send(term: Callable[..., Terminal]) -> None:
    # Ctrl-C pauses the sessions whose data arrived within the last second: a peer that ticks keeps
    # that true however loaded the machine is (a one-off echo could be older than a second by then)
    peer = Peer(ticking_echo)
    label = f"127.0.0.1:{peer.port}"
    t = term(label)
    t.prompt(label)
    t.expect("tick ")
    t.keys("\x03")  # data is arriving: Ctrl-C pauses the display
    t.expect("display paused")
    t.line("hidden while paused")
    t.expect("hidden while paused\x1b[0;90m\\r\\n")  # a send resumes the display: its answer shows
    t.keys("\x04")
    assert t.exit_status() == 0
    peer.close()


def test_quit_does_not_wait_behind_a_running_command(term: Callable[..., Terminal]) -> None:
    with running("http") as lab:
        t = term(f"127.0.0.1:{lab['http'].port}")
        t.prompt(f"127.0.0.1:{lab['http'].port}")
        t.line("/wait never-arrives 60")  # a command that would run for a minute
        t.expect("running /wait")  # (the toolbar says so)
        t.line("/quit")
        assert t.exit_status() == 0  # within pexpect's timeout, not after the minute
