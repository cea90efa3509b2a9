"""The REPL speaks the lab's protocols (issue 14, items 6-9): /resp, /dns, /smtp, the decoded view
of RESP, DNS and telnet, telnet:// negotiation, /explain for DNS and telnet.

Sans-IO tests of the pure parts (protoview, smtp_next) and the REPL against the embedded lab,
scripted (stdin not a terminal) and in a pty (pexpect). Every wait has a timeout.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netbench.core import dns, telnet
from netbench.lab import Lab, running
from netbench.repl import protoview
from netbench.repl.commands_proto import smtp_next
from netbench.repl.view import plain
from tests.support.cli import run_main

IAC_WILL_ECHO = bytes([telnet.IAC, telnet.WILL, telnet.ECHO])


def repl(script: str, *args: str) -> tuple[int, str, str]:
    return run_main(["repl", *args], stdin=script, state_dir=Path("/nonexistent-netbench-state"))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("redis", "dns", "smtp", "telnet", "echo") as started:
        yield started


# -- sans-IO: the decoded view ------------------------------------------------------------------------


def test_resp_is_decoded_only_on_a_session_that_speaks_redis() -> None:
    watch = protoview.Watch()
    assert watch.decode(b"+OK POP3 ready\r\n", udp=False) is None  # a POP3 greeting is not Redis
    watch.on_sent(b"SET a 1\r\n")  # a typed Redis command marks the session
    assert watch.protocol == "resp"
    decoded = watch.decode(b"*2\r\n$1\r\n1\r\n:7\r\n", udp=False)
    assert decoded is not None
    shown = plain(protoview.fragments(decoded))
    assert shown == '<- array of 2\n     1) bulk string "1"\n     2) integer 7\n'
    assert watch.decode(b"$5\r\nhel", udp=False) is None  # incomplete: shown as it came
    assert watch.decode(b"hello\r\n", udp=False) is None


def test_quit_alone_does_not_make_a_session_redis() -> None:
    watch = protoview.Watch()
    watch.on_sent(b"QUIT\r\n")
    watch.on_sent(b"EHLO me\r\n")
    assert watch.protocol is None


def test_resp_values_from_a_peer_cannot_reach_the_terminal_raw() -> None:
    watch = protoview.Watch(protocol="resp")
    decoded = watch.decode(b"$8\r\n\x1b[2J\r\nab\r\n", udp=False)
    assert decoded is not None
    shown = plain(protoview.fragments(decoded))
    assert "\x1b" not in shown and "\r" not in shown
    assert "\\x1b[2J" in shown


def answer(name: str, qtype: str = "A", *, rcode: int = 0, records: tuple[dns.Record, ...] = ()) -> bytes:
    header = dns.Header(id=4242, qr=True, aa=True, rcode=rcode)
    question = dns.Question(dns.absolute(name), dns.type_number(qtype))
    return dns.encode_message(dns.Message(header, (question,), records))


def test_dns_datagram_is_decoded_and_a_query_or_text_is_not() -> None:
    record = dns.Record("lab.test.", dns.TYPES["A"], 300, dns.rdata_a("127.0.0.1"))
    decoded = protoview.Watch().decode(answer("lab.test", records=(record,)), udp=True)
    assert decoded is not None
    shown = plain(protoview.fragments(decoded))
    assert "status: NOERROR, id: 4242" in shown and "flags: qr aa rd;" in shown
    assert "lab.test.               300     IN  A     127.0.0.1" in shown
    assert protoview.Watch().decode(dns.build_query("lab.test", "A", 1), udp=True) is None  # echoed query
    assert protoview.Watch().decode(b"hello world, this is text\r\n", udp=True) is None


@pytest.mark.parametrize("split", range(1, 33))
def test_dns_over_tcp_needs_whole_length_prefixed_messages(split: int) -> None:
    framed = dns.frame_tcp(answer("nope.lab.test", rcode=3))
    assert len(framed) == 33
    watch = protoview.Watch(protocol="dns")
    assert watch.decode(framed[:split], udp=False) is None  # a part is shown as bytes, not guessed
    decoded = watch.decode(framed + framed, udp=False)
    assert decoded is not None and len(decoded.lines) == 2
    assert "status: NXDOMAIN" in decoded.lines[0].text


def test_telnet_negotiation_is_named_and_answered_only_in_telnet_mode() -> None:
    stream = IAC_WILL_ECHO + bytes([telnet.IAC, telnet.DO, telnet.NAWS]) + b"login: "
    shown_only = protoview.Watch().decode(stream, udp=False)
    assert shown_only is not None and shown_only.answer == b""
    assert [line.text for line in shown_only.lines[:2]] == ["IAC WILL ECHO", "IAC DO NAWS"]
    assert shown_only.lines[-1].text == protoview.NOT_ANSWERED  # how to get it answered, said once
    watch = protoview.Watch.for_telnet()
    decoded = watch.decode(stream, udp=False)
    assert decoded is not None
    assert decoded.answer == bytes([telnet.IAC, telnet.DO, telnet.ECHO, telnet.IAC, telnet.WONT, telnet.NAWS])
    assert watch.take_answer() == decoded.answer and watch.take_answer() == b""
    shown = plain(protoview.fragments(decoded))
    assert shown == ("<- IAC WILL ECHO\n-> IAC DO ECHO\n<- IAC DO NAWS\n-> IAC WONT NAWS\n<- login: \n"), (
        shown
    )
    assert watch.negotiated == ["<- IAC WILL ECHO", "-> IAC DO ECHO", "<- IAC DO NAWS", "-> IAC WONT NAWS"]


@pytest.mark.parametrize("split", range(1, 7))
def test_telnet_commands_split_across_reads_come_out_whole(split: int) -> None:
    stream = IAC_WILL_ECHO + bytes([telnet.IAC, telnet.WILL, telnet.SGA])
    watch = protoview.Watch.for_telnet()
    texts = []
    for part in (stream[:split], stream[split:]):
        decoded = watch.decode(part, udp=False)
        assert decoded is not None
        texts += [line.text for line in decoded.lines if line.marker == "<-"]
    assert texts == ["IAC WILL ECHO", "IAC WILL SUPPRESS-GO-AHEAD"]


def test_a_lying_telnet_peer_repeating_will_gets_one_answer() -> None:
    watch = protoview.Watch.for_telnet()
    decoded = watch.decode(IAC_WILL_ECHO * 50, udp=False)
    assert decoded is not None
    assert decoded.answer == bytes([telnet.IAC, telnet.DO, telnet.ECHO])  # no negotiation loop


# -- sans-IO: the SMTP hint -----------------------------------------------------------------------------


def test_smtp_next_walks_the_dialogue() -> None:
    greeting = b"220 lab.test ESMTP\r\n"
    assert smtp_next(b"", b"")[0].startswith("next: wait for the server's 220 greeting")
    assert smtp_next(b"", greeting)[0].startswith("next: EHLO")
    assert smtp_next(b"EHLO me\r\n", greeting + b"250 hi\r\n")[0].startswith("next: MAIL FROM:")
    assert smtp_next(b"EHLO me\r\n", greeting + b"501 no\r\n")[0].startswith("next: EHLO")  # refused
    sent = b"EHLO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
    replies = greeting + b"250 hi\r\n250 ok\r\n250 ok\r\n354 go\r\n"
    assert smtp_next(sent, replies)[0].startswith("next: type the message")
    sent += b"Subject: x\r\n\r\nRCPT TO:<in the body>\r\n.\r\n"
    assert smtp_next(sent, replies)[0] == "waiting: the message's final dot has no reply yet (/wait 5)"
    assert smtp_next(sent, replies + b"250 queued\r\n")[0].startswith("next: QUIT")
    assert smtp_next(b"MAIL FROM:<a@b>\r\n", greeting + b"503 EHLO first\r\n")[0].startswith("next: EHLO")
    assert "503: bad sequence of commands" in smtp_next(b"MAIL FROM:<a@b>\r\n", greeting + b"503 x\r\n")[-1]


def test_smtp_next_survives_a_peer_that_is_not_smtp() -> None:
    lines = smtp_next(b"EHLO me\r\n", b"\x00\xff" * 100 + b"\r\n")
    assert lines == [
        "waiting: EHLO has no reply yet (/wait 5)",
        "next: wait for the server's 220 greeting (/wait 220)",
        "  (RFC 5321 section 3.1)",
    ]


# -- the REPL against the lab (scripted) ----------------------------------------------------------------


def test_resp_command_sends_an_array_and_the_reply_is_decoded(lab: Lab) -> None:
    script = '/resp SET greeting "hello world"\n/wait 5\n/resp GET greeting\n/wait 5\n/resp NOSUCH\n/wait 5\n'
    status, out, err = repl(script, f"127.0.0.1:{lab['redis'].port}")
    assert status == 0, err
    assert "-> *3\\r\\n\n-> $3\\r\\n\n-> SET\\r\\n" in out
    assert '<- simple string "OK"' in out
    assert '<- bulk string "hello world"' in out
    assert "<- error \"ERR unknown command 'NOSUCH'" in out


def test_typed_redis_lines_still_go_as_typed_and_are_shown_decoded(lab: Lab) -> None:
    status, out, err = repl("INCR n\n/wait 5\n/raw on\nINCR n\n/wait 5\n", f"127.0.0.1:{lab['redis'].port}")
    assert status == 0, err
    assert "-> INCR n\\r\\n" in out
    assert "<- integer 1" in out
    assert "<- :2\\r\\n" in out  # /raw on: the bytes as they came


def test_dns_query_over_udp_and_over_tcp_against_the_lab(lab: Lab) -> None:
    port = lab["dns"].port
    script = "/dns A lab.test\n/wait 5\n/dns nope.lab.test MX\n/wait 5\n/dns lab.test\n/wait 5\n"
    status, out, err = repl(script, f"udp://127.0.0.1:{port}")
    assert status == 0, err
    assert "one datagram" in out and "status: NOERROR" in out and "IN  A     127.0.0.1" in out
    assert ";nope.lab.test.                 IN  MX" in out and "status: NXDOMAIN" in out
    ids = [line.split()[4].rstrip(":") for line in out.splitlines() if line.startswith("-> DNS query id")]
    assert len(ids) == 3 and len(set(ids)) > 1  # a fresh random id each time (all equal: 1 in 2**32)
    for query_id in ids:
        assert f"id: {query_id}" in out  # the answer carries the query's id
    status, out, err = repl("/dns AAAA lab.test\n/wait 5\n", f"127.0.0.1:{port}")
    assert status == 0, err
    assert "with its 2-byte length, over TCP" in out and "IN  AAAA  ::1" in out


def test_dns_usage_errors_are_one_line(lab: Lab) -> None:
    status, _out, err = repl(
        "/dns\n/dns BOGUS lab.test\n/dns A " + "x" * 70 + "\n", f"udp://127.0.0.1:{lab['dns'].port}"
    )
    assert status == 0
    assert "error: usage: /dns TYPE NAME (e.g. /dns A lab.test)" in err
    assert "error: unknown DNS record type 'BOGUS'" in err
    assert "must be 1 to 63 bytes" in err
    status, _out, err = repl("/dns A lab.test\n/resp PING\n/smtp\n")
    assert err.count("error: no session: /open HOST PORT first") == 3


def test_smtp_hint_follows_the_session(lab: Lab) -> None:
    script = "/wait 220 5\n/smtp\nEHLO me\n/wait HELP 5\n/smtp\n"
    status, out, err = repl(script, f"127.0.0.1:{lab['smtp'].port}")
    assert status == 0, err
    assert "next: EHLO client.example" in out
    assert "next: MAIL FROM:<you@example.org>" in out


# -- telnet:// --------------------------------------------------------------------------------------


def test_telnet_scheme_is_tcp_port_23_unless_given() -> None:
    from netbench.core.address import parse_target
    from netbench.errors import TargetError

    assert (parse_target("telnet://127.0.0.1").transport, parse_target("telnet://127.0.0.1").port) == (
        "tcp",
        23,
    )
    assert parse_target("telnet://[::1]:2323").port == 2323
    with pytest.raises(TargetError, match="says tcp but udp"):
        parse_target("telnet://127.0.0.1", "udp")


def negotiating_peer() -> tuple[socket.socket, threading.Thread, bytearray]:
    """A one-connection server: sends WILL ECHO and DO NAWS, then records what comes back for 6 bytes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    got = bytearray()

    def run() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            conn.sendall(IAC_WILL_ECHO + bytes([telnet.IAC, telnet.DO, telnet.NAWS]) + b"login: ")
            while len(got) < 6:
                data = conn.recv(100)
                if not data:
                    break
                got.extend(data)
            conn.sendall(b"bye\r\n")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread, got


@pytest.mark.parametrize("view", ["", "/hex on\n", "/raw on\n"])
def test_open_telnet_answers_negotiation_on_the_wire(view: str) -> None:
    listener, thread, got = negotiating_peer()
    with listener:
        port = listener.getsockname()[1]
        status, out, err = repl(f"{view}/open telnet://127.0.0.1:{port}\n/wait bye 5\n")
        thread.join(10)
    assert status == 0, err
    assert bytes(got) == bytes([telnet.IAC, telnet.DO, telnet.ECHO, telnet.IAC, telnet.WONT, telnet.NAWS])
    if not view:
        assert "<- IAC WILL ECHO\n-> IAC DO ECHO\n<- IAC DO NAWS\n-> IAC WONT NAWS\n<- login: \n" in out
        assert "\\xff" not in out
    else:  # the bytes as they came, as asked; the negotiation is answered all the same
        assert "ff fb 01 ff fd 1f" in out or "\\xff\\xfb\\x01" in out
        assert "-> 00000000  ff fd 01 ff fc 1f" in out  # what we answered, as bytes


def test_telnet_login_against_the_lab_and_plain_open_only_names_the_negotiation(lab: Lab) -> None:
    port = lab["telnet"].port
    script = "/wait login: 5\nguest\n/wait Password 5\nguest\n/wait '[$] ' 5\nwhoami\n/wait 'guest@' 5\n"
    status, out, err = repl(f"/open telnet://127.0.0.1:{port}\n" + script)
    assert status == 0, err
    assert "-> IAC DO SUPPRESS-GO-AHEAD" in out and "-> IAC WONT TERMINAL-TYPE" in out
    assert "<- Welcome to the netbench lab." in out and "<- guest\\r\\n" in out
    status, out, err = repl("/wait login: 5\n", f"127.0.0.1:{port}")
    assert status == 0, err
    assert "<- IAC DO TERMINAL-TYPE" in out and "-> IAC" not in out
    assert protoview.NOT_ANSWERED in out


def test_lab_telnet_opens_in_telnet_mode_and_the_login_works() -> None:
    script = "/wait login: 5\nguest\n/wait Password 5\nguest\n/wait '[$] ' 5\nwhoami\n/wait 'guest@' 5\n"
    status, out, err = repl("/lab telnet\n" + script)
    assert status == 0, err
    assert "-> IAC DO ECHO" in out and "-> IAC WONT TERMINAL-TYPE" in out
    assert protoview.NOT_ANSWERED not in out
    assert "<- guest\\r\\n" in out  # whoami answered: the login went through


# -- /explain for DNS and telnet ------------------------------------------------------------------------


def test_explain_a_dns_answer_its_rcode_and_flags(lab: Lab) -> None:
    port = lab["dns"].port
    script = "/dns MX nope.lab.test\n/wait 5\n/explain\n/dns TXT big.lab.test\n/wait 5\n/explain\n"
    status, out, err = repl(script, f"udp://127.0.0.1:{port}")
    assert status == 0, err
    assert "status NXDOMAIN (rcode 3): the name does not exist" in out
    assert "flag aa: authoritative answer" in out and "question: nope.lab.test. MX" in out
    assert "flag tc: truncated" in out and "next: ask again over TCP" in out
    status, out, err = repl("/dns A lab.test\n/wait 5\n/explain\n", f"127.0.0.1:{port}")  # over TCP
    assert status == 0, err
    assert "status NOERROR (rcode 0)" in out and "1 answer, 0 authority" in out


def test_explain_telnet_negotiation_with_the_rfcs(lab: Lab) -> None:
    status, out, err = repl(f"/open telnet://127.0.0.1:{lab['telnet'].port}\n/wait login: 5\n/explain\n")
    assert status == 0, err
    assert "IAC WILL ECHO: the sender offers to enable it on its side" in out
    assert "(RFC 857)" in out and "(RFC 858)" in out and "IAC DO NAWS: the sender asks you" in out


def test_explain_after_a_telnet_login_explains_the_negotiation_so_far(lab: Lab) -> None:
    script = "/wait login: 5\nguest\n/wait Password 5\nguest\n/wait '[$] ' 5\n/explain\n"
    status, out, err = repl(f"/open telnet://127.0.0.1:{lab['telnet'].port}\n" + script)
    assert status == 0, err
    assert "no explanation" not in err
    assert "the telnet option negotiation so far" in out
    assert "<- IAC WILL ECHO: the sender offers to enable it on its side" in out
    assert "-> IAC DO ECHO: we agree that the peer enables it" in out
    assert "-> IAC WONT TERMINAL-TYPE: we refuse it on our side" in out and "(RFC 1091)" in out
    status, out, err = repl(
        "/wait login: 5\nguest\n/wait Password 5\n/explain\n", f"127.0.0.1:{lab['telnet'].port}"
    )
    assert status == 0, err
    assert "<- IAC DO TERMINAL-TYPE: the sender asks you" in out and "(not answered: /open telnet://" in out


def test_explain_text_is_never_taken_for_dns() -> None:
    from netbench.repl import explain

    assert explain.dns_answer(b"220 lab.test ESMTP ready\r\n") is None
    assert explain.dns_answer("ÿÿ élan vital ünïcode\r\n".encode()) is None
    assert explain.telnet_negotiation(b"plain text") is None


# -- netbench connect --telnet ------------------------------------------------------------------------


def connect(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "netbench", "connect", *args], input=stdin, capture_output=True, timeout=30
    )


def test_connect_telnet_answers_on_the_wire_and_keeps_negotiation_off_stdout() -> None:
    listener, thread, got = negotiating_peer()
    with listener:
        port = listener.getsockname()[1]
        done = connect("--telnet", "-v", "-d", "-w", "5", "127.0.0.1", str(port))  # -d: no half-close
        thread.join(10)
    assert done.returncode == 0, done.stderr
    assert bytes(got) == bytes([telnet.IAC, telnet.DO, telnet.ECHO, telnet.IAC, telnet.WONT, telnet.NAWS])
    assert done.stdout == b"login: bye\r\n"
    err = done.stderr.decode()
    assert "telnet: <- IAC WILL ECHO\ntelnet: -> IAC DO ECHO\n" in err
    assert "telnet: <- IAC DO NAWS\ntelnet: -> IAC WONT NAWS\n" in err


def test_connect_telnet_url_logs_in_to_the_lab(lab: Lab) -> None:
    stdin = b"guest\r\nguest\r\nwhoami\r\nquit\r\n"
    done = connect("-q", "5", f"telnet://127.0.0.1:{lab['telnet'].port}", stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert b"\xff" not in done.stdout
    # The whole stdin goes at once: whether the server has our DO ECHO before it reads "whoami"
    # is a race (a person types after the negotiation), so the echo of the command may be missing;
    # its output after the shell prompt is not.
    assert re.search(rb"guest@lab:~\$ (whoami\r\n)?guest\r\n", done.stdout), done.stdout
    assert b"telnet:" not in done.stderr  # (named only with -v)


def test_connect_telnet_over_udp_is_a_usage_error() -> None:
    done = connect("--telnet", "-u", "127.0.0.1", "9")
    assert done.returncode == 2
    assert done.stderr.decode().strip().endswith("--telnet needs TCP (or TLS): telnet is a stream protocol")


# -- in a pty, typing as a learner would ----------------------------------------------------------------


def test_pty_resp_and_dns_against_the_lab(term: Callable[..., Any]) -> None:
    t = term()
    t.prompt("netbench")
    t.line("/lab redis")
    t.expect("connected to")
    t.line("/resp SET greeting hi")
    t.expect('simple string "OK"')  # (the marker <- is styled apart)
    t.line("/resp LPUSH l a b")
    t.expect("integer 2")
    t.line("/resp LRANGE l 0 -1")
    t.expect("array of 2")
    t.expect('1) bulk string "b"')
    t.line("/lab dns --udp")
    t.expect("(udp, no connection)")
    t.line("/dns A lab.test")
    t.expect("status: NOERROR")
    t.expect("127.0.0.1")
    t.line("/explain")
    t.expect("flag aa: authoritative answer")
    t.line("/quit")
    assert t.exit_status() == 0


def test_pty_telnet_login_with_the_negotiation_shown(term: Callable[..., Any], lab: Lab) -> None:
    port = lab["telnet"].port
    t = term()
    t.prompt("netbench")
    t.line(f"/open telnet://127.0.0.1:{port}")
    t.expect("IAC WILL ECHO")
    t.expect("IAC DO ECHO")
    t.expect("login: ")
    t.line("guest")
    t.expect("Password: ")
    t.line("guest")
    t.expect("guest@lab:~$ ")
    t.line("/smtp")  # a confused learner: the hint still answers, from what the session saw
    t.expect("next: wait for the server's 220 greeting")
    t.line("/quit")
    assert t.exit_status() == 0
    assert b"\xff" not in t.raw


def test_a_telnet_command_flood_is_counted_not_shown_line_by_line() -> None:
    nop = bytes([telnet.IAC, telnet.NOP])
    decoded = protoview.Watch.for_telnet().decode(IAC_WILL_ECHO + nop * 5000 + b"hi", udp=False)
    assert decoded is not None
    texts = [line.text for line in decoded.lines]
    assert texts == ["IAC WILL ECHO", "IAC DO ECHO", "IAC NOP (x5000)", "hi"]
    varied = b"".join(bytes([telnet.IAC, telnet.WONT, option]) for option in range(200))
    decoded = protoview.Watch().decode(varied, udp=False)
    assert decoded is not None and len(decoded.lines) == protoview.MAX_ITEMS + 2  # (+ the two notes)
    assert "136 more telnet items in this read not shown" in decoded.lines[-2].text


def test_sending_a_malformed_array_is_not_stopped_by_the_view() -> None:
    watch = protoview.Watch()
    watch.on_sent(b"*x\r\n$-5\r\n")
    watch.on_sent(b"*1\r\n$999999999999\r\n")
    assert watch.protocol is None
