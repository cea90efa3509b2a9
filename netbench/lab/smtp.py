"""The lab's SMTP server (RFC 5321): a mail dialogue to learn by hand, messages kept in memory.

The dialogue: a ``220`` banner; ``EHLO`` (with extension lines) or
``HELO``; ``MAIL FROM:<a@b>``; one or more ``RCPT TO:<c@d>``; ``DATA``,
answered ``354``, then the message, ending with a line holding a lone ``.``
(a line starting with a dot has it doubled by the client and undone here,
RFC 5321 section 4.5.2); ``RSET``, ``NOOP``, ``VRFY`` (``252``), ``HELP``,
``QUIT``. A command out of order gets ``503``, bad arguments ``501``, an
unknown command ``500``, one not offered (AUTH, STARTTLS) ``502``.

Every message accepted goes to the server's :class:`Mailbox` (the last
:data:`MAX_MESSAGES`), whose listeners are called as each arrives
(``netbench lab`` prints it). Bounds: command lines of :data:`MAX_COMMAND`
bytes (longer ones get ``500`` and are skipped), messages of
:data:`MAX_MESSAGE` bytes (``552`` past it), :data:`MAX_RECIPIENTS` per message.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from netbench.core.reply_code import encode_reply
from netbench.lab.base import Connections, LabServer
from netbench.lab.shared import BufferedStream, per_server

HOSTNAME = "lab.test"
MAX_COMMAND = 2048
MAX_MESSAGE = 1024 * 1024
MAX_RECIPIENTS = 100
MAX_MESSAGES = 100
EXTENSIONS = (f"SIZE {MAX_MESSAGE}", "8BITMIME", "PIPELINING", "HELP")

_PATH = re.compile(r"\s*<([^<>\s]*)>(?:\s+(.*))?\s*$")


@dataclass(frozen=True)
class Mail:
    """A message as received: envelope, data (dot-stuffing undone, CRLF line ends kept), who sent it."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes
    helo: str
    peer: str
    number: int
    received: float


class Mailbox:
    """The messages one lab SMTP server has accepted, and who wants to hear of new ones."""

    def __init__(self) -> None:
        self.messages: deque[Mail] = deque(maxlen=MAX_MESSAGES)
        self.listeners: list[Callable[[Mail], object]] = []
        self.count = 0

    def deliver(self, mail: Mail) -> None:
        self.messages.append(mail)
        for listener in list(self.listeners):
            listener(mail)


def mailbox_of(server: LabServer) -> Mailbox:
    """The :class:`Mailbox` of a running smtp lab server (``server.name == "smtp"``)."""
    return per_server(server.connections, Mailbox)


def reply(code: int, *lines: str) -> bytes:
    return encode_reply(code, *lines)


class SmtpStream(BufferedStream):
    """One SMTP client connection."""

    max_buffer = 128 * 1024

    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.helo = ""
        self.sender: str | None = None
        self.recipients: list[str] = []
        self.in_data = False
        self.message = bytearray()
        self.too_big = False
        self.mid_line = False  # in DATA: the current line was taken in pieces (very long)
        self.skipping = False  # a command line too long: drop bytes up to its end

    def greet(self) -> None:
        self.send(reply(220, f"{HOSTNAME} ESMTP netbench-lab ready"))

    def process(self) -> None:
        out = bytearray()
        while not self.lingering and not self.write_paused:
            if self.in_data:
                if not self._data_line(out):
                    break
                continue
            end = self.buffer.find(b"\n")
            if end < 0:
                if len(self.buffer) > MAX_COMMAND:
                    self.buffer.clear()
                    if not self.skipping:
                        out += reply(500, "5.5.6 Line too long")
                    self.skipping = True
                break
            line = bytes(self.buffer[:end]).rstrip(b"\r")
            del self.buffer[: end + 1]
            if self.skipping:
                self.skipping = False
                continue
            if len(line) > MAX_COMMAND:
                out += reply(500, "5.5.6 Line too long")
                continue
            answer = self.command(line.decode("utf-8", "surrogateescape"))
            out += answer
            if answer.startswith(b"221"):
                self.send(bytes(out))
                self.close_gracefully()
                return
        if out:
            self.send(bytes(out))

    def overflow(self) -> None:
        self.send(reply(500, "5.5.6 Line too long"))
        self.close_gracefully()

    # -- commands ------------------------------------------------------------

    def reset(self) -> None:
        self.sender, self.recipients = None, []

    def command(self, line: str) -> bytes:
        verb, _, arg = line.strip().partition(" ")
        verb, arg = verb.upper(), arg.strip()
        if self.state.log is not None:
            self.note(f"smtp {verb[:16]!r}")
        handler = getattr(self, f"do_{verb.lower()}", None) if verb.isalpha() else None
        if handler is not None:
            result: bytes = handler(arg)
            return result
        if verb in ("AUTH", "STARTTLS", "EXPN", "TURN", "ETRN", "BDAT", "SEND", "SOML", "SAML"):
            return reply(502, "5.5.1 Command not implemented")
        return reply(500, "5.5.2 Syntax error, command unrecognized")

    def do_helo(self, arg: str) -> bytes:
        if not arg:
            return reply(501, "5.5.4 Syntax: HELO hostname")
        self.helo = arg
        self.reset()
        return reply(250, f"{HOSTNAME} greets {arg}")

    def do_ehlo(self, arg: str) -> bytes:
        if not arg:
            return reply(501, "5.5.4 Syntax: EHLO hostname")
        self.helo = arg
        self.reset()
        return reply(250, f"{HOSTNAME} greets {arg}", *EXTENSIONS)

    def do_mail(self, arg: str) -> bytes:
        if not self.helo:
            return reply(503, "5.5.1 Error: send HELO/EHLO first")
        if self.sender is not None:
            return reply(503, "5.5.1 Error: nested MAIL command")
        match = _PATH.match(arg[5:]) if arg[:5].upper() == "FROM:" else None
        if match is None:
            return reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
        for param in (match.group(2) or "").split():
            name, _, value = param.partition("=")
            if name.upper() == "SIZE" and value.isdigit() and int(value) > MAX_MESSAGE:
                return reply(552, "5.3.4 Message size exceeds fixed limit")
        self.sender = match.group(1)
        return reply(250, "2.1.0 Ok")

    def do_rcpt(self, arg: str) -> bytes:
        if self.sender is None:
            return reply(503, "5.5.1 Error: need MAIL command")
        match = _PATH.match(arg[3:]) if arg[:3].upper() == "TO:" else None
        if match is None or not match.group(1):
            return reply(501, "5.5.4 Syntax: RCPT TO:<address>")
        if len(self.recipients) >= MAX_RECIPIENTS:
            return reply(452, "4.5.3 Error: too many recipients")
        self.recipients.append(match.group(1))
        return reply(250, "2.1.5 Ok")

    def do_data(self, arg: str) -> bytes:
        if arg:
            return reply(501, "5.5.4 Syntax: DATA")
        if self.sender is None:
            return reply(503, "5.5.1 Error: need MAIL command")
        if not self.recipients:
            return reply(503, "5.5.1 Error: need RCPT command")
        self.in_data, self.too_big, self.mid_line = True, False, False
        self.message.clear()
        return reply(354, "End data with <CR><LF>.<CR><LF>")

    def do_rset(self, arg: str) -> bytes:
        if arg:
            return reply(501, "5.5.4 Syntax: RSET")
        self.reset()
        return reply(250, "2.0.0 Ok")

    def do_noop(self, arg: str) -> bytes:
        return reply(250, "2.0.0 Ok")

    def do_vrfy(self, arg: str) -> bytes:
        if not arg:
            return reply(501, "5.5.4 Syntax: VRFY address")
        return reply(252, "2.0.0 Cannot VRFY user, but will accept message and attempt delivery")

    def do_help(self, arg: str) -> bytes:
        return reply(
            214,
            "2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT",
            "2.0.0 Order: EHLO, MAIL FROM:<a@b>, RCPT TO:<c@d>, DATA, the message, a lone '.'",
        )

    def do_quit(self, arg: str) -> bytes:
        return reply(221, f"2.0.0 {HOSTNAME} closing connection")

    # -- DATA --------------------------------------------------------------------

    def _keep(self, piece: bytes) -> None:
        if len(self.message) + len(piece) > MAX_MESSAGE:
            self.too_big = True
        if not self.too_big:
            self.message += piece

    def _data_line(self, out: bytearray) -> bool:
        """Take one line (or a piece of a very long one) of the message; False when none is whole."""
        end = self.buffer.find(b"\n")
        if end < 0:
            if len(self.buffer) > MAX_COMMAND:  # a very long line: keep it in pieces
                piece = bytes(self.buffer[:-1])
                del self.buffer[:-1]
                if not self.mid_line and piece.startswith(b"."):
                    piece = piece[1:]
                self._keep(piece)
                self.mid_line = True
            return False
        line = bytes(self.buffer[: end + 1])
        del self.buffer[: end + 1]
        if not self.mid_line:
            if line.rstrip(b"\r\n") == b".":
                out += self._finish()
                return True
            if line.startswith(b"."):
                line = line[1:]
        self.mid_line = False
        self._keep(line)
        return True

    def _finish(self) -> bytes:
        self.in_data = False
        if self.too_big:
            self.reset()
            return reply(552, "5.3.4 Error: message too big")
        mailbox = per_server(self.state, Mailbox)
        mailbox.count += 1
        assert self.sender is not None
        mail = Mail(
            self.sender,
            tuple(self.recipients),
            bytes(self.message),
            self.helo,
            self.peer,
            mailbox.count,
            time.time(),
        )
        self.reset()
        self.message.clear()
        mailbox.deliver(mail)
        return reply(250, f"2.0.0 Ok: queued as {mail.number}")


def render_mail(mail: Mail) -> str:
    """A received message for the terminal: a header line, the message (escaped), an end line."""
    from netbench.core.escape import escape

    recipients = ", ".join(f"<{escape_address(r)}>" for r in mail.recipients)
    head = (
        f"--- mail {mail.number} from <{escape_address(mail.sender)}> to {recipients} "
        f"({len(mail.data)} bytes, {mail.peer})"
    )
    body = escape(mail.data)
    if body and not body.endswith("\n"):
        body += "\n"
    return f"{head}\n{body}--- end of mail {mail.number}\n"


def escape_address(text: str) -> str:
    """An address from the envelope, terminal-safe."""
    from netbench.core.escape import escape_text

    return escape_text(text)


def mail_json(mail: Mail) -> str:
    """One JSON line for a received message (``netbench lab --json``)."""
    import json

    data = mail.data.decode("utf-8", "surrogateescape")
    return json.dumps(
        {
            "mail": {
                "number": mail.number,
                "from": mail.sender,
                "to": list(mail.recipients),
                "helo": mail.helo,
                "peer": mail.peer,
                "size": len(mail.data),
                "data": data.encode("utf-8", "backslashreplace").decode("utf-8"),
            }
        }
    )


def show_mail(servers: Iterable[LabServer], stream: TextIO, *, as_json: bool = False) -> None:
    """Write each message the smtp servers among *servers* accept to *stream*, as it arrives.

    Human form: :func:`render_mail` (peer bytes escaped); with *as_json*, one
    JSON line per message (:func:`mail_json`). Call from the lab's event loop.
    """

    def write(mail: Mail) -> None:
        stream.write(mail_json(mail) + "\n" if as_json else render_mail(mail))
        stream.flush()

    for server in servers:
        if server.name == "smtp":
            mailbox_of(server).listeners.append(write)
