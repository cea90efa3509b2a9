"""Telnet (RFC 854) sans-IO: separate data from IAC commands, name them, and negotiate.

In a telnet stream the byte IAC (255) starts a command: ``IAC WILL|WONT|DO|DONT
OPTION`` negotiates an option (RFC 854's "DO I, WILL I"), ``IAC SB OPTION ...
IAC SE`` carries option data (a terminal type, a window size), ``IAC IAC`` is
a data byte 255, and a few two-byte commands (NOP, GA, AYT, ...) stand alone.

:class:`TelnetParser` turns bytes into :class:`Data`, :class:`Command`,
:class:`Negotiation` and :class:`Subnegotiation` events, whatever the
split; each event's ``str()`` is its name (``IAC WILL ECHO``).
:class:`Negotiator` answers negotiations as a client like ``ncat -t`` does:
it refuses what it does not support and agrees to the basics (the server
echoing, suppress-go-ahead; optionally terminal type and window size),
never answering a request for the state it is already in (no loops).
Nothing here does I/O.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from netbench.core.escape import escape

IAC, DONT, DO, WONT, WILL, SB, GA, EL, EC, AYT, AO, IP, BRK, DM, NOP, SE = range(255, 239, -1)
COMMANDS = {
    IAC: "IAC",
    DONT: "DONT",
    DO: "DO",
    WONT: "WONT",
    WILL: "WILL",
    SB: "SB",
    GA: "GA",
    EL: "EL",
    EC: "EC",
    AYT: "AYT",
    AO: "AO",
    IP: "IP",
    BRK: "BRK",
    DM: "DM",
    NOP: "NOP",
    SE: "SE",
}
"""Command byte -> name (RFC 854)."""

BINARY, ECHO, SGA, STATUS, TIMING_MARK = 0, 1, 3, 5, 6
TTYPE, NAWS, TSPEED, LFLOW, LINEMODE, XDISPLOC, NEW_ENVIRON = 24, 31, 32, 33, 34, 35, 39
OPTIONS = {
    BINARY: "BINARY",
    ECHO: "ECHO",
    SGA: "SUPPRESS-GO-AHEAD",
    STATUS: "STATUS",
    TIMING_MARK: "TIMING-MARK",
    TTYPE: "TERMINAL-TYPE",
    NAWS: "NAWS",
    TSPEED: "TERMINAL-SPEED",
    LFLOW: "TOGGLE-FLOW-CONTROL",
    LINEMODE: "LINEMODE",
    XDISPLOC: "X-DISPLAY-LOCATION",
    NEW_ENVIRON: "NEW-ENVIRON",
}
"""Option code -> name (RFC 857, 858, 1091, 1073, ...)."""

RFCS = {BINARY: 856, ECHO: 857, SGA: 858, STATUS: 859, TIMING_MARK: 860, TTYPE: 1091, NAWS: 1073}
"""Option code -> the RFC that defines it."""

TTYPE_IS, TTYPE_SEND = 0, 1
MAX_SUBNEGOTIATION = 1024
"""Subnegotiation payload bytes kept; the rest of an over-long one is dropped."""


def option_name(option: int) -> str:
    """``1`` -> ``ECHO``; an unknown option -> its number."""
    return OPTIONS.get(option, str(option))


@dataclass(frozen=True)
class Data:
    """Plain data between commands (``IAC IAC`` already turned into one 255 byte)."""

    data: bytes

    def __str__(self) -> str:
        return escape(self.data)


@dataclass(frozen=True)
class Command:
    """A two-byte command such as ``IAC NOP`` or ``IAC GA``."""

    command: int

    def __str__(self) -> str:
        return f"IAC {COMMANDS.get(self.command, str(self.command))}"


@dataclass(frozen=True)
class Negotiation:
    """``IAC WILL|WONT|DO|DONT OPTION``."""

    verb: int
    option: int

    def __str__(self) -> str:
        return f"IAC {COMMANDS[self.verb]} {option_name(self.option)}"


@dataclass(frozen=True)
class Subnegotiation:
    """``IAC SB OPTION payload IAC SE`` (payload with ``IAC IAC`` undone, at most 1 KiB)."""

    option: int
    payload: bytes

    def __str__(self) -> str:
        name = option_name(self.option)
        if self.option == TTYPE and self.payload[:1] == bytes([TTYPE_SEND]):
            return f"IAC SB {name} SEND IAC SE"
        if self.option == TTYPE and self.payload[:1] == bytes([TTYPE_IS]):
            return f"IAC SB {name} IS {escape(self.payload[1:], keep_newlines=False)} IAC SE"
        if self.option == NAWS and len(self.payload) == 4:
            width, height = struct.unpack("!HH", self.payload)
            return f"IAC SB {name} {width}x{height} IAC SE"
        return f"IAC SB {name} {self.payload.hex(' ')} IAC SE".replace("  ", " ")


Event = Data | Command | Negotiation | Subnegotiation

_DATA, _IAC, _VERB, _SB_OPTION, _SB, _SB_IAC = range(6)
_DATA_RUN = re.compile(rb"[^\xff]*(?:\xff\xff[^\xff]*)*")  # data bytes and doubled IACs (a 255 each)


class TelnetParser:
    """Incremental IAC parser: :meth:`feed` returns the events completed by the bytes fed.

    Data is returned as it arrives (one :class:`Data` per run of data in a
    feed); commands come out whole, however they are split. Memory is
    bounded whatever the peer sends: a subnegotiation keeps at most
    :data:`MAX_SUBNEGOTIATION` payload bytes (one that never ends with
    ``IAC SE`` holds no more), and a command in pieces is at most its state.
    Work is linear: runs of data (doubled IACs included) and of payload are
    copied up to the next command in one C-level step.
    """

    def __init__(self) -> None:
        self._state = _DATA
        self._verb = 0
        self._option = 0
        self._payload = bytearray()

    def feed(self, data: bytes) -> list[Event]:
        """Parse *data*; return the events it completes, in order."""
        events: list[Event] = []
        run = bytearray()
        index, size = 0, len(data)
        while index < size:
            state = self._state
            if state == _DATA:  # data up to the next IAC that starts a command, at C speed
                matched = _DATA_RUN.match(data, index)  # always matches (maybe nothing)
                end = matched.end() if matched else index
                if end > index:
                    run += data[index:end].replace(b"\xff\xff", b"\xff")
                    index = end
                    continue
            byte = data[index]
            if state == _SB and byte != IAC:  # past the cap, the rest of an over-long payload is dropped
                found = data.find(b"\xff", index)
                stop = size if found < 0 else found
                self._payload += data[index : min(stop, index + MAX_SUBNEGOTIATION - len(self._payload))]
                index = stop
                continue
            index += 1
            if state == _DATA:  # an IAC that is not IAC IAC
                self._state = _IAC
            elif state == _SB:  # an IAC
                self._state = _SB_IAC
            elif state == _IAC:
                self._state = _DATA
                if byte == IAC:
                    run.append(IAC)
                elif byte in (WILL, WONT, DO, DONT):
                    self._verb, self._state = byte, _VERB
                elif byte == SB:
                    self._state = _SB_OPTION
                else:
                    self._flush(run, events)
                    events.append(Command(byte))
            elif state == _VERB:
                self._flush(run, events)
                events.append(Negotiation(self._verb, byte))
                self._state = _DATA
            elif state == _SB_OPTION:
                self._option, self._state = byte, _SB
                self._payload.clear()
            elif byte == SE:  # _SB_IAC
                self._flush(run, events)
                events.append(Subnegotiation(self._option, bytes(self._payload)))
                self._payload.clear()
                self._state = _DATA
            else:
                if byte == IAC and len(self._payload) < MAX_SUBNEGOTIATION:
                    self._payload.append(IAC)
                self._state = _SB  # IAC IAC inside SB is a 255; a stray IAC x is dropped
        self._flush(run, events)
        return events

    @staticmethod
    def _flush(run: bytearray, events: list[Event]) -> None:
        if run:
            events.append(Data(bytes(run)))
            run.clear()


def negotiation(verb: int, option: int) -> bytes:
    """``IAC verb option`` as bytes."""
    return bytes([IAC, verb, option])


def subnegotiation(option: int, payload: bytes) -> bytes:
    """``IAC SB option payload IAC SE`` with every 255 in *payload* doubled."""
    return bytes([IAC, SB, option]) + payload.replace(b"\xff", b"\xff\xff") + bytes([IAC, SE])


def quote_data(data: bytes) -> bytes:
    """Data as it goes on a telnet stream: every 255 byte doubled (``IAC IAC``)."""
    return data.replace(b"\xff", b"\xff\xff")


def describe(data: bytes) -> str:
    """*data* (a whole chunk) for a person: commands named, data escaped, one item per line."""
    return "\n".join(str(event) for event in TelnetParser().feed(data))


class Negotiator:
    """A client's side of option negotiation, like ``ncat -t`` but agreeing to the basics.

    :meth:`answer` takes a :class:`Negotiation` or :class:`Subnegotiation`
    from the server and returns the bytes to send back (``b""`` for none).
    The server may enable ECHO and SUPPRESS-GO-AHEAD (we say DO); we enable
    SUPPRESS-GO-AHEAD on our side, and TERMINAL-TYPE / NAWS when
    *terminal_type* / *window* are given; everything else is refused (DONT /
    WONT). A request for the state already in force is not answered (RFC
    854's rule against negotiation loops).
    """

    SERVER_MAY = frozenset({ECHO, SGA})
    WE_WILL = frozenset({SGA})

    def __init__(self, terminal_type: str | None = None, window: tuple[int, int] | None = None) -> None:
        self.terminal_type = terminal_type
        self.window = window
        self.his: dict[int, bool] = {}
        """Options the server has enabled on its side (WILL answered with DO)."""
        self.ours: dict[int, bool] = {}
        """Options we have enabled on our side (DO answered with WILL)."""

    def _we_will(self, option: int) -> bool:
        return (
            option in self.WE_WILL
            or (option == TTYPE and self.terminal_type is not None)
            or (option == NAWS and self.window is not None)
        )

    def answer(self, event: Negotiation | Subnegotiation) -> bytes:
        """The bytes to send in answer to *event* (``b""`` when no answer is due)."""
        if isinstance(event, Subnegotiation):
            if event.option == TTYPE and event.payload[:1] == bytes([TTYPE_SEND]) and self.terminal_type:
                return subnegotiation(
                    TTYPE, bytes([TTYPE_IS]) + self.terminal_type.encode("ascii", "replace")
                )
            return b""
        verb, option = event.verb, event.option
        if verb in (WILL, WONT):
            wanted = verb == WILL and option in self.SERVER_MAY
            if self.his.get(option, False) == wanted and option in self.his:
                return b""
            if verb == WONT and not self.his.get(option, False):
                self.his[option] = False
                return b""  # already off (or never on): acknowledging would start a loop
            self.his[option] = wanted
            return negotiation(DO if wanted else DONT, option)
        wanted = verb == DO and self._we_will(option)
        if self.ours.get(option, False) == wanted and option in self.ours:
            return b""
        if verb == DONT and not self.ours.get(option, False):
            self.ours[option] = False
            return b""
        self.ours[option] = wanted
        reply = negotiation(WILL if wanted else WONT, option)
        if wanted and option == NAWS and self.window is not None:
            reply += subnegotiation(NAWS, struct.pack("!HH", *self.window))
        return reply
