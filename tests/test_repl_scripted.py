"""The REPL driven from a script on stdin (not a terminal): same commands, plain output."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench.lab import Lab, running
from tests.support.cli import run_main


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("http", "echo", "daytime") as started:
        yield started


def repl(script: str, *args: str, state: Path | None = None) -> tuple[int, str, str]:
    return run_main(["repl", *args], stdin=script, state_dir=state or Path("/nonexistent-netbench-state"))


def test_http_typed_by_hand_get_wait_and_explain(lab: Lab) -> None:
    port = lab["http"].port
    script = (
        "GET /index.html HTTP/1.1\nHost: localhost\n\n/wait\n"
        "/set p /json\n/get ${p} Accept: application/json\n/explain\n"
    )
    status, out, err = repl(script, "127.0.0.1", str(port))
    assert status == 0, err
    assert "-> GET /index.html HTTP/1.1\\r\\n\n-> Host: localhost\\r\\n\n-> \\r\\n\n" in out
    assert "<- HTTP/1.1 200 OK\n" in out
    assert "   <html><body>hello world</body></html>\n" in out
    assert "-> GET /json HTTP/1.1\\r\\n" in out and "-> Accept: application/json\\r\\n" in out
    assert "application/json" in out
    assert "200 OK: The request succeeded" in out and "RFC 9110 §8.3" in out  # Content-Type explained
    assert err == ""


def test_raw_on_shows_the_wire_bytes_and_head_has_no_body(lab: Lab) -> None:
    status, out, _ = repl("/raw on\n/http HEAD /index.html\n", f"127.0.0.1:{lab['http'].port}")
    assert status == 0
    assert "HTTP/1.1 200 OK\\r\\n" in out  # the wire view, CR LF visible
    assert "hello world" not in out


def test_errors_are_reported_and_the_script_goes_on(lab: Lab) -> None:
    script = (
        "hello\n/nope\n/use 7\n/open 127.0.0.1 notaport\n"
        f"/open 127.0.0.1 {lab['echo'].port}\nstill here\n/wait here\n"
    )
    status, out, err = repl(script)
    assert status == 0
    assert "error: no session" in err
    assert "error: unknown command /nope" in err
    assert "error: no session 7" in err
    assert "unknown port or service 'notaport'" in err
    assert "<- still here\\r\\n\n" in out


def test_error_messages_are_escaped_once() -> None:
    status, _out, err = repl("/bad\\x\n/esc\x1b[2J\n")
    assert status == 0
    assert "error: unknown command /bad\\x (see /help)" in err  # a typed backslash, not doubled
    assert "error: unknown command /esc\\x1b[2J (see /help)" in err  # a raw ESC, escaped
    assert "\x1b" not in err


def test_send_escapes_slash_lines_eol_and_wait_regex(lab: Lab) -> None:
    script = (
        '/send "a\\x00b\\r\\n"\n/wait b 5\n//etc/passwd\n/wait passwd 5\n'
        "/eol lf\nlf only\n/wait only 5\n/wait never-there 0.2\n"
    )
    status, out, err = repl(script, f"tcp://127.0.0.1:{lab['echo'].port}")
    assert status == 0
    assert "<- a\\x00b\\r\\n\n" in out
    assert "<- /etc/passwd\\r\\n\n" in out
    assert "-> lf only\\n\n" in out
    assert "timed out after 0.2 s waiting for /never-there/" in err


def test_udp_echo_and_hex(lab: Lab) -> None:
    status, out, _ = repl("/hex on\nAB\n/wait\n", f"udp://127.0.0.1:{lab['echo'].port}")
    assert status == 0
    assert "<- 00000000  41 42 0d 0a" in out


def test_peer_close_is_announced_and_sessions_listed(lab: Lab) -> None:
    port = lab["daytime"].port
    # the second /wait ends when the peer closes: nothing more can match
    status, out, err = repl("/wait\n/wait never-matches 10\n/sessions\n", "127.0.0.1", str(port))
    assert status == 0
    assert "connection closed by peer" in out
    assert "is closed by peer: nothing more will arrive" in err
    assert "closed by peer" in out.split("connection closed by peer")[1]  # /sessions shows the state


def test_lab_option_and_command(lab: Lab) -> None:
    status, out, err = repl("/get /index.html\n/lab\n", "--lab", "http")
    assert status == 0, err
    assert "lab http listening on 127.0.0.1:" in out
    assert "hello world" in out
    assert "echo" in out.split("lab services:")[1]


def test_bad_target_is_a_usage_error() -> None:
    status, _out, err = repl("", "127.0.0.1", "notaport")
    assert status == 2
    assert err.startswith("netbench: ") and err.count("\n") == 1


def test_stdin_pipe_in_a_subprocess_exits_0(lab: Lab) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "netbench", "repl", f"127.0.0.1:{lab['http'].port}"],
        input=b"/get /index.html\n/quit\n",
        capture_output=True,
        timeout=30,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    assert result.returncode == 0, result.stderr
    assert b"hello world" in result.stdout


def test_save_writes_a_recipe_that_replays(lab: Lab, tmp_path: Path) -> None:
    pytest.importorskip("netbench.recipe.record")
    recipe = tmp_path / "hello.recipe.yaml"
    status, out, err = repl(f"/lab http\n/get /index.html\n/save {recipe}\n")
    assert status == 0, err
    assert f"saved {recipe}" in out
    text = recipe.read_text()
    assert "lab: http" in text and "hello world" in text
    replayed, replay_out, replay_err = run_main(["replay", str(recipe)])
    assert replayed == 0, replay_out + replay_err


def test_tool_commands_services_and_scan(lab: Lab) -> None:
    port = lab["echo"].port
    status, out, err = repl(f"/services http\n/scan 127.0.0.1 -p {port}\n")
    assert status == 0, err
    assert "80/tcp" in out
    assert f"{port}/tcp" in out and "open" in out


def test_an_unreachable_target_ends_a_script_with_its_status() -> None:
    from tests.support.peers import free_port

    status, _out, err = repl("never sent\n", "127.0.0.1", str(free_port()))
    assert status == 3
    assert "connection refused" in err


def test_a_refused_udp_datagram_is_reported_and_the_session_goes_on() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a UDP port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, out, err = repl("one\n/wait 5\ntwo\n/wait 5\n/sessions\n", f"udp://127.0.0.1:{port}")
    assert status == 0
    assert f"[1] ready: datagrams go to 127.0.0.1:{port} (udp, no connection)" in out
    assert "connected" not in out and "connecting" not in out
    assert err.count("datagram refused (ICMP port unreachable") == 1  # said once, not per datagram
    assert "-> one\\r\\n\n(wait: datagram refused)\n-> two\\r\\n\n(wait: datagram refused)\n" in out
    assert f"udp://127.0.0.1:{port}        refused (ICMP) sent 10 B" in out


def test_eof_half_closes_and_further_sends_are_refused(lab: Lab) -> None:
    status, out, err = repl("last line\n/wait line\n/eof\n/wait\nmore\n", f"127.0.0.1:{lab['echo'].port}")
    assert status == 0
    assert "<- last line\\r\\n\n" in out
    assert "write side shut down" in out
    assert "connection closed by peer" in out  # echo closes once it reads our EOF
    assert "the write side is shut down (/eof)" in err


def test_tls_session_verified_with_a_cafile(tmp_path: Path) -> None:
    import socket
    import ssl
    import threading

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        with listener, context.wrap_socket(listener.accept()[0], server_side=True) as conn:
            conn.settimeout(10)
            conn.sendall(b"secure " + conn.recv(100))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    status, out, err = repl("over tls\n/wait over\n", f"tls://127.0.0.1:{port}", "--cafile", str(cafile))
    thread.join(10)
    assert status == 0, err
    assert "TLS TLSv1" in out and "certificate:" in out
    assert "<- secure over tls\\r\\n\n" in out


def test_on_off_switches_set_show_and_refuse_other_words() -> None:
    status, out, err = repl("/time on\n/time\n/raw\n/hex yes\n/time maybe\n/raw off\n")
    assert status == 0
    assert out.count("timestamps: on") == 2
    assert "raw: off" in out and "hex: on" in out
    assert "/time takes on or off" in out + err
