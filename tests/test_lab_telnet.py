"""The lab's telnet server over a raw socket: the IAC bytes of the negotiation, login, shell."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator

import pytest

from netbench.core import telnet
from netbench.core.telnet import (
    DO,
    DONT,
    ECHO,
    NAWS,
    SGA,
    TTYPE,
    WILL,
    WONT,
    Data,
    Negotiation,
    Negotiator,
    Subnegotiation,
    TelnetParser,
    negotiation,
)
from netbench.lab import Lab, running
from netbench.lab.telnet import GREETING
from tests.support.sockets import read_until_eof

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("telnet") as servers:
        yield servers


class Raw:
    """A client that does not negotiate at all (as netcat or a recipe)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.data = b""

    def until(self, marker: bytes) -> bytes:
        while marker not in self.data:
            chunk = self.sock.recv(65536)
            assert chunk, f"closed; got {self.data!r}"
            self.data += chunk
        end = self.data.index(marker) + len(marker)
        got, self.data = self.data[:end], self.data[end:]
        return got

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(lab: Lab) -> Iterator[Raw]:
    client = Raw(lab["telnet"].port)
    yield client
    client.close()


def login(client: Raw) -> None:
    client.until(b"login: ")
    client.send(b"guest\r\n")
    client.until(b"Password: ")
    client.send(b"guest\r\n")
    client.until(b"guest@lab:~$ ")


def test_the_server_opens_with_the_four_negotiations(raw: Raw) -> None:
    first = raw.until(b"login: ")
    assert first.startswith(b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f\xff\xfd\x18")
    assert first.startswith(GREETING)
    events = TelnetParser().feed(first)
    assert [str(e) for e in events[:4]] == [
        "IAC WILL ECHO",
        "IAC WILL SUPPRESS-GO-AHEAD",
        "IAC DO NAWS",
        "IAC DO TERMINAL-TYPE",
    ]
    assert isinstance(events[4], Data) and b"guest" in events[4].data


def test_login_and_shell_without_negotiating_get_no_echo(raw: Raw) -> None:
    login(raw)
    raw.send(b"whoami\r\n")
    assert raw.until(b"guest@lab:~$ ") == b"guest\r\nguest@lab:~$ "  # no echo of "whoami"
    raw.send(b"help\n")
    assert raw.until(b"$ ").startswith(b"commands: help, date, whoami, quit\r\n")
    raw.send(b"date\r\x00")
    assert re.match(rb"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}\r\n", raw.until(b"$ "))
    raw.send(b"rm -rf /\r\n")
    assert raw.until(b"$ ").startswith(b"-sh: rm: command not found")
    raw.send(b"quit\r\n")
    assert raw.until(b"logout\r\n") == b"logout\r\n"
    assert read_until_eof(raw.sock) == b""


def test_wrong_passwords(raw: Raw) -> None:
    for _ in range(2):
        raw.until(b"login: ")
        raw.send(b"guest\r\nwrong\r\n")
        assert raw.until(b"Login incorrect\r\n").endswith(b"Password: Login incorrect\r\n")
    raw.until(b"login: ")
    raw.send(b"root\r\nguest\r\n")
    raw.until(b"Login incorrect\r\n")
    assert read_until_eof(raw.sock) == b""  # three strikes


def test_a_negotiating_client_gets_echo_and_is_asked_its_terminal(lab: Lab) -> None:
    client = Raw(lab["telnet"].port)
    policy = Negotiator(terminal_type="XTERM", window=(100, 30))
    parser = TelnetParser()
    answers = b"".join(
        policy.answer(e) for e in parser.feed(client.until(b"login: ")) if not isinstance(e, Data)
    )
    assert answers == (
        negotiation(DO, ECHO)
        + negotiation(DO, SGA)
        + negotiation(WILL, NAWS)
        + b"\xff\xfa\x1f\x00\x64\x00\x1e\xff\xf0"
        + negotiation(WILL, TTYPE)
    )
    client.send(answers)
    request = client.until(b"\xff\xf0")
    assert parser.feed(request) == [Subnegotiation(TTYPE, b"\x01")]  # SB TERMINAL-TYPE SEND
    client.send(policy.answer(Subnegotiation(TTYPE, b"\x01")))
    client.send(b"guest\r\n")
    assert client.until(b"Password: ") == b"guest\r\nPassword: "  # the server echoes the name
    client.send(b"guest\r\n")
    assert (
        client.until(b"$ ")
        == b"\r\nWelcome to the netbench lab. Type 'help' for the commands.\r\nguest@lab:~$ "
    )
    client.send(b"whox\x7fami\r\n")  # a typo, erased with DEL
    assert client.until(b"$ ") == b"whox\b \bami\r\nguest\r\nguest@lab:~$ "
    client.close()


def test_refused_and_unknown_options_are_answered_once(raw: Raw) -> None:
    raw.until(b"login: ")
    raw.send(
        negotiation(DONT, ECHO)  # refuse our WILL ECHO: no answer due
        + negotiation(DO, telnet.LINEMODE)  # an option we do not offer: WONT, once
        + negotiation(DO, telnet.LINEMODE)
        + negotiation(WILL, telnet.NEW_ENVIRON)  # one we did not ask for: DONT, once
        + negotiation(WILL, telnet.NEW_ENVIRON)
        + negotiation(WONT, NAWS)  # refuse our DO NAWS: no answer due
        + b"\xff\xf6"  # IAC AYT
    )
    got = raw.until(b"still here]\r\n")
    assert got.startswith(
        negotiation(WONT, telnet.LINEMODE) + negotiation(DONT, telnet.NEW_ENVIRON) + b"\r\n["
    )
    raw.send(b"guest\r\n")
    assert raw.until(b"Password: ") == b"Password: "  # echo refused: none


def test_events_decode_a_whole_session(raw: Raw) -> None:
    login(raw)
    raw.send(b"\xff\xf4")  # IAC IP: interrupt
    assert raw.until(b"$ ") == b"^C\r\nguest@lab:~$ "
    raw.send(b"\x04")  # Ctrl-D on an empty line
    assert raw.until(b"logout\r\n") == b"logout\r\n"


def test_garbage_long_lines_and_resets_leave_the_server_serving(lab: Lab) -> None:
    port = lab["telnet"].port
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(os.urandom(20_000) + b"x" * 100_000 + b"\xff\xfa\x18" + b"y" * 100_000)
        sock.sendall(b"\xff\xf0\r\n")
        sock.settimeout(TIMEOUT)
        assert sock.recv(100).startswith(GREETING)
    reset = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    reset.sendall(b"gue")
    reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    reset.close()
    client = Raw(port)
    login(client)
    client.close()


def test_a_long_line_is_capped(raw: Raw) -> None:
    login(raw)
    raw.send(b"y" * 5000 + b"\r\n")
    answer = raw.until(b"$ ")
    assert answer.startswith(b"-sh: " + b"y" * 64 + b": command not found")
    assert not any(isinstance(e, Negotiation) for e in TelnetParser().feed(answer))
