"""SMTP/FTP-style replies (sans-IO): ``250 OK``, multi-line ``250-...``, and what codes mean.

A reply is one or more lines, each a three-digit code, then a space (the
last line) or a hyphen (more lines follow), then text, ending CRLF (RFC 5321
section 4.2, RFC 959 section 4.2). :class:`ReplyParser` is fed bytes as they
arrive and gives whole :class:`Reply` values; :func:`encode_reply` writes
one (as the lab's SMTP server does); :func:`explain` says what a code means,
naming the RFC section. Nothing here does I/O; malformed input raises
:class:`~netbench.errors.ProtocolError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netbench.core.escape import escape
from netbench.errors import ProtocolError

MAX_LINE = 64 * 1024
"""The longest reply line accepted (RFC 5321 allows 512; real servers send more)."""
MAX_LINES = 1000
"""The most lines one multi-line reply may have."""
MAX_REPLY = 1024 * 1024
"""The most bytes one reply (all its lines) may take on the wire."""

_LINE = re.compile(rb"([1-5][0-9][0-9])(?:([ -])(.*))?", re.DOTALL)


@dataclass(frozen=True)
class Reply:
    """One whole reply: its ``code`` and the text of each line (without code and separator)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The lines' text joined with newlines."""
        return "\n".join(self.lines)

    @property
    def positive(self) -> bool:
        """True for 2xx and 3xx (done / go on), False for 4xx and 5xx (failed)."""
        return self.code < 400


def encode_reply(code: int, *lines: str) -> bytes:
    """The wire form: ``250-first`` ... ``250 last``, CRLF after each (one line: ``250 text``)."""
    if not 100 <= code <= 599:
        raise ProtocolError(f"reply code {code} is not 1xx-5xx", remote=False)
    texts = lines or ("",)
    out = bytearray()
    for index, line in enumerate(texts):
        separator = "-" if index < len(texts) - 1 else " "
        out += f"{code}{separator}{line}\r\n".encode("utf-8", "surrogateescape")
    return bytes(out)


class ReplyParser:
    """Incremental reply parser: :meth:`feed` bytes, then :meth:`next_reply` until None.

    Lines end with CRLF (a bare LF is accepted too). A reply's first line
    that does not start with a code, or a later line with another code,
    raises :class:`ProtocolError`. Between ``NNN-`` and the last ``NNN``
    line, a line without a code is text of the reply, as RFC 959 section
    4.2 allows for FTP (``123-First line``, ``Second line``, ``123 The
    last line``); SMTP servers put the code on every line. A reply past the
    caps raises too: a line of :data:`MAX_LINE` bytes, :data:`MAX_LINES`
    lines, or :data:`MAX_REPLY` bytes in all, so a peer that never ends a
    line or a multi-line reply cannot make the parser hold more than that. A line
    arriving in pieces is searched for its end once, not from its start on
    every feed.
    """

    def __init__(self) -> None:
        self._data = bytearray()
        self._scanned = 0  # _data[:_scanned] holds no LF
        self._code: int | None = None
        self._lines: list[str] = []
        self._size = 0  # bytes of the reply's lines so far

    def feed(self, data: bytes) -> None:
        """Add bytes that arrived."""
        self._data += data

    @property
    def pending(self) -> int:
        """Bytes buffered that are not yet part of a whole reply."""
        return len(self._data)

    @property
    def partial(self) -> bool:
        """True while a reply has begun (bytes or ``NNN-`` lines) but is not whole yet."""
        return bool(self._data or self._lines)

    def next_reply(self) -> Reply | None:
        """The next whole reply, or None when more bytes are needed."""
        while True:
            end = self._data.find(b"\n", self._scanned, MAX_LINE + 1)
            if end < 0:
                if len(self._data) > MAX_LINE:
                    raise ProtocolError(f"reply line longer than {MAX_LINE} bytes")
                self._scanned = len(self._data)
                return None
            raw = bytes(self._data[:end]).removesuffix(b"\r")
            del self._data[: end + 1]
            self._scanned = 0
            self._size += end + 1
            if self._size > MAX_REPLY:
                raise ProtocolError(
                    f"a reply longer than {MAX_REPLY} bytes (a multi-line reply that never ends?)"
                )
            match = _LINE.fullmatch(raw)
            if match is None and self._code is not None:  # RFC 959: a middle line of any text
                self._add_line(raw)
                continue
            if match is None:
                shown = escape(raw[:60], keep_newlines=False)
                raise ProtocolError(f"not a reply line (a 1xx-5xx code first): {shown!r}")
            code = int(match.group(1))
            if self._code is not None and code != self._code:
                raise ProtocolError(f"a multi-line reply changed its code from {self._code} to {code}")
            self._code = code
            self._add_line(match.group(3) or b"")
            if match.group(2) != b"-":
                reply = Reply(code, tuple(self._lines))
                self._code, self._lines, self._size = None, [], 0
                return reply

    def _add_line(self, text: bytes) -> None:
        self._lines.append(text.decode("utf-8", "surrogateescape"))
        if len(self._lines) > MAX_LINES:
            raise ProtocolError(f"a multi-line reply of more than {MAX_LINES} lines")

    def replies(self) -> list[Reply]:
        """Every whole reply buffered now."""
        out: list[Reply] = []
        while (reply := self.next_reply()) is not None:
            out.append(reply)
        return out


# --- meanings -------------------------------------------------------------------

FIRST_DIGIT = {
    1: "positive preliminary: started, another reply follows (FTP)",
    2: "positive completion: the action is done",
    3: "positive intermediate: go on, send the rest",
    4: "transient negative: failed this time, try again later",
    5: "permanent negative: failed, do not repeat as is",
}
"""RFC 5321 section 4.2.1 (RFC 959 section 4.2 says the same)."""

SMTP_CODES: dict[int, str] = {
    211: "system status, or system help reply",
    214: "help message",
    220: "service ready (the greeting banner)",
    221: "service closing transmission channel (after QUIT)",
    250: "requested mail action okay, completed",
    251: "user not local; will forward",
    252: "cannot VRFY user, but will accept the message and attempt delivery",
    354: "start mail input; end with <CRLF>.<CRLF>",
    421: "service not available, closing transmission channel",
    450: "mailbox unavailable (busy); try later",
    451: "local error in processing; action aborted",
    452: "insufficient system storage (or too many recipients)",
    455: "server unable to accommodate parameters",
    500: "syntax error, command unrecognized (or line too long)",
    501: "syntax error in parameters or arguments",
    502: "command not implemented",
    503: "bad sequence of commands",
    504: "command parameter not implemented",
    550: "mailbox unavailable (not found, no access, or policy)",
    551: "user not local",
    552: "exceeded storage allocation (message too big)",
    553: "mailbox name not allowed",
    554: "transaction failed (or: no SMTP service here)",
    555: "MAIL FROM/RCPT TO parameters not recognized or not implemented",
}
"""RFC 5321 section 4.2.2 (the codes in numeric order) and 4.2.3."""

FTP_CODES: dict[int, str] = {
    110: "restart marker reply",
    120: "service ready in a few minutes",
    125: "data connection already open; transfer starting",
    150: "file status okay; about to open data connection",
    200: "command okay",
    211: "system status, or system help reply",
    213: "file status",
    214: "help message",
    215: "NAME system type",
    220: "service ready for new user",
    221: "service closing control connection",
    226: "closing data connection; requested file action successful",
    227: "entering passive mode (h1,h2,h3,h4,p1,p2)",
    230: "user logged in, proceed",
    250: "requested file action okay, completed",
    257: "PATHNAME created",
    331: "user name okay, need password",
    332: "need account for login",
    350: "requested file action pending further information",
    421: "service not available, closing control connection",
    425: "can't open data connection",
    426: "connection closed; transfer aborted",
    450: "requested file action not taken (file unavailable)",
    500: "syntax error, command unrecognized",
    501: "syntax error in parameters or arguments",
    502: "command not implemented",
    503: "bad sequence of commands",
    530: "not logged in",
    550: "requested action not taken (file unavailable)",
    553: "requested action not taken (file name not allowed)",
}
"""RFC 959 section 4.2.2."""

_SOURCES = {"smtp": (SMTP_CODES, "RFC 5321 section 4.2.2"), "ftp": (FTP_CODES, "RFC 959 section 4.2.2")}


def explain(code: int, protocol: str = "smtp") -> str:
    """What reply *code* means in *protocol* (``smtp`` or ``ftp``), naming the RFC section.

    ``explain(250) == "250: requested mail action okay, completed (RFC 5321 section 4.2.2)"``.
    A code not in the table is explained by its first digit (section 4.2.1).
    """
    table, source = _SOURCES.get(protocol, _SOURCES["smtp"])
    meaning = table.get(code)
    if meaning is not None:
        return f"{code}: {meaning} ({source})"
    first = FIRST_DIGIT.get(code // 100)
    section = "RFC 5321 section 4.2.1" if protocol != "ftp" else "RFC 959 section 4.2"
    if first is None:
        return f"{code}: not a reply code (they run from 100 to 599)"
    return f"{code}: {first} ({section})"


def render(reply: Reply, protocol: str = "smtp") -> str:
    """*reply* for a person: the code's meaning, then each line of text (escaped)."""
    lines = [explain(reply.code, protocol)]
    lines.extend(
        f"  {escape(line.encode('utf-8', 'surrogateescape'), keep_newlines=False)}" for line in reply.lines
    )
    return "\n".join(lines)


def describe_reply(data: bytes, protocol: str = "smtp") -> str:
    """Every whole reply in *data*, rendered with its meaning; never raises.

    A trailing partial line is reported as incomplete; a line that is not a
    reply gives one line saying so.
    """
    parser = ReplyParser()
    parser.feed(data)
    out: list[str] = []
    try:
        out.extend(render(reply, protocol) for reply in parser.replies())
    except ProtocolError as error:
        out.append(str(error))
        return "\n".join(out)
    if parser.partial:
        out.append("(incomplete: the reply's last line has not arrived yet)")
    return "\n".join(out)


def ehlo_extensions(reply: Reply) -> dict[str, str]:
    """The extensions an EHLO reply announces: ``{"SIZE": "1048576", "8BITMIME": ""}``.

    The first line is the greeting (RFC 5321 section 4.1.1.1); each further
    line is a keyword and its parameters.
    """
    found: dict[str, str] = {}
    for line in reply.lines[1:]:
        keyword, _, params = line.strip().partition(" ")
        if keyword:
            found[keyword.upper()] = params
    return found
