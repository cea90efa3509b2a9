"""Sending in a protocol's own form: /resp, /dns, /smtp (issue 14, item 8).

``/resp CMD ARGS...`` sends a RESP array (what redis-cli sends), ``/dns TYPE
NAME`` a DNS query with a fresh random id (a datagram over UDP, with the
2-byte length over TCP), and ``/smtp`` shows the next valid command of an
SMTP dialogue from what the session has sent and received so far
(:func:`smtp_next`, pure). Typed lines still go as typed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from netbench.core.escape import escape_text as safe
from netbench.errors import NetbenchError, UsageError
from netbench.repl.args import expand, split
from netbench.repl.context import Repl
from netbench.repl.registry import command

DNS_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "PTR", "ANY")


@command(
    "resp",
    "CMD [ARG...]",
    "send a Redis command as a RESP array (what redis-cli sends)",
    """
The words (shell-like: quote an argument with spaces) become an array of
bulk strings: /resp SET greeting "hello world" sends
*3\\r\\n$3\\r\\nSET\\r\\n$8\\r\\ngreeting\\r\\n$11\\r\\nhello world\\r\\n.
The reply is shown decoded (bulk string "1", integer 2, arrays indented);
/raw on shows the bytes instead. A typed line (SET a 1) goes as typed: Redis
reads that "inline" form too.
  /resp PING        /resp SET a 1 EX 60        /resp LRANGE list 0 -1
""",
)
async def _resp(repl: Repl, rest: str) -> None:
    from netbench.core.resp import encode_command

    words = split(expand(repl, rest))
    if not words:
        raise UsageError("usage: /resp CMD [ARG...] (e.g. /resp SET a 1)")
    conv = repl.sessions.require_current()
    data = encode_command(*(word.encode("utf-8", "surrogateescape") for word in words))
    repl.sessions.watch(conv).protocol = "resp"
    await repl.sessions.send(conv, data, echo=True)


@command(
    "dns",
    "TYPE NAME",
    "send a DNS query (a fresh random id each time): a datagram over UDP, length-prefixed over TCP",
    """
TYPE is A, AAAA, CNAME, MX, TXT, NS, SOA, PTR, ANY or TYPEnn; dig's order
(NAME TYPE) works too, and NAME alone asks for A. The answer is shown
decoded as dig prints it: header flags, question, answer records.
  /lab dns --udp    then    /dns A lab.test     /dns MX lab.test
  /explain          what the rcode and the flags of the answer mean
""",
    options=DNS_TYPES,
)
async def _dns(repl: Repl, rest: str) -> None:
    from netbench.core import dns

    words = split(expand(repl, rest))
    if not 1 <= len(words) <= 2:
        raise UsageError("usage: /dns TYPE NAME (e.g. /dns A lab.test)")
    if len(words) == 1:
        qtype, name = "A", words[0]
    elif _is_type(words[0]) or not _is_type(words[1]):
        qtype, name = words
    else:  # dig's order: NAME TYPE
        name, qtype = words
    conv = repl.sessions.require_current()
    query_id = secrets.randbelow(0x10000)
    message = dns.build_query(name, qtype, query_id)
    data = message if conv.udp else dns.frame_tcp(message)
    repl.sessions.watch(conv).protocol = "dns"
    how = "one datagram" if conv.udp else "with its 2-byte length, over TCP"
    repl.info(
        f"-> DNS query id {query_id}: {safe(dns.absolute(name))} {dns.type_name(dns.type_number(qtype))} "
        f"({len(message)} bytes, {how})"
    )
    await repl.sessions.send(conv, data, echo=repl.settings.hex_mode)


def _is_type(word: str) -> bool:
    from netbench.core import dns
    from netbench.errors import ProtocolError

    try:
        dns.type_number(word)
    except ProtocolError:
        return False
    return True


@command(
    "smtp",
    "",
    "the next valid command in the SMTP dialogue so far, as a hint",
    """
Reads what the current session sent and received (the 220 greeting, EHLO,
MAIL FROM, RCPT TO, DATA, the message and its lone dot, QUIT) and says what
RFC 5321 expects next, with an example to type. Nothing is sent.
  /lab smtp    then    /smtp    EHLO me    /smtp    ...
""",
)
async def _smtp(repl: Repl, rest: str) -> None:
    from netbench.core.transcript import Received, Sent

    conv = repl.sessions.require_current()
    sent = b"".join(event.data for event in conv.session.transcript if isinstance(event, Sent))
    received = b"".join(event.data for event in conv.session.transcript if isinstance(event, Received))
    repl.info(safe("\n".join(smtp_next(sent, received)), one_line=False))


# -- the SMTP dialogue (RFC 5321 section 3 and 4.1) ------------------------------------------------

NEXT = {
    "connected": ("wait for the server's 220 greeting (/wait 220)", "RFC 5321 section 3.1"),
    "greeted": ("EHLO client.example   say who you are (HELO for plain SMTP)", "RFC 5321 section 4.1.1.1"),
    "hello": ("MAIL FROM:<you@example.org>   start a message: the envelope sender", "RFC 5321 section 3.3"),
    "mail": ("RCPT TO:<someone@lab.test>   a recipient (repeat for more)", "RFC 5321 section 4.1.1.3"),
    "rcpt": ("DATA   then the message (or RCPT TO:<...> for one more recipient)", "RFC 5321 section 4.1.1.4"),
    "data": (
        "type the message: header lines (Subject: hi), an empty line, the body, "
        "then a line with only a dot (.) to end it",
        "RFC 5321 section 4.5.2",
    ),
    "delivered": ("QUIT   (or MAIL FROM:<...> for another message)", "RFC 5321 section 4.1.1.10"),
    "refused": ("QUIT   the server refused the session (its greeting was not 220)", "RFC 5321 section 3.1"),
    "quit": ("nothing: the dialogue is over (QUIT); /open a new session", "RFC 5321 section 4.1.1.10"),
}
"""Each state of the dialogue -> the hint and where RFC 5321 says so."""


def _lines(sent: bytes) -> Iterable[str]:
    """The lines we sent (CRLF or LF ended; a last unended line too)."""
    for line in sent.split(b"\n"):
        yield line.removesuffix(b"\r").decode("utf-8", "replace")


def smtp_next(sent: bytes, received: bytes) -> list[str]:
    """What an SMTP client should send next, given everything *sent* and *received* so far.

    Commands are paired with replies in order (the first reply is the
    greeting; the message after DATA gets no reply until its lone dot).
    Returns display lines: ``next: ...``, the RFC section, and the last reply.
    """
    from netbench.core import reply_code

    parser = reply_code.ReplyParser()
    parser.feed(received)
    try:
        replies = parser.replies()
    except NetbenchError:  # a reply that is not SMTP: hint from what was sent
        replies = []
    lines = list(_lines(sent))
    if lines and lines[-1] == "":
        lines.pop()
    state, waiting = ("connected", None)
    if replies:
        state = "greeted" if replies[0].code == 220 else "refused"
    index = 1
    for line in lines:
        if state == "data":
            if line == ".":
                reply = replies[index] if index < len(replies) else None
                index += 1
                if reply is None:
                    waiting = "the message's final dot"
                state = "delivered" if reply is None or reply.code < 400 else "hello"
            continue
        verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
        reply = replies[index] if index < len(replies) else None
        index += 1
        if reply is None:
            waiting = verb or "an empty line"
        ok = reply is None or reply.code < 400
        if verb == "QUIT":
            state = "quit"
        elif not ok or state in ("connected", "refused", "quit"):
            continue
        elif verb in ("EHLO", "HELO"):
            state = "hello"
        elif verb == "RSET" and state != "greeted":
            state = "hello"
        elif verb == "MAIL" and state in ("hello", "delivered"):
            state = "mail"
        elif verb == "RCPT" and state in ("mail", "rcpt"):
            state = "rcpt"
        elif verb == "DATA" and state == "rcpt" and (reply is None or reply.code == 354):
            state = "data"
    hint, section = NEXT[state]
    out = [f"next: {hint}", f"  ({section})"]
    if waiting is not None and state != "quit":
        out.insert(0, f"waiting: {waiting} has no reply yet (/wait 5)")
    if replies:
        last = replies[-1]
        out.append(f"  last reply: {reply_code.explain(last.code, 'smtp')}")
    return out
