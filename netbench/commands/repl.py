"""``netbench repl [TARGET]``: the interactive REPL (also ``netbench`` alone).

Light at import time: prompt_toolkit is imported only when the REPL runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netbench.environment import Environment


LAB_SERVICES = (
    "echo",
    "discard",
    "daytime",
    "chargen",
    "http",
    "smtp",
    "redis",
    "memcached",
    "dns",
    "telnet",
)
"""The lab's services, named here so that ``--help`` does not import the lab (a test keeps it in step)."""

EPILOG = f"""\
examples:
  netbench                               the REPL, no session yet (/help lists the commands)
  netbench repl 127.0.0.1 8080           talk to a TCP service by hand
  netbench repl tls://example.org:443    TLS (-k skips the certificate check)
  netbench repl udp://127.0.0.1:7        UDP: every line is one datagram
  netbench repl --lab http               start the embedded HTTP server, then type
                                           GET / HTTP/1.1, Host: localhost, an empty line
  netbench repl --lab redis              Redis by hand: PING, SET a 1, GET a, /explain
  printf 'PING\\n/wait PONG 2\\n' | netbench repl 127.0.0.1 6379
                                         scripted: lines from stdin, output plain

lab services (--lab SERVICE here, /lab SERVICE inside; all on 127.0.0.1):
  {", ".join(LAB_SERVICES)}
  (netbench lab --help says what each one does)

inside: a plain line is sent with CRLF (/eol), /commands do the rest; Tab
completes, Ctrl-C pauses incoming output or stops a command, Ctrl-D quits;
/save FILE keeps the conversation as a recipe for netbench replay.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``netbench repl``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.description = (
        "Talk to TCP, UDP and TLS services by hand: plain lines are sent with CRLF, "
        "/commands do the rest (/help). When stdin is not a terminal, lines are read from it."
    )
    parser.add_argument(
        "target", nargs="*", metavar="TARGET", help="HOST PORT, HOST:PORT, tls://H:P, udp://H:P"
    )
    parser.add_argument("--vi", action="store_true", help="Vi key bindings (Emacs by default)")
    parser.add_argument(
        "--lab", metavar="SERVICE", help="start an embedded lab service and open a session to it"
    )
    parser.add_argument("-u", "--udp", action="store_true", help="UDP instead of TCP")
    parser.add_argument("--tls", action="store_true", help="TLS over TCP")
    parser.add_argument("-k", "--insecure", action="store_true", help="do not verify the TLS certificate")
    parser.add_argument("--sni", metavar="NAME", help="TLS server name to send")
    parser.add_argument("--cafile", "--cacert", metavar="FILE", help="TLS: trust the CA certificates in FILE")
    parser.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    parser.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")
    parser.add_argument("-w", dest="timeout", metavar="SECS", type=float, help="connect timeout")


def run(args: argparse.Namespace, env: Environment) -> int:
    """Start the REPL (connected to TARGET when given)."""
    from netbench.core.address import parse_target
    from netbench.errors import UsageError
    from netbench.repl.app import Options
    from netbench.repl.app import run as run_repl

    open_options: list[str] = []
    for flag, on in (
        ("-u", args.udp),
        ("--tls", args.tls),
        ("--insecure", args.insecure),
        ("-4", args.ipv4),
        ("-6", args.ipv6),
    ):
        if on:
            open_options.append(flag)
    if args.sni:
        open_options += ["--sni", args.sni]
    if args.cafile:
        open_options += ["--cafile", args.cafile]
    if args.timeout is not None:
        open_options += ["-w", str(args.timeout)]
    if args.target:
        # Check the target now: a bad one is a usage error (exit 2), not a REPL message.
        parse_target(args.target, "udp" if args.udp else "tls" if args.tls else None)
    elif open_options:
        raise UsageError("connection options need a TARGET")
    options = Options(
        target=list(args.target), open_options=open_options, vi=args.vi, lab=args.lab, debug=args.debug
    )
    return run_repl(options, env)
