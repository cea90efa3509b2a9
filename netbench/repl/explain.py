"""What an answer means: HTTP statuses and headers, SMTP/FTP reply codes, Redis RESP types,
DNS answers (rcode, flags) and telnet option negotiation.

Pure look-up, no network. The HTTP table is ``netbench/data/http_explain.json``
(each entry is ``[name, meaning, reference]``); reply codes and RESP types
come from :mod:`netbench.core.reply_code` and :mod:`netbench.core.resp`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from netbench.errors import NetbenchError


@cache
def table() -> dict[str, Any]:
    """The explanation table, loaded once."""
    text = resources.files("netbench").joinpath("data/http_explain.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def status(code: int) -> str:
    """One line: ``200 OK: The request succeeded... (RFC 9110 §15.3.1)``."""
    data = table()
    if not 100 <= code <= 599:
        return f"{code}: not a valid HTTP status code (must be 100-599; RFC 9110 §15)"
    entry = data["statuses"].get(str(code))
    if entry is not None:
        name, meaning, ref = entry
        return f"{code} {name}: {meaning} ({ref})"
    klass = data["classes"].get(str(code)[:1])
    if klass is not None:
        name, meaning, ref = klass
        return f"{code} (not in the table; class {code // 100}xx {name}): {meaning} ({ref})"
    return f"{code}: not a valid HTTP status code (must be 100-599; RFC 9110 §15)"


def header(name: str) -> str | None:
    """One line for header *name*, or None when the table does not know it."""
    entry = table()["headers"].get(name.lower())
    if entry is None:
        return None
    canonical, meaning, ref = entry
    return f"{canonical}: {meaning} ({ref})"


def explain(code: int, headers: Iterable[tuple[str, str]]) -> list[str]:
    """Lines explaining a response's status and each distinct header it carries."""
    lines = [status(code), ""]
    seen: set[str] = set()
    unknown: list[str] = []
    for name, _value in headers:
        key = name.lower()
        if key in seen:
            continue
        seen.add(key)
        line = header(name)
        if line is None:
            unknown.append(name)
        else:
            lines.append("  " + line)
    if unknown:
        lines.append("  not in the table: " + ", ".join(unknown))
    return lines


# -- answers that are not HTTP: SMTP/FTP-style reply codes, Redis RESP -------------------------------

KNOWS = (
    "/explain knows HTTP responses, status codes and headers (404, ETag), "
    "SMTP/FTP-style 'NNN text' replies (250), Redis RESP types (+ - : $ *), "
    "DNS answers and telnet negotiation"
)
_REPLY_LINE = re.compile(rb"[1-5][0-9][0-9][- \r\n]")


def reply_protocol(port: int | None) -> str:
    """``ftp`` for the FTP control ports, else ``smtp`` (the two share the code scheme)."""
    return "ftp" if port in (21, 990) else "smtp"


def answer(data: bytes, *, port: int | None = None) -> list[str] | None:
    """Lines explaining a non-HTTP answer: RESP values with their types, or NNN replies.

    None when *data* is neither (the caller says so plainly). The reply
    grammars are :mod:`netbench.core.resp` and :mod:`netbench.core.reply_code`.
    """
    from netbench.core import reply_code, resp

    for decoder in (dns_answer, telnet_negotiation):
        lines = decoder(data)
        if lines is not None:
            return lines
    if resp.looks_like_resp(data):
        parser = resp.ReplyParser()
        parser.feed(data)
        try:
            values = parser.values()
        except NetbenchError:
            values = []
        if values:
            lines = ["a Redis RESP reply:", *(resp.render(value, "  ") for value in values)]
            kinds: dict[type, None] = {}
            for value in values:
                _kinds(value, kinds, resp.Array)
            lines += ["", *("  " + resp.TYPE_NAMES[kind] for kind in kinds)]
            if parser.pending:
                lines.append(f"  (and {parser.pending} bytes of a value still incomplete)")
            lines.append(
                "  (the RESP protocol: https://redis.io/docs/latest/develop/reference/protocol-spec/)"
            )
            return lines
    if _REPLY_LINE.match(data):
        protocol = reply_protocol(port)
        described = reply_code.describe_reply(data, protocol)
        return [f"an {protocol.upper()}-style reply (three-digit code, then text):", described]
    return None


def _kinds(value: object, seen: dict[type, None], array: type) -> None:
    """Every RESP type in *value*, arrays' items included, in order of first appearance."""
    seen.setdefault(type(value), None)
    if isinstance(value, array):
        for item in getattr(value, "items", None) or ():
            _kinds(item, seen, array)


def code(number: int, *, port: int | None = None) -> list[str]:
    """*number* as an HTTP status, and as an SMTP or FTP reply code when it is one."""
    from netbench.core import reply_code

    lines = [f"as HTTP: {status(number)}"]
    protocol = reply_protocol(port)
    table = reply_code.FTP_CODES if protocol == "ftp" else reply_code.SMTP_CODES
    if number in table:  # (a code only its class explains is not worth a second guess)
        lines.append(f"as {protocol.upper()}: {reply_code.explain(number, protocol)}")
    return lines


def resp_type(word: str) -> str | None:
    """What a RESP type byte (``+ - : $ *``) means, or None."""
    from netbench.core import resp

    kinds = {
        "+": resp.SimpleString,
        "-": resp.Error,
        ":": resp.Integer,
        "$": resp.BulkString,
        "*": resp.Array,
    }
    kind = kinds.get(word)
    return None if kind is None else f"RESP {resp.TYPE_NAMES[kind]}"


# -- DNS (RFC 1035) and telnet (RFC 854, 857, 858) ---------------------------------------------------

RCODE_MEANINGS = {
    0: "no error: the answer section holds the records (empty: the name exists, not that type)",
    1: "format error: the server could not read the query",
    2: "server failure: the server could not answer (try again, or another server)",
    3: "the name does not exist (the authority section's SOA says for how long to believe that)",
    4: "not implemented: the server does not do that kind of query",
    5: "refused: the server will not answer this client (policy)",
}
"""What each response code means (RFC 1035 section 4.1.1)."""


def dns_answer(data: bytes) -> list[str] | None:
    """Lines explaining a DNS answer (a datagram, or a TCP message after its 2-byte length), or None."""
    from netbench.core import dns
    from netbench.core.escape import is_text

    if is_text(data):  # (text never has QR set in ASCII; this keeps UTF-8 text out too)
        return None
    message = None
    for candidate in (data, data[2:]):
        try:
            decoded = dns.decode_message(candidate)
        except NetbenchError:
            continue
        if decoded.header.qr:
            message = decoded
            break
    if message is None:
        return None
    h = message.header
    name = dns.RCODES.get(h.rcode, f"RCODE{h.rcode}")
    lines = [
        f"a DNS answer, id {h.id} (it must match the query's id; RFC 1035 section 4.1.1):",
        f"  status {name} (rcode {h.rcode}): {RCODE_MEANINGS.get(h.rcode, 'not a standard code')}",
    ]
    lines += [f"  flag {flag}: {dns.FLAG_MEANINGS[flag]}" for flag in h.flag_names()]
    if not h.aa:
        lines.append("  (no aa: not from a server for the zone, e.g. a cache)")
    for question in message.questions:
        lines.append(f"  question: {question.name} {dns.type_name(question.type)}")
    lines.append(
        f"  {len(message.answers)} answer, {len(message.authority)} authority, "
        f"{len(message.additional)} additional record(s) (RFC 1035 section 4.1.3)"
    )
    if h.tc:
        lines.append("  next: ask again over TCP (/open the same port without udp://, then /dns)")
    return lines


OPTION_MEANINGS = {
    0: "BINARY: 8-bit data without telnet's NVT rules (RFC 856)",
    1: "ECHO: the side that WILLs it echoes back what the other types; a server that echoes "
    "means your line comes back once, and a password does not (RFC 857)",
    3: "SUPPRESS-GO-AHEAD: no GA after each output, so both sides talk at once (RFC 858)",
    24: "TERMINAL-TYPE: the client says which terminal it is (RFC 1091)",
    31: "NAWS: the client says its window size (RFC 1073)",
    34: "LINEMODE: the client edits a line before sending it (RFC 1184)",
}
"""What each common telnet option is, with its RFC."""

VERB_MEANINGS = {
    "WILL": "the sender offers to enable it on its side (answer DO to agree, DONT to refuse)",
    "WONT": "the sender refuses it, or turns it off, on its side",
    "DO": "the sender asks you to enable it on your side (answer WILL or WONT)",
    "DONT": "the sender asks you not to use it on your side",
}


def telnet_negotiation(data: bytes) -> list[str] | None:
    """Lines explaining each telnet option negotiation in *data*, or None when there is none."""
    from netbench.core import telnet

    negotiations = [e for e in telnet.TelnetParser().feed(data) if isinstance(e, telnet.Negotiation)]
    if not negotiations:
        return None
    lines = ["telnet option negotiation (RFC 854: IAC, then WILL/WONT/DO/DONT, then the option):"]
    seen: set[tuple[int, int]] = set()
    for event in negotiations:
        if (event.verb, event.option) in seen:
            continue
        seen.add((event.verb, event.option))
        verb = telnet.COMMANDS[event.verb]
        option = OPTION_MEANINGS.get(
            event.option, f"{telnet.option_name(event.option)}: option {event.option}"
        )
        lines += [f"  {event}: {VERB_MEANINGS[verb]}", f"      {option}"]
    lines.append(
        "  a client answers each request once and never one already in force (RFC 854); "
        "/open telnet://HOST:PORT answers as ncat -t does"
    )
    return lines


SENT_MEANINGS = {
    "WILL": "we offer (or agree) to enable it on our side",
    "WONT": "we refuse it on our side (ncat -t refuses what it does not support)",
    "DO": "we agree that the peer enables it (or ask it to)",
    "DONT": "we ask the peer not to use it",
}
"""What each verb means when netbench sent it (a ``telnet://`` session answers as ``ncat -t``)."""


def negotiation_record(record: list[str]) -> list[str] | None:
    """Lines explaining a session's telnet negotiation so far, or None when *record* is empty.

    *record* is :attr:`netbench.repl.protoview.Watch.negotiated`: ``"<- IAC WILL ECHO"`` for what
    the peer sent, ``"-> IAC DO ECHO"`` for what we answered, in order. Each option's meaning is
    given once, the first time it appears.
    """
    from netbench.core import telnet

    if not record:
        return None
    numbers = {name: number for number, name in telnet.OPTIONS.items()}
    lines = ["the telnet option negotiation so far (RFC 854: IAC, then WILL/WONT/DO/DONT, then the option):"]
    explained: set[str] = set()
    answered = False
    for entry in record:
        marker, _, named = entry.partition(" ")
        words = named.split()
        if len(words) != 3 or words[1] not in VERB_MEANINGS:
            lines.append(f"  {entry}")
            continue
        verb, name = words[1], words[2]
        sent = marker == "->"
        answered = answered or sent
        meaning = SENT_MEANINGS[verb] if sent else VERB_MEANINGS[verb]
        lines.append(f"  {entry}: {meaning}")
        if name not in explained:
            explained.add(name)
            number = numbers.get(name, int(name) if name.isdigit() else -1)
            lines.append(f"      {OPTION_MEANINGS.get(number, f'{name}: option {name}')}")
    if not answered:
        lines.append("  (not answered: /open telnet://HOST:PORT answers as ncat -t does)")
    return lines
