"""Received data shown decoded when it is clearly a protocol: RESP, DNS, telnet (issue 14, item 6).

Pure functions and a small per-session state, no I/O. :class:`Watch`
remembers what a session is (marked by ``/resp``, ``/dns``, a typed Redis
command, ``telnet://``, or a telnet negotiation arriving) and
:meth:`Watch.decode` turns one chunk that arrived into display text:

* RESP replies as typed values (``bulk string "1"``, arrays indented), when
  the chunk is whole RESP values and the session speaks Redis;
* DNS messages as ``dig`` prints them (header flags, question, answers),
  a UDP datagram or, on a TCP session ``/dns`` used, whole length-prefixed
  messages;
* telnet IAC sequences named (``IAC WILL ECHO``), the data between them as
  text; on a ``telnet://`` session the :class:`~netbench.core.telnet.Negotiator`
  answers, and :class:`Decoded` carries the answer bytes for the caller to send.

Anything not clearly the protocol gives None and is shown as before. Text
from the peer is made terminal-safe here (the decoders escape it; the
result goes through :func:`~netbench.core.escape.scrub` as well).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from netbench.core import dns, resp, telnet
from netbench.core.escape import is_text, scrub
from netbench.errors import NetbenchError
from netbench.repl import view
from netbench.repl.view import Fragments

REDIS_WORDS = frozenset(
    [
        "PING",
        "ECHO",
        "SET",
        "GET",
        "DEL",
        "EXISTS",
        "INCR",
        "DECR",
        "INCRBY",
        "DECRBY",
        "EXPIRE",
        "PEXPIRE",
        "TTL",
        "PTTL",
        "KEYS",
        "LPUSH",
        "RPUSH",
        "LPOP",
        "RPOP",
        "LRANGE",
        "LLEN",
        "HSET",
        "HGET",
        "HDEL",
        "HGETALL",
        "FLUSHALL",
        "FLUSHDB",
        "AUTH",
        "SELECT",
        "INFO",
        "TYPE",
        "SETNX",
        "MGET",
        "MSET",
        "APPEND",
        "STRLEN",
        "SADD",
        "SMEMBERS",
        "SCARD",
        "ZADD",
        "ZRANGE",
        "DBSIZE",
        "HELLO",
        "CLIENT",
        "COMMAND",
    ]
)
"""First words that make a typed line a Redis command (QUIT is left out: SMTP and POP3 have it)."""

NOT_ANSWERED = "telnet negotiation (not answered here: /open telnet://HOST:PORT answers it as ncat -t does)"
MAX_ITEMS = 64
"""Telnet items (commands, runs of data) shown for one read; the rest are counted."""
TELNET_VERBS = frozenset({telnet.WILL, telnet.WONT, telnet.DO, telnet.DONT, telnet.SB})


@dataclass(frozen=True)
class Line:
    """One item to show: ``marker`` is ``<-`` (received) or ``->`` (our answer).

    ``text`` is safe (possibly several lines: one value, one message), except
    for ``data`` items, whose bytes (:func:`data_bytes`) the view escapes.
    """

    marker: str
    text: str
    kind: str = "decoded"  # "decoded" (a decoded item), "data" (text between telnet commands), "note"


@dataclass(frozen=True)
class Decoded:
    """One chunk decoded: what to show, and (telnet) the bytes to send back."""

    protocol: str
    lines: tuple[Line, ...]
    answer: bytes = b""


@dataclass
class Watch:
    """What one session is, for decoding: ``protocol`` is None, ``resp``, ``dns`` or ``telnet``."""

    protocol: str | None = None
    negotiator: telnet.Negotiator | None = None
    parser: telnet.TelnetParser = field(default_factory=telnet.TelnetParser)
    negotiated: list[str] = field(default_factory=list)
    """Every negotiation seen or sent, as named (``IAC WILL ECHO``), for /explain."""
    owed: bytearray = field(default_factory=bytearray)
    """Answers decoded but not yet sent (:meth:`take_answer`)."""

    @classmethod
    def for_telnet(cls) -> Watch:
        """A session opened as ``telnet://``: negotiations are answered as ``ncat -t`` does."""
        return cls(protocol="telnet", negotiator=telnet.Negotiator())

    def take_answer(self) -> bytes:
        """The negotiation answers owed to the peer since the last call (then forgotten)."""
        answer = bytes(self.owed)
        self.owed.clear()
        return answer

    def on_sent(self, data: bytes) -> None:
        """A line we sent: a Redis command (typed or RESP) marks the session as Redis."""
        if self.protocol is not None:
            return
        try:
            if data.startswith(b"*") and resp.parse_request(data) is not None:
                self.protocol = "resp"
                return
        except NetbenchError:  # not a well-formed array: never stands in the way of sending it
            return
        word = data.split(None, 1)[0] if data.strip() else b""
        if word.decode("ascii", "replace").upper() in REDIS_WORDS:
            self.protocol = "resp"

    def decode(self, data: bytes, *, udp: bool) -> Decoded | None:
        """*data* (one chunk, or one datagram for *udp*) decoded, or None when it is not clearly the protocol.

        A telnet session's parser sees every chunk (so negotiation is
        answered whatever is displayed); the other decoders are stateless
        and take only a chunk that is whole messages.
        """
        if self.protocol == "telnet" or (self.protocol is None and starts_telnet(data)):
            first = self.protocol is None
            self.protocol = "telnet"
            decoded = self._telnet(data)
            if first:  # not opened as telnet://: say once how to get the negotiation answered
                note = Line("", NOT_ANSWERED, "note")
                return Decoded("telnet", (*decoded.lines, note), decoded.answer)
            return decoded
        if self.protocol == "dns" or (udp and self.protocol is None and not is_text(data)):
            lines = dns_lines(data, framed=not udp)
            if lines is not None:
                self.protocol = "dns"
                return Decoded("dns", tuple(Line("<-", text) for text in lines))
            return None
        if self.protocol == "resp":
            lines = resp_lines(data)
            if lines is not None:
                return Decoded("resp", tuple(Line("<-", text) for text in lines))
        return None

    def _telnet(self, data: bytes) -> Decoded:
        lines: list[Line] = []
        answer = bytearray()
        for event in self.parser.feed(data):
            if isinstance(event, telnet.Data):
                lines.append(Line("<-", "", "data") if not event.data else _data_line(event.data))
                continue
            lines.append(Line("<-", scrub(str(event))))
            if isinstance(event, telnet.Negotiation):
                self.negotiated.append(f"<- {event}")
            if self.negotiator is not None and isinstance(event, (telnet.Negotiation, telnet.Subnegotiation)):
                reply = self.negotiator.answer(event)
                if reply:
                    answer += reply
                    for sent in telnet.TelnetParser().feed(reply):
                        lines.append(Line("->", scrub(str(sent))))
                        if isinstance(sent, telnet.Negotiation):
                            self.negotiated.append(f"-> {sent}")
        del self.negotiated[:-64]
        self.owed += answer
        return Decoded("telnet", shown_items(lines), bytes(answer))


def shown_items(lines: list[Line]) -> tuple[Line, ...]:
    """*lines* for the screen: a run of the same command counted on one line (``IAC NOP (x500)``),
    and at most :data:`MAX_ITEMS` items a read, the rest counted in a note (a peer sending 2-byte
    commands must not get 8 lines on screen for what the display's flood allowance counts as one)."""
    out: list[Line] = []
    run = 0
    for index, line in enumerate(lines):
        run += 1
        following = lines[index + 1] if index + 1 < len(lines) else None
        if line.kind != "data" and following == line:
            continue
        out.append(line if run == 1 else Line(line.marker, f"{line.text} (x{run})", line.kind))
        run = 0
    if len(out) > MAX_ITEMS:
        hidden = len(out) - MAX_ITEMS
        note = f"({hidden} more telnet items in this read not shown; /tail or /hex on shows the bytes)"
        out = [*out[:MAX_ITEMS], Line("", note, "note")]
    return tuple(out)


def _data_line(data: bytes) -> Line:
    """Data between telnet commands: kept as bytes (in ``text``, latin-1) for the text view."""
    return Line("<-", data.decode("latin-1"), "data")


def data_bytes(line: Line) -> bytes:
    """The bytes of a ``data`` :class:`Line` (the caller shows them with its own text view)."""
    return line.text.encode("latin-1")


def starts_telnet(data: bytes) -> bool:
    """True when *data* starts with a telnet negotiation (``IAC WILL|WONT|DO|DONT|SB``)."""
    return len(data) >= 2 and data[0] == telnet.IAC and data[1] in TELNET_VERBS


def resp_lines(data: bytes) -> list[str] | None:
    """*data* as RESP values (:func:`netbench.core.resp.render`), or None unless it is whole RESP values."""
    if not resp.looks_like_resp(data):
        return None
    parser = resp.ReplyParser()
    parser.feed(data)
    try:
        values = parser.values()
    except NetbenchError:
        return None
    if not values or parser.pending:
        return None
    return [scrub(resp.render(value), keep_newlines=True) for value in values]


def dns_lines(data: bytes, *, framed: bool) -> list[str] | None:
    """*data* as DNS messages (``dig``-style, one text each), or None unless it is whole messages.

    *framed*: TCP, each message after its 2-byte length. A message must decode
    and be an answer (QR set) to count: a datagram of other bytes is not DNS.
    """
    messages: list[bytes] = []
    if framed:
        rest = data
        while rest:
            if len(rest) < 2:
                return None
            size = struct.unpack_from("!H", rest)[0]
            if len(rest) < 2 + size:
                return None
            messages.append(rest[2 : 2 + size])
            rest = rest[2 + size :]
    else:
        messages.append(data)
    lines: list[str] = []
    for message in messages:
        try:
            decoded = dns.decode_message(message)
        except NetbenchError:
            return None
        if not decoded.header.qr:
            return None
        lines.append(scrub(dns.render(decoded), keep_newlines=True))
    return lines or None


def fragments(decoded: Decoded, *, stamp: str | None = None, endings: bool = True) -> Fragments:
    """*decoded* for the screen: each item under its marker, telnet data as received text."""
    out: Fragments = []
    for line in decoded.lines:
        if line.kind == "note":
            out += view.note(line.text)
        elif line.kind == "data":
            out += view.received(data_bytes(line), stamp=stamp, endings=endings)
        elif line.marker == view.SENT:
            out += view.block(line.text, marker=view.SENT, style="sent", stamp=stamp)
        else:
            out += view.block(line.text, stamp=stamp)
    return out
