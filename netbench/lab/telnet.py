"""The lab's telnet server: option negotiation (RFC 854, 857, 858, 1073, 1091), a login, a tiny shell.

On connecting, the server sends ``IAC WILL ECHO``, ``IAC WILL
SUPPRESS-GO-AHEAD``, ``IAC DO NAWS`` and ``IAC DO TERMINAL-TYPE``, then a
banner and ``login: ``. It echoes what is typed only once the client has
agreed (``IAC DO ECHO``), and never the password; a client that does not
negotiate at all (netcat, a recipe) gets no echo. When the client agrees to
send its terminal type the server asks for it (``IAC SB TERMINAL-TYPE SEND
IAC SE``); window sizes (NAWS) are noted. Any other option is refused once
(``WONT``/``DONT``); nothing is answered twice, so negotiation cannot loop.

Log in as ``guest``, password ``guest`` (three wrong tries close the
connection). The shell knows ``help``, ``date``, ``whoami`` and ``quit``
(also ``exit``, ``logout``, Ctrl-D on an empty line). Lines end with CR LF,
CR NUL or LF; backspace/DEL, ``IAC EC`` and ``IAC EL`` edit the line, ``IAC
AYT`` is answered. Lines are capped at :data:`MAX_LINE` bytes.
"""

from __future__ import annotations

import time

from netbench.core import telnet
from netbench.core.telnet import (
    DO,
    DONT,
    ECHO,
    NAWS,
    SGA,
    TTYPE,
    TTYPE_IS,
    TTYPE_SEND,
    WILL,
    WONT,
    Command,
    Data,
    Negotiation,
    Subnegotiation,
    TelnetParser,
    negotiation,
    quote_data,
    subnegotiation,
)
from netbench.lab.base import Connections
from netbench.lab.shared import BufferedStream

USER, PASSWORD = "guest", "guest"
MAX_LINE = 1024
MAX_TRIES = 3
GREETING = negotiation(WILL, ECHO) + negotiation(WILL, SGA) + negotiation(DO, NAWS) + negotiation(DO, TTYPE)
"""What the server sends first: the four negotiations, in this order."""
BANNER = b"\r\nnetbench lab telnet server (log in as guest, password guest)\r\n\r\n"
HELP = b"commands: help, date, whoami, quit\r\n"

PENDING, ON, OFF, REFUSED = "pending", "on", "off", "refused"


class TelnetStream(BufferedStream):
    """One telnet session: negotiation, login, shell."""

    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.parser = TelnetParser()
        self.ours = {ECHO: PENDING, SGA: PENDING}  # options we offered (WILL) on our side
        self.his = {NAWS: PENDING, TTYPE: PENDING}  # options we asked (DO) the client to enable
        self.terminal = ""
        self.window: tuple[int, int] | None = None
        self.line = bytearray()
        self.after_cr = False
        self.phase = "login"  # login -> password -> shell
        self.user = ""
        self.tries = 0
        self.out = bytearray()

    # -- plumbing ------------------------------------------------------------------

    def greet(self) -> None:
        self.send(GREETING + BANNER + b"login: ")

    def process(self) -> None:
        data = bytes(self.buffer)
        self.buffer.clear()
        for event in self.parser.feed(data):
            if self.lingering or self.transport.is_closing():
                return
            if isinstance(event, Negotiation):
                self.negotiate(event)
            elif isinstance(event, Subnegotiation):
                self.subnegotiate(event)
            elif isinstance(event, Command):
                self.command(event.command)
            elif isinstance(event, Data):
                self.typed(event.data)
        self.flush()

    def flush(self) -> None:
        if self.out:
            self.send(bytes(self.out))
            self.out.clear()

    def write(self, text: bytes) -> None:
        """Queue data for the client (255 bytes doubled)."""
        self.out += quote_data(text)

    @property
    def echoing(self) -> bool:
        return self.ours[ECHO] == ON and self.phase != "password"

    # -- negotiation -------------------------------------------------------------------

    def negotiate(self, event: Negotiation) -> None:
        verb, option = event.verb, event.option
        if self.state.log is not None:
            self.note(f"telnet {event}")
        if verb in (DO, DONT):
            state = self.ours.get(option)
            wanted = verb == DO
            if state is None:  # not an option we offer: refuse once, then ignore
                self.ours[option] = REFUSED
                if wanted:
                    self.out += negotiation(WONT, option)
            elif state == REFUSED:
                return
            elif state == PENDING:
                self.ours[option] = ON if wanted else OFF  # the answer to our WILL
            elif (state == ON) != wanted:
                self.ours[option] = ON if wanted else OFF
                self.out += negotiation(WILL if wanted else WONT, option)
            return
        state = self.his.get(option)
        wanted = verb == WILL
        if state is None:
            self.his[option] = REFUSED
            if wanted:
                self.out += negotiation(DONT, option)
        elif state == REFUSED:
            return
        elif state == PENDING or (state == ON) != wanted:
            if state != PENDING:
                self.out += negotiation(DO if wanted else DONT, option)
            self.his[option] = ON if wanted else OFF
            if wanted and option == TTYPE:
                self.out += subnegotiation(TTYPE, bytes([TTYPE_SEND]))

    def subnegotiate(self, event: Subnegotiation) -> None:
        if event.option == TTYPE and event.payload[:1] == bytes([TTYPE_IS]):
            self.terminal = event.payload[1:65].decode("ascii", "replace")
        elif event.option == NAWS and len(event.payload) == 4:
            self.window = (event.payload[0] << 8 | event.payload[1], event.payload[2] << 8 | event.payload[3])

    def command(self, code: int) -> None:
        if code == telnet.AYT:
            self.write(b"\r\n[netbench lab: yes, still here]\r\n")
        elif code == telnet.EC:
            self.erase()
        elif code in (telnet.EL, telnet.IP):
            self.line.clear()
            if code == telnet.IP:
                self.write(b"^C\r\n")
                self.prompt()

    # -- typing ------------------------------------------------------------------

    def erase(self) -> None:
        if self.line:
            self.line.pop()
            if self.echoing:
                self.write(b"\b \b")

    def typed(self, data: bytes) -> None:
        for byte in data:
            if self.lingering:
                return
            if self.after_cr:
                self.after_cr = False
                if byte in (0, 10):
                    continue  # CR LF and CR NUL are one end of line
            if byte in (13, 10):
                self.after_cr = byte == 13
                if self.echoing:
                    self.write(b"\r\n")
                line = bytes(self.line)
                self.line.clear()
                self.enter(line.decode("utf-8", "replace").strip())
            elif byte in (8, 127):
                self.erase()
            elif byte == 3:
                self.line.clear()
                self.write(b"^C\r\n")
                self.prompt()
            elif byte == 4 and not self.line and self.phase == "shell":
                self.enter("logout")
            elif byte >= 32 and len(self.line) < MAX_LINE:
                self.line.append(byte)
                if self.echoing:
                    self.write(bytes([byte]))

    def prompt(self) -> None:
        if self.phase == "login":
            self.write(b"login: ")
        elif self.phase == "password":
            self.write(b"Password: ")
        else:
            self.write(f"{self.user}@lab:~$ ".encode())

    def enter(self, line: str) -> None:
        if self.phase == "login":
            if line:
                self.user, self.phase = line, "password"
        elif self.phase == "password":
            if self.ours[ECHO] == ON:
                self.write(b"\r\n")  # the Enter after the password was not echoed
            if self.user == USER and line == PASSWORD:
                self.phase = "shell"
                self.write(b"Welcome to the netbench lab. Type 'help' for the commands.\r\n")
            else:
                self.tries += 1
                self.phase = "login"
                self.write(b"Login incorrect\r\n")
                if self.tries >= MAX_TRIES:
                    self.bye()
                    return
        else:
            if self.run(line):
                return
        self.prompt()

    def run(self, line: str) -> bool:
        """Run one shell command; True when the session ends."""
        word = line.split()[0] if line.split() else ""
        if self.state.log is not None and word:
            self.note(f"telnet shell {word[:16]!r}")
        if word == "help":
            self.write(HELP)
        elif word == "date":
            self.write(time.strftime("%a %b %e %H:%M:%S %Z %Y").encode("ascii", "replace") + b"\r\n")
        elif word == "whoami":
            self.write(self.user.encode("utf-8", "replace") + b"\r\n")
        elif word in ("quit", "exit", "logout"):
            self.write(b"logout\r\n")
            self.bye()
            return True
        elif word:
            shown = word[:64].encode("utf-8", "replace")
            self.write(b"-sh: " + shown + b": command not found (try 'help')\r\n")
        return False

    def bye(self) -> None:
        self.flush()
        self.close_gracefully()
