"""The lab's SMTP server against Python's smtplib and a raw socket (RFC 5321), and `netbench lab`."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from netbench.core.reply_code import Reply, ReplyParser
from netbench.lab import Lab, running
from netbench.lab import smtp as lab_smtp
from netbench.lab.smtp import Mail, mailbox_of
from tests.support.sockets import read_until_eof

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("smtp") as servers:
        yield servers


def last_mail(lab: Lab) -> Mail:
    return mailbox_of(lab["smtp"]).messages[-1]


class Dialogue:
    """A raw client that reads whole replies with the project's reply parser."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.parser = ReplyParser()

    def read(self, count: int = 1) -> list[Reply]:
        got: list[Reply] = []
        while True:
            got += self.parser.replies()
            if len(got) >= count:
                return got
            chunk = self.sock.recv(65536)
            assert chunk, f"closed after {got}"
            self.parser.feed(chunk)

    def say(self, line: bytes) -> Reply:
        self.sock.sendall(line + b"\r\n")
        return self.read()[0]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def talk(lab: Lab) -> Iterator[Dialogue]:
    dialogue = Dialogue(lab["smtp"].port)
    assert dialogue.read()[0].code == 220
    yield dialogue
    dialogue.close()


def test_smtplib_delivers_a_message_with_dot_stuffing(lab: Lab) -> None:
    body = "Subject: hello\r\n\r\nfirst line\r\n.starts with a dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n"
    with smtplib.SMTP("127.0.0.1", lab["smtp"].port, timeout=TIMEOUT) as client:
        code, banner = client.ehlo("client.test")
        assert code == 250 and banner.startswith(b"lab.test greets client.test")
        assert client.has_extn("size") and client.esmtp_features["size"] == str(lab_smtp.MAX_MESSAGE)
        assert client.has_extn("8bitmime") and client.has_extn("pipelining")
        refused = client.sendmail("alice@client.test", ["bob@lab.test", "carol@lab.test"], body)
        assert refused == {}
        assert client.verify("bob") == (
            252,
            b"2.0.0 Cannot VRFY user, but will accept message and attempt delivery",
        )
        assert client.noop()[0] == 250
    mail = last_mail(lab)
    assert mail.sender == "alice@client.test"
    assert mail.recipients == ("bob@lab.test", "carol@lab.test")
    assert mail.helo == "client.test"
    assert mail.data == body.encode()  # smtplib stuffed the dots; the server undid it


def test_smtplib_helo_and_send_message(lab: Lab) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@x.test", "b@lab.test", "hi"
    message.set_content("héllo\n")
    with smtplib.SMTP("127.0.0.1", lab["smtp"].port, timeout=TIMEOUT) as client:
        assert client.helo("old.client")[0] == 250
        client.send_message(message)
    mail = last_mail(lab)
    assert mail.recipients == ("b@lab.test",) and b"Subject: hi" in mail.data


def test_commands_out_of_order_get_503_and_bad_arguments_501(talk: Dialogue) -> None:
    assert talk.say(b"MAIL FROM:<a@b>").code == 503  # no HELO yet
    assert talk.say(b"EHLO").code == 501
    assert talk.say(b"EHLO me").code == 250
    assert talk.say(b"RCPT TO:<b@c>").code == 503  # no MAIL yet
    assert talk.say(b"DATA").code == 503
    assert talk.say(b"MAIL FROM: a@b").code == 501
    assert talk.say(b"MAIL FROM:<a@b>").code == 250
    assert talk.say(b"MAIL FROM:<a@b>").code == 503  # nested
    assert talk.say(b"DATA").code == 503  # no RCPT yet
    assert talk.say(b"RCPT TO:<>").code == 501
    assert talk.say(b"RCPT TO:<b@c>").code == 250
    assert talk.say(b"DATA now").code == 501
    assert talk.say(b"RSET").code == 250
    assert talk.say(b"RCPT TO:<b@c>").code == 503  # RSET forgot the MAIL
    assert talk.say(b"VRFY").code == 501
    assert talk.say(b"XYZZY").code == 500
    assert talk.say(b"AUTH PLAIN AGFiYwB4").code == 502
    assert talk.say(b"STARTTLS").code == 502
    help_reply = talk.say(b"HELP")
    assert help_reply.code == 214 and len(help_reply.lines) == 2


def test_pipelined_dialogue_in_one_write_and_quit(lab: Lab) -> None:
    dialogue = Dialogue(lab["smtp"].port)
    wire = (
        b"EHLO pipe\r\nMAIL FROM:<p@x> SIZE=10\r\nRCPT TO:<q@y>\r\nDATA\r\n"
        b"Subject: piped\r\n\r\nbody\r\n.\r\nQUIT\r\n"
    )
    dialogue.sock.sendall(wire)
    codes = [reply.code for reply in dialogue.read(7)]
    assert codes == [220, 250, 250, 250, 354, 250, 221]
    assert read_until_eof(dialogue.sock) == b""  # closed after 221
    dialogue.close()
    assert last_mail(lab).data == b"Subject: piped\r\n\r\nbody\r\n"


def test_size_limits(talk: Dialogue, monkeypatch: pytest.MonkeyPatch) -> None:
    talk.say(b"EHLO me")
    assert talk.say(b"MAIL FROM:<a@b> SIZE=%d" % (lab_smtp.MAX_MESSAGE + 1)).code == 552
    monkeypatch.setattr(lab_smtp, "MAX_MESSAGE", 1000)
    talk.say(b"MAIL FROM:<a@b>")
    talk.say(b"RCPT TO:<c@d>")
    assert talk.say(b"DATA").code == 354
    talk.sock.sendall(b"x" * 500 + b"\r\n" + b"y" * 600 + b"\r\n")
    assert talk.say(b".").code == 552
    assert talk.say(b"NOOP").code == 250  # the dialogue goes on


def test_an_endless_command_line_gets_500_and_the_dialogue_goes_on(talk: Dialogue) -> None:
    talk.sock.sendall(b"EHLO " + b"x" * 100_000)
    assert talk.read()[0].code == 500
    talk.sock.sendall(b"tail of the long line\r\nNOOP\r\n")
    # the rest of the long line is skipped, not answered: the next reply is NOOP's
    assert talk.read()[0] == Reply(250, ("2.0.0 Ok",))


def test_a_very_long_data_line_is_kept_whole(lab: Lab, talk: Dialogue) -> None:
    talk.say(b"HELO me")
    talk.say(b"MAIL FROM:<a@b>")
    talk.say(b"RCPT TO:<c@d>")
    talk.say(b"DATA")
    long_line = b"." + b"z" * 300_000 + b"\r\n"
    assert talk.say(long_line + b".").code == 250
    assert last_mail(lab).data == long_line[1:]


def test_garbage_and_resets_leave_the_server_serving(lab: Lab) -> None:
    port = lab["smtp"].port
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(os.urandom(5000) + b"\r\nQUIT\r\n")
        data = read_until_eof(sock)
        assert data.startswith(b"220 ") and b"221 " in data
    reset = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    reset.sendall(b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\npartial")
    reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    reset.close()
    with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT) as client:
        assert client.noop()[0] == 250


def test_the_mailbox_keeps_the_last_messages(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    box = lab_smtp.Mailbox()
    for number in range(lab_smtp.MAX_MESSAGES + 5):
        box.deliver(Mail("a", ("b",), b"x", "h", "p", number, 0.0))
    assert len(box.messages) == lab_smtp.MAX_MESSAGES and box.messages[0].number == 5


def read_lines_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    stdout = process.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stdout:
            lines.put(line)
            if marker in line:
                break

    threading.Thread(target=pump, daemon=True).start()
    got: list[str] = []
    while not got or marker not in got[-1]:
        try:
            got.append(lines.get(timeout=TIMEOUT))
        except queue.Empty:
            process.kill()
            pytest.fail(f"no {marker!r} in {got}")
    return got


@pytest.mark.parametrize("as_json", [False, True])
def test_netbench_lab_prints_each_message_as_it_arrives(as_json: bool) -> None:
    args = [sys.executable, "-m", "netbench", "lab", "smtp", *(["--json"] if as_json else [])]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if as_json:
            port = json.loads(first)["services"][0]["port"]
        else:
            found = re.search(r"127\.0\.0\.1:(\d+)", process.stdout.readline())
            assert found is not None
            port = int(found.group(1))
        with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT) as client:
            client.sendmail("a@x.test", ["b@lab.test"], "Subject: seen\r\n\r\nhello \x1b[2J there\r\n")
        if as_json:
            line = read_lines_until(process, '"mail"')[-1]
            mail = json.loads(line)["mail"]
            assert (mail["from"], mail["to"], mail["number"]) == ("a@x.test", ["b@lab.test"], 1)
            assert "hello \x1b[2J there" in mail["data"] and "\x1b" not in line
        else:
            text = "".join(read_lines_until(process, "--- end of mail 1"))
            assert "--- mail 1 from <a@x.test> to <b@lab.test>" in text
            assert "Subject: seen" in text and "hello \\x1b[2J there" in text and "\x1b" not in text
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0 and stderr == ""
