"""Session commands: /open /close /sessions /use /send /eof /get /http /wait."""

from __future__ import annotations

import re
from pathlib import Path

from netbench.core.address import host_header
from netbench.core.escape import escape_text as safe
from netbench.core.escape import unescape
from netbench.core.http_sniff import is_method
from netbench.errors import TimedOut, UsageError
from netbench.repl.args import expand, headers_and_rest, split
from netbench.repl.context import Repl
from netbench.repl.conversation import Conversation
from netbench.repl.registry import command

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")
REPLY_WAIT = 10.0


@command(
    "open",
    "TARGET [-u] [--tls] [--insecure] [--sni NAME] [--cafile FILE] [-4|-6] [-w SECS]",
    "connect to a TCP, UDP or TLS service and make it the current session",
    """
TARGET is HOST PORT, HOST:PORT, [V6]:PORT, tcp://H:P, udp://H:P, tls://H:P,
unix:/path, http(s)://HOST[:PORT] or telnet://HOST[:PORT] (port 23 unless
given; option negotiation is answered as ncat -t does and shown decoded).
A service name may stand for the port (localhost http). Examples:
  /open 127.0.0.1 8080
  /open telnet://127.0.0.1:2323
  /open tls://example.org:443 --insecure
  /open udp://127.0.0.1:7
""",
    options=(
        "-u",
        "--tls",
        "--insecure",
        "--sni",
        "--cafile",
        "-4",
        "-6",
        "-w",
        "tcp://",
        "udp://",
        "tls://",
        "telnet://",
    ),
)
async def _open(repl: Repl, rest: str) -> None:
    from netbench.commands.parsing import ArgumentParser
    from netbench.core.address import parse_target
    from netbench.net.resolve import family_from_flags
    from netbench.net.tls import TLSOptions

    parser = ArgumentParser(prog="/open", add_help=False)
    parser.add_argument("target", nargs="+")
    parser.add_argument("-u", "--udp", action="store_true")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--insecure", "-k", action="store_true")
    parser.add_argument("--sni")
    parser.add_argument("--cafile", "--cacert")
    parser.add_argument("-4", dest="ipv4", action="store_true")
    parser.add_argument("-6", dest="ipv6", action="store_true")
    parser.add_argument("-w", "--timeout", type=float, default=repl.settings.connect_timeout)
    words = split(expand(repl, rest))
    if not words:
        raise UsageError("usage: /open TARGET (e.g. /open 127.0.0.1 8080, /open tls://host:443)")
    args = parser.parse_args(words)
    transport = "udp" if args.udp else "tls" if args.tls else None
    target = parse_target(args.target, transport)  # type: ignore[arg-type]
    if target.transport != "udp":  # (UDP has nothing to connect)
        repl.info(f"connecting to {safe(str(target))} ...")
    conv = await repl.sessions.open(
        target,
        timeout=args.timeout,
        tls=TLSOptions(insecure=args.insecure, sni=args.sni, cafile=args.cafile),
        family=family_from_flags(args.ipv4, args.ipv6),
    )
    if words[0].lower().startswith("telnet://"):  # answer option negotiation (netbench.repl.protoview)
        from netbench.repl.protoview import Watch

        repl.sessions.watches[conv.number] = Watch.for_telnet()
    repl.info(conv.opened)
    if conv.session.tls is not None:
        repl.info("\n".join(safe(line) for line in conv.session.tls.lines()))


def _which(repl: Repl, rest: str) -> Conversation:
    if rest:
        try:
            return repl.sessions.get(int(rest.lstrip("#")))
        except ValueError:
            raise UsageError(f"not a session number: {rest!r}") from None
    return repl.sessions.require_current()


@command("close", "[N]", "close the current session (or session N)", options=("<session>",))
async def _close(repl: Repl, rest: str) -> None:
    conv = _which(repl, rest)
    await repl.sessions.close(conv)
    repl.info(f"[{conv.number}] {conv.label} closed")


@command(
    "eof", "[N]", "half-close: shut down our write side (the peer reads end-of-file)", options=("<session>",)
)
async def _eof(repl: Repl, rest: str) -> None:
    conv = _which(repl, rest)
    await repl.sessions.send_eof(conv)
    repl.info(f"[{conv.number}] {conv.label}: write side shut down")


def _rtt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


@command("sessions", "", "list the sessions (* marks the current one); UDP: datagrams in, not shown")
async def _sessions(repl: Repl, rest: str) -> None:
    items = repl.sessions.items
    if not items:
        repl.info("no sessions (/open TARGET)")
        return
    from netbench.repl import datagrams

    lines = []
    for number, conv in items.items():
        mark = "*" if number == repl.sessions.current_number else " "
        t = conv.session.transcript
        line = (
            f"{mark} {number:>2}  {safe(str(conv.session.target)):<28} {conv.state:<14} "
            f"sent {t.bytes_sent} B  received {t.bytes_received} B  rtt {_rtt(conv.session.last_rtt)}"
        )
        counted = datagrams.count(conv)
        if counted is not None:  # UDP: datagrams in and not shown; what the kernel dropped, where known
            line += f"  {datagrams.summary(counted)}"
            kernel = datagrams.kernel_drops(conv)
            if kernel is not None:
                line += f", kernel dropped {kernel:,}"
        lines.append(line)
    repl.info("\n".join(lines))


@command("use", "N", "make session N the current one", options=("<session>",))
async def _use(repl: Repl, rest: str) -> None:
    if not rest:
        raise UsageError("usage: /use N (see /sessions)")
    conv = _which(repl, rest)
    repl.sessions.use(conv.number)
    repl.info(f"[{conv.number}] {conv.label} ({conv.state})")


@command(
    "send",
    '"BYTES"',
    "send exact bytes: escapes like \\r\\n \\x00 \\t work, no line ending is added",
    """
/send "PING\\r\\n"        sends P I N G CR LF
/send --hex 50 49 4e 47  sends bytes given in hex
Quotes are optional; ${NAME} expands first.
""",
    options=("--hex",),
)
async def _send(repl: Repl, rest: str) -> None:
    conv = repl.sessions.require_current()
    text = expand(repl, rest)
    if text.startswith("--hex"):
        from netbench.core.escape import parse_hex

        data = parse_hex(text[len("--hex") :])
    else:
        if text[:1] in ("'", '"'):
            words = split(text)
            text = " ".join(words)
        data = unescape(text)
    if not data:
        raise UsageError('usage: /send "BYTES" (nothing to send)')
    await repl.sessions.send(conv, data, echo=True)


async def _exchange(repl: Repl, method: str, words: list[str], body: bytes | None) -> None:
    conv = repl.sessions.require_current()
    headers, before = headers_and_rest(words)
    if not before:
        raise UsageError(f"usage: /{'get' if method == 'GET' else 'http METHOD'} PATH [Header: value]...")
    path, extra = before[0], before[1:]
    if extra:
        raise UsageError(f"unexpected {' '.join(extra)!r}: headers are written Name: value")
    if not path.startswith(("/", "*", "http://", "https://")):
        path = "/" + path
    from netbench.core.http import build_request

    host = host_header(conv.session.target)
    data = build_request(method, path, headers=tuple(headers), body=body, host=host)
    await repl.sessions.send(conv, data, echo=True)
    from netbench.repl.waiting import wait

    try:
        await wait(conv, None, REPLY_WAIT)
    except TimedOut as error:
        repl.info(f"{safe(str(error))}; the response will show when it arrives")


@command(
    "get",
    "PATH [Header: value]...",
    "send an HTTP/1.1 GET on the current session and show the response parsed",
    """
Host is added from the session's target when not given. Examples:
  /get /index.html
  /get /json Accept: application/json 'X-Trace: on'
""",
)
async def _get(repl: Repl, rest: str) -> None:
    await _exchange(repl, "GET", split(expand(repl, rest)), None)


@command(
    "http",
    "METHOD PATH [Header: value]... [-d BODY | -d @FILE]",
    "send any HTTP/1.1 request and show the response parsed",
    """
The body follows -d (or --); -d @FILE reads it from a file; escapes such
as \\n work in the body. Content-Length is added. Examples:
  /http HEAD /index.html
  /http POST /echo Content-Type: text/plain -d 'hello\\n'
""",
    options=METHODS,
)
async def _http(repl: Repl, rest: str) -> None:
    words = split(expand(repl, rest))
    if not words:
        raise UsageError("usage: /http METHOD PATH [Header: value]... [-d BODY]")
    method = words[0].upper()
    if not is_method(method):
        raise UsageError(f"not an HTTP method: {words[0]!r}")
    body: bytes | None = None
    for flag in ("-d", "--data", "--"):
        if flag in words[1:]:
            index = words.index(flag, 1)
            text = " ".join(words[index + 1 :])
            words = words[:index]
            if text.startswith("@"):
                try:
                    body = Path(text[1:]).read_bytes()
                except OSError as error:
                    raise UsageError(f"cannot read {text[1:]}: {error.strerror}") from None
            else:
                body = unescape(text)
            break
    await _exchange(repl, method, words[1:], body)


@command(
    "wait",
    "[REGEX] [SECS]",
    "wait until the reply arrives (or data matching REGEX), up to SECS (default 5)",
    """
Looks at everything received since the last send (or /eof). With no REGEX it
waits for a reply: a whole HTTP response, or any data. Useful in scripts:
  printf 'PING\\n/wait PONG 2\\n' | netbench repl 127.0.0.1 6379
""",
)
async def _wait(repl: Repl, rest: str) -> None:
    conv = repl.sessions.require_current()
    words = split(expand(repl, rest))
    seconds = 5.0
    if words:
        try:
            seconds = float(words[-1])
            words = words[:-1]
        except ValueError:
            pass
    pattern = None
    if words:
        try:
            pattern = re.compile(" ".join(words).encode("utf-8"))
        except re.error as error:
            raise UsageError(f"bad regular expression: {error}") from None
    from netbench.repl.waiting import wait

    what = await wait(conv, pattern, seconds)
    if repl.scripted:
        repl.info(f"(wait: {what})")
