"""The REPL a learner cannot get stuck in (issue 12, items 2-5): scripted runs against real peers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench.lab import Lab, running
from tests.support.cli import run_main


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("http", "echo", "daytime") as started:
        yield started


def repl(script: str, *args: str) -> tuple[int, str, str]:
    return run_main(["repl", *args], stdin=script, state_dir=Path("/nonexistent-netbench-state"))


def test_sending_after_the_peer_closed_is_refused_not_sent(lab: Lab) -> None:
    # '/wait NEVER' ends when the session is finished, not on the date's bytes (the close comes after them)
    status, out, err = repl("/wait NEVER 5\nhello\n/send x\n", f"127.0.0.1:{lab['daytime'].port}")
    assert status == 0
    assert "connection closed by peer" in out
    assert err.count("error: [1] closed by peer; /open to reconnect") == 2
    assert "-> hello" not in out  # refused before it is echoed or sent


def test_a_half_closing_peer_is_closed_by_peer_too() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    got = bytearray()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            conn.sendall(b"bye\r\n")
            conn.shutdown(socket.SHUT_WR)
            try:
                while data := conn.recv(100):
                    got.extend(data)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    status, _out, err = repl("/wait NEVER 5\nlate\n", f"127.0.0.1:{listener.getsockname()[1]}")
    thread.join(10)
    listener.close()
    assert status == 0
    assert "closed by peer; /open to reconnect" in err
    assert bytes(got) == b""


def test_wait_after_eof_waits_for_what_the_peer_sends_after_the_eof() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:  # echoes one line, then answers our end-of-file with a last line
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            got = b""
            while not got.endswith(b"\n"):
                got += conn.recv(100)
            conn.sendall(got)
            while conn.recv(100):
                pass
            conn.sendall(b"bye after eof\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    status, out, err = repl("hello\n/wait hello 5\n/eof\n/wait 5\n", f"127.0.0.1:{listener.getsockname()[1]}")
    thread.join(10)
    listener.close()
    assert status == 0, err
    after_eof = out.split("write side shut down", 1)[1]
    assert after_eof.index("<- bye after eof") < after_eof.index("(wait: data arrived)")  # not "hello" again


def test_a_mistyped_command_suggests_the_nearest_and_a_short_prefix_lists_candidates() -> None:
    status, _out, err = repl("/opne 127.0.0.1 1\n/qiut\n/se\n/zzz\n/help sesions\n/OPEN\n/r on\n")
    assert status == 0
    assert "error: unknown command /opne: did you mean /open?" in err
    assert "error: unknown command /qiut: did you mean /quit?" in err
    assert "error: ambiguous command /se: /send, /services, /sessions, /set" in err
    assert "error: unknown command /zzz (see /help)" in err
    assert "error: unknown command /sesions: did you mean /sessions?" in err
    assert "usage: /open TARGET" in err  # /OPEN is /open: command names are not case-sensitive
    assert "error: ambiguous command /r: /raw, /resp" in err  # /r once meant /raw: neither runs now


def test_a_udp_refusal_is_said_once_until_a_datagram_is_answered_again() -> None:
    import asyncio
    import io

    from netbench.core.address import parse_target
    from netbench.net.tls import TLSOptions
    from netbench.repl.context import PlainPrinter, Settings
    from netbench.repl.sessions import Sessions
    from netbench.repl.toolbar import prompt, toolbar
    from netbench.repl.waiting import wait

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a UDP port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out, errors = io.StringIO(), io.StringIO()
    sessions = Sessions(PlainPrinter(out, errors), Settings())

    async def refused_then(conv: object, data: bytes) -> None:
        await sessions.send(conv, data, echo=False)  # type: ignore[arg-type]
        await wait(conv, None, 5)  # type: ignore[arg-type]  # (the refusal ends the wait)

    async def main() -> list[str]:
        conv = await sessions.open(
            parse_target([f"udp://127.0.0.1:{port}"]), timeout=5, tls=TLSOptions(), family=0
        )
        seen = []
        await refused_then(conv, b"one")
        await refused_then(conv, b"two")
        seen.append(conv.state)
        seen.append("".join(text for _style, text in toolbar(_Repl(sessions))))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:  # now something answers
            server.bind(("127.0.0.1", port))
            server.settimeout(5)
            await sessions.send(conv, b"three", echo=False)
            _data, peer = await asyncio.to_thread(server.recvfrom, 100)
            server.sendto(b"answer", peer)
            await wait(conv, None, 5)
            seen.append(conv.state)
        await refused_then(conv, b"four")
        seen.append(conv.state)
        seen.append("".join(text for _style, text in prompt(_Repl(sessions))))
        await sessions.close_all()
        return seen

    seen = asyncio.run(main())
    assert seen[0] == "refused (ICMP)" and "refused (ICMP)" in seen[1]
    assert seen[2] == "ready"
    assert seen[3] == "refused (ICMP)" and "(refused (ICMP))" in seen[4]
    assert (
        errors.getvalue().count("datagram refused (ICMP port unreachable") == 2
    )  # once, then again after an answer
    assert "answer" in out.getvalue()


class _Repl:
    """What the toolbar and prompt read from the REPL."""

    def __init__(self, sessions: object) -> None:
        from netbench.repl.context import Settings

        self.sessions = sessions
        self.settings = Settings()
        self.busy = None


def test_an_unfinished_request_head_gets_a_hint_after_two_seconds_a_finished_one_none(lab: Lab) -> None:
    target = f"127.0.0.1:{lab['http'].port}"
    status, out, err = repl("GET / HTTP/1.1\nHost: x\n/wait 3\n", target)
    assert status == 0
    assert "-> Host: x\\r\\n\nrequest head not finished: an empty line ends it\n" in out
    assert "timed out after 3 s waiting for a reply" in err
    status, out, _err = repl("GET / HTTP/1.1\nHost: x\n\n/wait 3\n", target)
    assert status == 0
    assert "HTTP/1.1 200 OK" in out and "not finished" not in out


def test_a_bare_get_is_named_http_0_9_and_the_lab_answers_in_words(lab: Lab) -> None:
    status, out, _err = repl("GET /\n/wait 3\n", f"127.0.0.1:{lab['http'].port}")
    assert status == 0
    assert "-> GET /\\r\\n\n'GET /' with no version is an HTTP/0.9 request (1991)" in out
    assert "type 'GET / HTTP/1.1', 'Host: NAME', an empty line" in out
    assert "bytearray" not in out
    assert "request head not finished" not in out  # a 0.9 request has no head to finish


def test_line_endings_are_shown_both_ways_and_raw_shows_exact_bytes(lab: Lab) -> None:
    script = (
        "PING\n/wait PING 3\n/eol lf\nlf line\n/wait lf 3\n/send part\n/wait part 3\n"
        "/eol crlf off\nno marks\n/wait marks 3\n/raw on\n/send 'a\\tb \\r\\n'\n/wait b 3\n"
    )
    status, out, err = repl(script, f"127.0.0.1:{lab['echo'].port}")
    assert status == 0, err
    assert "-> PING\\r\\n\n<- PING\\r\\n\n" in out  # typed lines echoed as sent; the ending shown
    assert "-> lf line\\n\n<- lf line\\n\n" in out
    assert "<- part\n" in out  # no line ending arrived: no marker
    assert "line ending: crlf (endings of received lines: hidden)" in out
    assert "<- no marks\n" in out
    assert "<- a\\tb \\r\\n\n" in out  # /raw: every byte as it came, for any protocol


def test_repl_help_has_examples_and_every_lab_service_without_importing_the_lab() -> None:
    import subprocess
    import sys

    from netbench.lab.catalog import SERVICES

    status, out, _err = run_main(["repl", "--help"], state_dir=Path("/nonexistent-netbench-state"))
    assert status == 0
    assert (
        "examples:" in out and "netbench repl --lab http" in out and "netbench repl udp://127.0.0.1:7" in out
    )
    listed = out.split("lab services", 1)[1].split("\n")[1]
    assert [name.strip() for name in listed.split(",")] == list(SERVICES)
    code = "\n".join(
        [
            "import sys",
            "from netbench.cli import main",
            "main(['repl', '--help'])",
            "print('netbench.lab' in sys.modules)",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.stdout.rstrip().endswith("False")  # --help stays light: the lab is not imported
