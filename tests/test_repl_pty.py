"""The REPL driven in a real pseudo-terminal with pexpect, typing as a person would.

Peers are real: the embedded lab (in this process), nginx, and small
scripted TCP servers below. Every wait has a timeout; nothing is timed.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from netbench.lab import running  # noqa: E402

TIMEOUT = 10
CPR = re.compile(rb"\x1b\[6n")
ROWS, COLS = 40, 140


class Terminal:
    """A REPL in a pty. ``expect`` answers cursor-position requests like a real terminal."""

    def __init__(self, args: list[str], state: Path) -> None:
        env = dict(os.environ, TERM="xterm", XDG_STATE_HOME=str(state), COLUMNS=str(COLS), LINES=str(ROWS))
        env.pop("NO_COLOR", None)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "netbench", *args],
            env=env,
            dimensions=(ROWS, COLS),
            timeout=TIMEOUT,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        self.raw = bytearray()  # everything the REPL wrote to the terminal

    def _wait_for(self, pattern: object) -> bytes:
        """Wait for *pattern* (a regex or pexpect.EOF), answering cursor-position
        requests on the way; return what came before it. Everything seen goes to ``raw``."""
        before = bytearray()
        while True:
            index = self.child.expect([CPR, pattern])
            self.raw += self.child.before
            if isinstance(self.child.after, bytes):
                self.raw += self.child.after
            before += self.child.before
            if index == 0:
                self.child.send("\x1b[1;1R")
                continue
            return bytes(before)

    def expect(self, text: str | bytes) -> bytes:
        """Wait for *text* to appear; return what came before it."""
        needle = text.encode() if isinstance(text, str) else text
        return self._wait_for(re.compile(re.escape(needle)))

    def prompt(self, label: str) -> None:
        """Wait for the prompt ``label> `` (the terminal is in raw mode from then on)."""
        self.expect(f"{label}> ")

    def line(self, text: str) -> None:
        """Type *text* and Enter."""
        self.child.send(text + "\r")

    def keys(self, text: str) -> None:
        """Type *text* without Enter."""
        self.child.send(text)

    def exit_status(self) -> int:
        """Wait for the process to end; its exit status."""
        self._wait_for(pexpect.EOF)
        self.child.close()
        return int(self.child.exitstatus)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


class Peer:
    """A one-connection TCP server on 127.0.0.1 run by *script(conn, peer)* in a thread."""

    def __init__(self, script: Callable[[socket.socket, Peer], None]) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.go = threading.Event()
        self.script = script
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(TIMEOUT)
            self.script(conn, self)

    def read_until(self, conn: socket.socket, end: bytes) -> None:
        """Receive into ``received`` until it ends with *end* (or the deadline)."""
        while not self.received.endswith(end):
            data = conn.recv(4096)
            if not data:
                return
            self.received += data

    def close(self) -> None:
        self.listener.close()
        self.thread.join(TIMEOUT)


def test_http_typed_by_hand_then_get_and_explain_against_the_lab(term: Callable[..., Terminal]) -> None:
    with running("http") as lab:
        port = lab["http"].port
        t = term(f"127.0.0.1:{port}")
        label = f"127.0.0.1:{port}"
        t.prompt(label)
        t.line("GET /index.html HTTP/1.1")
        t.prompt(label)
        t.line("Host: localhost")
        t.prompt(label)
        t.line("")
        t.expect("HTTP/1.1 200 OK")
        t.expect("<html><body>hello world</body></html>")
        t.prompt(label)
        t.line("/get /json")
        t.expect("GET /json HTTP/1.1\\r\\n")  # the echo of what /get sent
        t.expect("HTTP/1.1 200 OK")
        t.expect("application/json")
        t.prompt(label)
        t.line("/explain")
        t.expect("200 OK: The request succeeded")
        t.expect("(RFC 9110 §8.3)")
        t.expect(" open ")  # the bottom toolbar: state, bytes each way, round-trip time
        t.expect("recv ")
        t.expect(" ms ")  # (drawn after the prompt: the prompt is up)
        t.line("/wait never-arrives 60")
        t.expect("running /wait never-arrives 60")  # (the toolbar: the command runs, Ctrl-C has one to stop)
        t.keys("\x03")  # Ctrl-C while a command runs: the command stops, the REPL stays
        t.expect("interrupted")
        t.prompt(label)
        t.keys("\x04")
        assert t.exit_status() == 0


@pytest.mark.nginx
def test_nginx_by_hand_and_get(term: Callable[..., Terminal], nginx: object) -> None:
    port = nginx.port  # type: ignore[attr-defined]
    label = f"127.0.0.1:{port}"
    t = term()
    t.prompt("netbench")
    t.line(f"/open 127.0.0.1 {port}")
    t.prompt(label)
    t.line("GET /index.html HTTP/1.1")
    t.prompt(label)
    t.line("Host: localhost")
    t.prompt(label)
    t.line("")
    t.expect("HTTP/1.1 200 OK")
    t.expect("Server: nginx")
    t.expect("hello world")
    t.prompt(label)
    t.line("/get /teapot")
    t.expect("HTTP/1.1 418")
    t.expect("short and stout")
    t.prompt(label)
    t.line("/quit")
    assert t.exit_status() == 0


def test_arrival_while_typing_keeps_the_line_then_ctrl_c_and_peer_close(
    term: Callable[..., Terminal],
) -> None:
    def script(conn: socket.socket, peer: Peer) -> None:
        peer.go.wait(TIMEOUT)
        conn.sendall(b"PUSHED-WHILE-TYPING\r\n")
        peer.read_until(conn, b"\n")  # the finished line
        peer.read_until(conn, b"second\r\n")  # after a Ctrl-C'd line
        conn.sendall(b"bye\r\n")

    peer = Peer(script)
    label = f"127.0.0.1:{peer.port}"
    t = term("127.0.0.1", str(peer.port))
    t.prompt(label)
    t.keys("hel")
    t.expect("hel")
    peer.go.set()
    t.expect("PUSHED-WHILE-TYPING")
    t.prompt(label)  # the prompt is redrawn below the arrival ...
    t.expect("hel")  # ... with the half-typed line
    t.keys("lo world\r")
    t.expect("-> ")
    t.expect("hello world\\r\\n")  # the typed line, echoed as sent
    t.prompt(label)
    t.keys("garbage that must not be sent")
    t.expect("be sent")
    t.keys("\x03")  # Ctrl-C clears the line, the REPL stays
    t.keys("second\r")
    t.expect("bye")
    t.expect("closed by peer")
    peer.close()
    assert bytes(peer.received) == b"hello world\r\nsecond\r\n"
    t.expect("(closed by peer)")
    t.expect("> ")
    t.line("/quit")
    assert t.exit_status() == 0


def test_escape_sequences_from_a_peer_never_reach_the_terminal(term: Callable[..., Terminal]) -> None:
    evil = "\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[31mRED\x1b[0m \u009b31m done\r\n".encode()

    def script(conn: socket.socket, peer: Peer) -> None:
        peer.read_until(conn, b"\n")
        conn.sendall(evil)
        peer.read_until(conn, b"bye\r\n")

    peer = Peer(script)
    label = f"127.0.0.1:{peer.port}"
    t = term(label)
    t.prompt(label)
    t.line("hi")
    t.expect("done")
    t.prompt(label)
    t.line("bye")
    t.expect("connection closed by peer")  # (the peer closes after bye: the prompt may say so before)
    t.line("/quit")
    assert t.exit_status() == 0
    peer.close()
    raw = bytes(t.raw)
    assert b"\\x1b]0;PWNED-TITLE\\x07" in raw  # shown, escaped
    for sequence in (b"\x1b]0;PWNED", b"\x07", b"\x1b[31mRED", b"\xc2\x9b"):
        assert sequence not in raw


def test_two_sessions_use_udp_echo_and_hex(term: Callable[..., Terminal]) -> None:
    with running("echo", "daytime") as lab:
        echo, daytime = lab["echo"].port, lab["daytime"].port
        t = term()
        t.prompt("netbench")
        t.line(f"/open udp://127.0.0.1:{echo}")
        t.prompt(f"udp://127.0.0.1:{echo}")
        t.line("ping over udp")
        t.expect("<- ")
        t.expect("ping over udp")
        t.prompt(f"udp://127.0.0.1:{echo}")
        t.line(f"/open 127.0.0.1 {echo}")
        t.prompt(f"127.0.0.1:{echo}")
        t.line("/hex on")
        t.prompt(f"127.0.0.1:{echo}")
        t.line("AB")
        t.expect("[2] ")
        t.expect("00000000  41 42 0d 0a")
        t.prompt(f"127.0.0.1:{echo}")
        t.line("/use 1")
        t.prompt(f"udp://127.0.0.1:{echo}")
        t.line("/hex off")
        t.prompt(f"udp://127.0.0.1:{echo}")
        t.line("back on one")
        t.expect("[1] ")
        t.expect("back on one")
        t.prompt(f"udp://127.0.0.1:{echo}")
        t.line("/sessions")
        t.expect(f"tcp://127.0.0.1:{echo}")
        t.prompt(f"udp://127.0.0.1:{echo}")
        t.line(f"/open 127.0.0.1 {daytime}")
        t.expect("closed by peer")
        t.expect("(closed by peer)")
        t.expect("> ")
        t.keys("\x04")
        assert t.exit_status() == 0


def test_history_survives_a_restart(term: Callable[..., Terminal]) -> None:
    first = term()
    first.prompt("netbench")
    first.line("/eol lf")
    first.expect("line ending: lf")
    first.prompt("netbench")
    first.keys("\x04")
    assert first.exit_status() == 0
    second = term()
    second.prompt("netbench")
    second.keys("\x1b[A")  # up arrow
    second.expect("/eol")  # (the command and its argument are coloured apart)
    second.expect("lf")
    second.keys("\r")
    second.expect("line ending: lf")
    second.prompt("netbench")
    second.line("/quit")
    assert second.exit_status() == 0


def test_a_failing_command_keeps_the_repl_running(term: Callable[..., Terminal]) -> None:
    t = term()
    t.prompt("netbench")
    t.line("hello")
    t.expect("no session")
    t.prompt("netbench")
    t.line("/open 127.0.0.1 notaport")
    t.expect("unknown port or service")
    t.prompt("netbench")
    t.keys("/ses\t")
    t.expect("sions")  # Tab completed /ses to /sessions
    t.keys("\r")
    t.expect("no sessions")
    t.prompt("netbench")
    t.keys("\x04")
    assert t.exit_status() == 0


def test_vi_keys(term: Callable[..., Terminal]) -> None:
    t = term("--vi")
    t.prompt("netbench")
    t.keys("/eol lfX")
    t.expect("lfX")
    t.keys("\x1b")  # Esc: normal mode, the cursor on the X
    t.keys("x")  # delete it, as vi does
    t.keys("\r")
    t.expect("line ending: lf")
    t.prompt("netbench")
    t.line("/quit")
    assert t.exit_status() == 0


def test_a_pasted_block_is_sent_line_by_line_with_the_line_ending(term: Callable[..., Terminal]) -> None:
    def script(conn: socket.socket, peer: Peer) -> None:
        peer.read_until(conn, b"\r\n\r\n")
        conn.sendall(b"got it\r\n")

    peer = Peer(script)
    label = f"127.0.0.1:{peer.port}"
    t = term(label)
    t.prompt(label)
    t.keys("\x1b[200~GET /json HTTP/1.1\nHost: localhost\n\x1b[201~")  # bracketed paste
    t.expect("localhost")
    t.keys("\r")  # Enter: the last line is empty, which ends the request
    t.expect("got it")
    peer.close()
    assert bytes(peer.received) == b"GET /json HTTP/1.1\r\nHost: localhost\r\n\r\n"
    t.expect("> ")  # (the peer may have closed by now: the prompt says so)
    t.line("/quit")
    assert t.exit_status() == 0
