"""What ``replay --step`` shows: a step's bytes before it runs, the answer after, decoded (pure text).

Nothing here does I/O; :mod:`netbench.recipe.stepper` runs the loop and
prints these lines. Every byte from a recipe or a peer reaches the text
through :mod:`netbench.core.escape` (``\\x1b``, never a raw ESC), and each
view is cut at :data:`SHOWN` bytes, so a flood of an answer is a few lines.

The decoded views use the protocol decoders of :mod:`netbench.core`:
an HTTP request head, a Redis command (:func:`netbench.core.resp.parse_request`)
and reply (:func:`~netbench.core.resp.describe_reply`), SMTP commands as text
and replies with their meaning (:func:`netbench.core.reply_code.describe_reply`),
DNS messages as ``dig`` prints them (:func:`netbench.core.dns.describe_message`),
telnet commands by name (:func:`netbench.core.telnet.describe`). Which one
applies comes from :func:`protocol_of` (the recipe's ``lab:``, else the
target's port), and for an answer also from what it looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from netbench.core.escape import escape, hexdump, is_text, quote, scrub, visible
from netbench.errors import NetbenchError

if TYPE_CHECKING:
    from netbench.core.address import Target
    from netbench.core.http import HttpResponse
    from netbench.recipe.model import Recipe, Step
    from netbench.recipe.result import StepResult

SHOWN = 2048
"""The most bytes of one message shown (as escaped text or a hexdump); the rest is counted."""
INDENT = "    "

RUN, SKIP, QUIT, CONTINUE, HELP = "run", "skip", "quit", "continue", "help"
CHOICES = {
    "": RUN,
    "r": RUN,
    "run": RUN,
    "s": SKIP,
    "skip": SKIP,
    "q": QUIT,
    "quit": QUIT,
    "c": CONTINUE,
    "continue": CONTINUE,
    "?": HELP,
    "h": HELP,
    "help": HELP,
}
PROMPT = "[Enter] run, s skip, q quit, c continue, ? help> "
HELP_TEXT = (
    "Enter runs this step; s skips it (nothing is sent; later steps may then fail); "
    "q stops here (exit 0 when every step run so far held); c runs the rest without stopping; "
    "end of input (Ctrl-D) stops as q does."
)

PORTS = {25: "smtp", 587: "smtp", 6379: "redis", 11211: "memcached", 53: "dns", 23: "telnet"}
"""Well-known ports, for a recipe without ``lab:`` (the lab's own services say their name)."""
LAB_PROTOCOLS = {"smtp", "redis", "memcached", "dns", "telnet", "http"}

SMTP_COMMANDS = {
    "HELO": "introduce the client (the old greeting)",
    "EHLO": "introduce the client and ask for the server's extensions",
    "MAIL": "start a mail: name the sender (the envelope's return path)",
    "RCPT": "name one recipient",
    "DATA": "the message follows, ended by a line holding a lone dot",
    "RSET": "forget the mail in progress",
    "NOOP": "do nothing (keeps the connection alive)",
    "VRFY": "ask whether a mailbox exists",
    "HELP": "ask for help",
    "QUIT": "end the session",
    "STARTTLS": "switch to TLS",
    "AUTH": "log in",
}
"""What each SMTP command asks for (RFC 5321 section 4.1.1)."""

MEMCACHED_WORDS = {
    "set": "store the value (key, flags, expiry, size; the data on the next line)",
    "add": "store the value only if the key is new",
    "replace": "store the value only if the key exists",
    "append": "add the data after the value",
    "prepend": "add the data before the value",
    "cas": "store only if the unique number from gets is still the same",
    "get": "fetch the values of these keys",
    "gets": "fetch the values with their unique numbers (for cas)",
    "delete": "remove the key",
    "incr": "add to a number",
    "decr": "take from a number",
    "touch": "change the expiry",
    "flush_all": "remove every key",
    "version": "ask the server's version",
    "quit": "end the session",
    "VALUE": "a value follows: key, flags, size (and the unique number after gets)",
    "END": "the end of the values",
    "STORED": "the value was stored",
    "NOT_STORED": "not stored: add found the key, or replace did not",
    "EXISTS": "not stored: someone changed the item since your gets (cas)",
    "NOT_FOUND": "no such key",
    "DELETED": "the key was removed",
    "TOUCHED": "the expiry was changed",
    "OK": "done",
    "ERROR": "no such command",
    "CLIENT_ERROR": "the command was malformed (the rest of the line says how)",
    "SERVER_ERROR": "the server failed (the rest of the line says how)",
}
"""memcached's commands and replies (its protocol.txt): the first word of a line."""


def parse_choice(line: str | None) -> str | None:
    """What a line typed at the prompt asks for (:data:`RUN`, :data:`SKIP`, ...), None when unknown.

    End of input (*line* None) is :data:`QUIT`: a learner who closes stdin wants to stop.
    """
    if line is None:
        return QUIT
    return CHOICES.get(line.strip().lower())


def protocol_of(recipe: Recipe, target: Target) -> str:
    """The protocol whose decoders apply: ``http``, ``smtp``, ``redis``, ``dns``, ... or ``""``."""
    if recipe.lab in LAB_PROTOCOLS:
        return recipe.lab or ""
    if recipe.steps and any(step.http is not None for step in recipe.steps):
        return "http"
    return PORTS.get(target.port, "")


def show_bytes(data: bytes, indent: str = INDENT) -> list[str]:
    """*data* as escaped text lines (CR and LF visible) or a hexdump, at most :data:`SHOWN` bytes."""
    shown = data[:SHOWN]
    rows = visible(shown).split("\n") if is_text(shown) else hexdump(shown).splitlines()
    lines = [indent + row for row in rows if row]
    if len(data) > SHOWN:
        lines.append(f"{indent}... ({len(data) - SHOWN} more bytes not shown)")
    return lines


def heading(recipe: Recipe, target: Target) -> str:
    """The line before the first step: the recipe, what it aims at, how many steps."""
    count = len(recipe.steps)
    return f"{scrub(recipe.where)}: {quote(recipe.name, 200)} against {target} ({count} steps)"


def preview(
    step: Step, index: int, total: int, data: bytes | None, protocol: str, stream: bool, problem: str = ""
) -> list[str]:
    """The lines shown before step *index* runs: its summary, the bytes it will send, decoded.

    *data* is what the step will send (None when it sends nothing, or when its
    bytes cannot be made yet: *problem* says why, and the step reports it when it runs).
    """
    from netbench.recipe.describe import describe_step

    lines = [f"step {index}/{total} (line {step.line}): {scrub(describe_step(step))}"]
    if step.include is not None:
        lines += [f"{INDENT}{scrub(describe_step(inner))}" for inner in step.include.recipe.steps]
    elif data is None and (step.send is not None or step.http is not None):
        lines.append(f"{INDENT}(its bytes cannot be made yet: {scrub(problem)})")
    elif step.expect is not None and step.close is None and step.sleep is None and data is None:
        lines.append(f"{INDENT}(sends nothing: waits for what the server sends)")
    if data is None:
        return lines
    lines.append(f"  sends ({len(data)} bytes):")
    lines += show_bytes(data)
    lines += decode_sent(data, "http" if step.http is not None else protocol, stream)
    return lines


def decode_sent(data: bytes, protocol: str, stream: bool = True) -> list[str]:
    """What *data*, sent to a *protocol* server, means: lines with a heading, or none."""
    from netbench.core.http_sniff import head_end, request_line, request_method

    if request_line(data) is not None or (protocol in ("http", "") and request_method(data) is not None):
        end = head_end(data) or len(data)
        head = [escape(row, keep_newlines=False, keep_tabs=False) for row in data[:end].splitlines() if row]
        lines = ["  as an HTTP request:", *(INDENT + row for row in head[:50])]
        if len(data) > end:
            lines.append(f"{INDENT}(then {len(data) - end} bytes of body)")
        return lines
    if protocol == "redis":
        return _resp_commands(data)
    if protocol == "dns":
        return _dns(data, stream)
    if protocol == "telnet" and b"\xff" in data:
        return ["  as telnet:", *_indented(_telnet(data))]
    if protocol == "smtp" and is_text(data[:SHOWN]):
        return ["  as SMTP:", *(INDENT + row for row in _smtp_lines(data[:SHOWN]))]
    if protocol == "memcached":
        return _memcached(data)
    return []


def decode_received(
    data: bytes,
    response: HttpResponse | None,
    protocol: str,
    stream: bool = True,
    explain_status: Callable[[int], str] | None = None,
) -> list[str]:
    """What an answer means: the HTTP response with its status explained, or the protocol's view."""
    from netbench.core import reply_code, resp

    if response is not None:
        return _http_response(response, explain_status)
    if not data:
        return []
    data = data[: SHOWN * 32]  # a decoder reads a bounded piece; the bytes view says the size
    if protocol == "dns":
        return _dns(data, stream)
    if protocol == "telnet" or (not protocol and data[:1] == b"\xff"):
        return ["  as telnet:", *_indented(_telnet(data))] if b"\xff" in data else []
    if protocol == "redis" or (not protocol and resp.looks_like_resp(data)):
        return ["  as RESP (the Redis protocol):", *_indented(resp.describe_reply(data)), *_resp_types(data)]
    if protocol == "smtp" or (not protocol and data[:3].isdigit() and data[3:4] in (b" ", b"-")):
        return ["  as SMTP replies:", *_indented(reply_code.describe_reply(data, "smtp"))]
    if protocol == "memcached":
        return _memcached(data)
    return []


def outcome(result: StepResult, total: int) -> str:
    """One line: whether the step held, as ``replay`` prints it."""
    from netbench.recipe.report import step_line

    verdict = "held" if result.ok else "did not hold"
    return f"{step_line(result, total)}: {verdict}"


def skipped(step: Step, index: int, total: int) -> str:
    """The line for a step the learner skipped."""
    from netbench.recipe.describe import describe_step

    where = f"{index}/{total}"  # aligned with the progress lines of report.step_line
    return f"  skip {where:>7}  {scrub(describe_step(step))} (skipped: not sent, not checked)"


def _indented(text: str) -> list[str]:
    """Lines of a decoder's text, indented; decoders escape peer bytes, :func:`scrub` makes sure."""
    return [(INDENT + scrub(row)).rstrip() for row in text.splitlines()]


def _telnet(data: bytes) -> str:
    from netbench.core.telnet import describe

    return describe(data[:SHOWN])


def _resp_commands(data: bytes) -> list[str]:
    """Each Redis command in *data*: its words, and whether it is an inline command or a RESP array."""
    from netbench.core.resp import parse_request

    lines = ["  as Redis commands:"]
    rest = data[: SHOWN * 32]
    while rest:
        try:
            found = parse_request(rest)
        except NetbenchError as error:
            lines.append(f"{INDENT}{scrub(str(error))}")
            break
        if found is None:
            lines.append(f"{INDENT}(incomplete: {len(rest)} bytes of a command)")
            break
        words, used = found
        form = "RESP array" if rest[:1] == b"*" else "inline command"
        shown = " ".join(quote(word, 60) for word in words[:20]) if words else "(empty line)"
        lines.append(f"{INDENT}{form}: {shown}")
        rest = rest[used:]
    return lines


def _resp_types(data: bytes) -> list[str]:
    """What each kind of RESP reply in *data* is (the spec's types), one line per kind."""
    from netbench.core.resp import ReplyParser, explain

    parser = ReplyParser()
    parser.feed(data)
    try:
        values = parser.values()
    except NetbenchError:
        return []  # describe_reply has said why
    kinds = {type(value): explain(value) for value in values}
    return [f"{INDENT}= {meaning}" for meaning in kinds.values()]


def _dns(data: bytes, stream: bool) -> list[str]:
    """A DNS message decoded; over a stream, each message after its 2-byte length."""
    from netbench.core.dns import TcpDeframer, describe_message

    if not stream:
        return ["  as DNS:", *_indented(describe_message(data))]
    deframer = TcpDeframer()
    deframer.feed(data)
    lines = ["  as DNS (over TCP, each message after its 2-byte length):"]
    try:
        while (message := deframer.next_message()) is not None:
            lines += _indented(describe_message(message))
    except NetbenchError as error:
        lines.append(f"{INDENT}{scrub(str(error))}")
    if deframer.pending:
        lines.append(f"{INDENT}(incomplete: {deframer.pending} bytes of a message)")
    return lines


def _smtp_lines(data: bytes) -> list[str]:
    """Each line sent to an SMTP server: a command and what it asks for, or message text."""
    lines = []
    for raw in data.splitlines():
        text = escape(raw, keep_newlines=False, keep_tabs=False)
        verb = raw.split(b" ", 1)[0].split(b":", 1)[0].upper().decode("ascii", "replace")
        if raw == b".":
            lines.append(". = end of the message (a lone dot, RFC 5321 section 4.1.1.4)")
        elif raw.startswith(b".."):
            lines.append(f"{text} = message text; the server removes the doubled dot (section 4.5.2)")
        elif verb in SMTP_COMMANDS:
            lines.append(f"{text} = {verb}: {SMTP_COMMANDS[verb]}")
        else:
            lines.append(f"{text} = message text" if text else "(empty line) = message text")
    return lines


def _memcached(data: bytes) -> list[str]:
    """Each line whose first word memcached knows, with what it means (data lines left alone)."""
    lines = ["  as memcached:"]
    for raw in data[:SHOWN].splitlines()[:50]:
        word = raw.split(b" ", 1)[0].decode("ascii", "replace")
        if word in MEMCACHED_WORDS:
            lines.append(
                f"{INDENT}{escape(raw, keep_newlines=False, keep_tabs=False)} = {MEMCACHED_WORDS[word]}"
            )
    return lines if len(lines) > 1 else []


def _http_response(response: HttpResponse, explain_status: Callable[[int], str] | None) -> list[str]:
    """The status line and what it means, and the body when it was decoded (gzip, chunked)."""
    reason = escape(response.reason.encode("latin-1", "replace"), keep_newlines=False, keep_tabs=False)
    lines = [f"  as an HTTP response: HTTP/{response.http_version} {response.status} {reason}"]
    if explain_status is not None:
        lines.append(f"{INDENT}{scrub(explain_status(response.status))}")
    size = response.body_size or len(response.body)
    lines.append(f"{INDENT}{len(response.headers)} header fields; a body of {size} bytes")
    if response.body and (response.decoded or response.header_values("transfer-encoding")):
        lines.append(f"{INDENT}the body as decoded ({', '.join(_encodings(response))}):")
        lines += show_bytes(response.body, INDENT + "  ")
    return lines


def _encodings(response: HttpResponse) -> list[str]:
    found = [f"Transfer-Encoding {value}" for value in response.header_values("transfer-encoding")]
    found += [f"Content-Encoding {response.content_encoding}"] if response.decoded else []
    return [escape(text.encode("latin-1", "replace"), keep_newlines=False, keep_tabs=False) for text in found]
