"""``netbench lab [SERVICE[:PORT]]...``: run the embedded demo servers on loopback.

No services named = all of them, each on a free port. Prints a table of
what listens where (or, with ``--json``, one JSON document on one line),
flushed at once so a parent process can read it from a pipe, then runs
until Ctrl-C or SIGTERM and exits 0. A port that cannot be bound is a
usage error (exit 2). Only loopback addresses may be bound.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netbench.environment import Environment
    from netbench.lab import Lab


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Start embedded demo servers on loopback: echo, discard, daytime, chargen "
        "(TCP and UDP, RFC 862/863/867/864), http (h11), and to learn protocols by hand smtp, "
        "redis, memcached, dns (TCP and UDP) and telnet. With no SERVICE, start all "
        "of them on free ports. Runs until Ctrl-C."
    )
    parser.add_argument(
        "services",
        nargs="*",
        metavar="SERVICE[:PORT]",
        help="echo, discard, daytime, chargen, http, smtp, redis, memcached, dns, telnet; "
        "PORT 0 or none = a free port",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to bind: 127.0.0.0/8 or ::1 only (default 127.0.0.1)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document (one line) instead of the table"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log each connection, datagram and HTTP request on stderr",
    )


def _what(description: str) -> str:
    """A description without its RFC prefix and transport note, for the table."""
    return description.split(": ", 1)[-1].replace(" (TCP and UDP)", "")


def render_table(lab: Lab) -> str:
    """The human table, with a few commands to try."""
    from netbench.lab import SERVICES
    from netbench.tools.table import render_table as table

    rows = [(s.name, "+".join(s.transports), s.address, _what(SERVICES[s.name])) for s in lab]
    lines = table(("SERVICE", "TRANSPORTS", "ADDRESS", "WHAT"), rows).splitlines()
    lines.append("")
    prefix = "try:"
    for server in lab:
        for hint in hints(server.name, server.host, server.port):
            lines.append(f"{prefix} {hint}")
            prefix = "    "
    lines.append("Ctrl-C stops the lab.")
    return "\n".join(lines) + "\n"


def hints(name: str, host: str, port: int) -> list[str]:
    """Commands to try against lab service *name* on *host*:*port*, each with a note of what to type.

    A line protocol gets the REPL (typed lines, decoded answers, ``/explain``) with its first
    command; DNS, being binary, gets ``/dns`` on a UDP session and ``dig``; the simple services
    get ``netbench connect``, as ``nc`` would be used.
    """
    from netbench.core.address import host_port

    address = host_port(host, port)
    plain = f"netbench repl {host} {port}"
    if name == "http":
        return [f"netbench http http://{address}/index.html"]
    if name == "smtp":
        return [f"{plain}   (smtp: EHLO me, then /smtp for the next command, /explain for a reply)"]
    if name == "redis":
        return [f"{plain}   (redis: PING, SET a 1, GET a; /resp sends a RESP array)"]
    if name == "memcached":
        return [f"{plain}   (memcached: version, then set k 0 0 5 and hello, get k)"]
    if name == "dns":
        return [
            f"netbench repl udp://{address}, then /dns A lab.test   (dns; /explain for the answer)",
            f"dig @{host} -p {port} lab.test   (dns, with dig from bind9-dnsutils)",
        ]
    if name == "telnet":
        return [f"netbench repl telnet://{address}   (telnet: log in as guest, password guest)"]
    return [f"netbench connect {host} {port}   ({name}; -u for UDP)"]


def render_json(lab: Lab) -> str:
    """One JSON document on one line: ``{"services": [{service, transports, host, port, address}]}``."""
    import json

    services = [
        {
            "service": s.name,
            "transports": list(s.transports),
            "host": s.host,
            "port": s.port,
            "address": s.address,
        }
        for s in lab
    ]
    return json.dumps({"services": services}) + "\n"


def run(args: argparse.Namespace, env: Environment) -> int:
    import asyncio

    from netbench.lab import check_loopback, parse_spec

    host = check_loopback(args.host)
    specs = [parse_spec(spec) for spec in args.services]
    return asyncio.run(_serve(specs, host, args.json, args.verbose, env))


async def _serve(
    specs: list[tuple[str, int]], host: str, as_json: bool, verbose: bool, env: Environment
) -> int:
    import asyncio
    import signal

    from netbench.lab import start_all

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for number in signals:
        loop.add_signal_handler(number, stop.set)
    try:
        lab = await start_all(specs, host, log=env.note if verbose else None)
        try:
            env.stdout.write(render_json(lab) if as_json else render_table(lab))
            env.stdout.flush()
            from netbench.lab.smtp import show_mail

            show_mail(lab, env.stdout, as_json=as_json)  # each message the smtp service accepts
            await stop.wait()
        finally:
            await lab.close()
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
    return 0
