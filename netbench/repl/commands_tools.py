"""Tool commands: /lab, /ports, /scan, /services, /explain, /curl."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from netbench.core.escape import escape_text as safe
from netbench.core.escape import quote
from netbench.errors import UsageError
from netbench.repl.args import split
from netbench.repl.context import Repl
from netbench.repl.registry import command

if TYPE_CHECKING:
    from netbench.recipe.model import HttpRequest


@command(
    "lab",
    "[SERVICE[:PORT]] [--udp] [--no-open]",
    "start an embedded lab server on 127.0.0.1 and open a session to it",
    """
With no SERVICE, lists the services and the lab servers running in this REPL.
The server lives as long as the REPL. Examples:
  /lab http            start the hello-world HTTP server, open a session
  /lab echo --udp      start echo, open a UDP session to it
  /lab telnet          a telnet session: option negotiation answered (as /open telnet://)
  /lab daytime:9013 --no-open
""",
    options=("--udp", "--no-open"),
)
async def _lab(repl: Repl, rest: str) -> None:
    words = split(rest)
    flags = {w for w in words if w.startswith("--")}
    names = [w for w in words if not w.startswith("--")]
    if flags - {"--udp", "--no-open"}:
        raise UsageError(f"/lab: unknown option {sorted(flags - {'--udp', '--no-open'})[0]}")
    import netbench.lab as lab

    if not names:
        lines = ["lab services:"]
        lines += [f"  {name:<10} {safe(text)}" for name, text in lab.SERVICES.items()]
        for server in repl.labs:
            lines.append(f"running: {server.name} on {server.address} ({'+'.join(server.transports)})")
        repl.info("\n".join(lines))
        return
    if len(names) > 1:
        raise UsageError("/lab starts one service at a time")
    name, _, port_text = names[0].partition(":")
    port = 0
    if port_text:
        from netbench.core.address import parse_port

        port = parse_port(port_text, allow_zero=True)
    if name not in lab.SERVICES:
        raise UsageError(f"no lab service {name!r} (services: {', '.join(lab.SERVICES)})")
    server = await lab.start(name, host="127.0.0.1", port=port)
    repl.labs.append(server)
    repl.info(f"lab {server.name} listening on {server.address} ({'+'.join(server.transports)})")
    if "--no-open" in flags:
        return
    from netbench.net.tls import TLSOptions

    target = server.target
    if "--udp" in flags:
        if "udp" not in server.transports:
            raise UsageError(f"lab {name} has no UDP side")
        target = target.with_transport("udp")
    conv = await repl.sessions.open(target, timeout=repl.settings.connect_timeout, tls=TLSOptions(), family=0)
    if name == "telnet":  # answer option negotiation, as /open telnet:// does (no await before this)
        from netbench.repl.protoview import Watch

        repl.sessions.watches[conv.number] = Watch.for_telnet()
    repl.info(conv.opened)


async def close_labs(repl: Repl) -> None:
    """Stop the lab servers this REPL started."""
    for server in repl.labs:
        try:
            await asyncio.wait_for(server.close(), 2.0)
        except Exception:
            pass
    repl.labs.clear()


async def _cli_tool(repl: Repl, name: str, rest: str) -> None:
    """Run ``netbench NAME ARGS`` in a worker thread and show its output (errors are raised)."""
    from netbench.commands.parsing import run_command
    from netbench.environment import Environment

    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=io.StringIO(),
        stdout=out,
        stderr=err,
        stdin_isatty=False,
        stdout_isatty=False,
        stderr_isatty=False,
        environ=dict(repl.environ),
    )
    status = await asyncio.to_thread(run_command, name, split(rest), env)
    text = out.getvalue().rstrip("\n")
    if text:
        repl.info(safe(text, one_line=False))
    problems = err.getvalue().rstrip("\n")
    if problems:
        (repl.error if status else repl.info)(safe(problems, one_line=False))


@command(
    "ports",
    "[OPTIONS]",
    "local sockets: state, pid, program, user (as netbench ports)",
    "Takes the options of 'netbench ports' (see netbench ports --help).",
)
async def _ports(repl: Repl, rest: str) -> None:
    await _cli_tool(repl, "ports", rest)


@command(
    "scan",
    "HOST [-p PORTS]",
    "TCP connect scan (as netbench scan)",
    "Takes the options of 'netbench scan'. Example: /scan 127.0.0.1 -p 1-1024",
    options=("-p",),
)
async def _scan(repl: Repl, rest: str) -> None:
    if not rest:
        raise UsageError("usage: /scan HOST [-p PORTS]")
    await _cli_tool(repl, "scan", rest)


@command(
    "services",
    "NAME|PORT...",
    "look up /etc/services, both directions (as netbench services)",
    "Example: /services http 6379",
)
async def _services(repl: Repl, rest: str) -> None:
    await _cli_tool(repl, "services", rest)


@command(
    "explain",
    "[STATUS|HEADER|CODE|TYPE]",
    "what the last answer means: HTTP, SMTP/FTP reply codes, Redis RESP, DNS, telnet negotiation",
    """
With no argument, explains the last answer on the current session: an HTTP
response (status and each header, with RFC sections), an SMTP/FTP-style
reply (250 ..., with RFC 5321/959 sections), a Redis RESP reply (each
value and what its type means), a DNS answer (rcode and each header flag,
RFC 1035) or telnet option negotiation (each option with its RFC). On a
telnet session whose last answer has nothing else to explain (after a
login, say), it explains the negotiation so far. It says so plainly when
it has nothing. With an argument, explains that instead (an HTTP status,
an SMTP/FTP reply code, a header, a RESP type byte). The tables ship with
netbench.
  /explain 404        /explain ETag       /explain 354       /explain $
""",
)
async def _explain(repl: Repl, rest: str) -> None:
    from netbench.repl import explain

    conv = repl.sessions.current
    port = conv.session.target.port if conv is not None else None
    word = rest.strip()
    if word:
        if word.isdigit():
            repl.info(safe("\n".join(explain.code(int(word), port=port)), one_line=False))
            return
        line = explain.resp_type(word) or explain.header(word.rstrip(":"))
        if line is None:
            raise UsageError(f"no explanation for {word!r}: {explain.KNOWS}")
        repl.info(safe(line))
        return
    if conv is None:
        if repl.sessions.last_response is None:
            raise UsageError(f"nothing to explain yet (no session): {explain.KNOWS}")
        _explain_http(repl, repl.sessions.last_response)
        return
    last = conv.last_answer
    if last.startswith(b"HTTP/") and conv.last_response is not None:
        _explain_http(repl, conv.last_response)
        return
    lines = explain.answer(last, port=port) if last else None
    watch = repl.sessions.watch(conv)
    if lines is None and watch.protocol == "telnet":  # (a login typed since: the negotiation is the lesson)
        lines = explain.negotiation_record(watch.negotiated)
    if lines is None:
        if not last:
            raise UsageError(f"nothing to explain: no answer on [{conv.number}] yet. {explain.KNOWS}")
        raise UsageError(f"no explanation for {quote(last)}: {explain.KNOWS}")
    repl.info(safe("\n".join(lines), one_line=False))


def _explain_http(repl: Repl, response: object) -> None:
    from netbench.repl import explain

    lines = explain.explain(int(response.status), list(response.headers))  # type: ignore[attr-defined]
    repl.info(safe("\n".join(lines), one_line=False))


@command(
    "curl",
    "",
    "the last HTTP request on this session as a curl command line",
    """
Finds the last HTTP request sent on the current session (typed by hand, or by
/get and /http) and prints it as a curl command aimed at the same host and
port, so it can be run outside netbench or pasted into a bug report. A Host
header that only repeats the target and a Content-Length that curl works out
are left out. `netbench import curl` turns such a line back into a recipe.
""",
)
async def _curl(repl: Repl, rest: str) -> None:
    if rest.strip():
        raise UsageError("/curl takes no arguments")
    conv = repl.sessions.current
    if conv is None:
        raise UsageError("no session: /open one, send an HTTP request, then /curl")
    from netbench.core.address import host_header
    from netbench.recipe.curl import request_as_curl

    target = conv.session.target
    request = last_http_request(conv.session.transcript.exchanges(), host_header(target))
    if request is None:
        raise UsageError(f"[{conv.number}] no HTTP request sent on this session yet")
    tls = conv.session.tls
    insecure = tls is not None and not tls.verified
    repl.info(safe(request_as_curl(request, str(target), insecure=insecure)))


def last_http_request(exchanges: Sequence[object], default_host: str) -> HttpRequest | None:
    """The last exchange whose sent bytes start with a whole HTTP request head, as a recipe request.

    Content-Length (curl works it out) is left out, and so is a Host header
    equal to *default_host* (what curl sends for the target anyway).
    """
    from netbench.core.http_sniff import RequestHead, parse_request_head
    from netbench.core.transcript import Exchange
    from netbench.recipe.model import HttpRequest

    for exchange in reversed(exchanges):
        if not isinstance(exchange, Exchange):
            continue
        head = parse_request_head(exchange.sent)
        if not isinstance(head, RequestHead):
            continue
        headers = tuple(
            (name, value)
            for name, value in head.headers
            if name.lower() != "content-length"
            and not (name.lower() == "host" and value.lower() == default_host.lower())
        )
        return HttpRequest(head.method, head.target, headers, head.body or None)
    return None
