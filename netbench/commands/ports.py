"""``netbench ports``: which local process listens or talks on which port."""

from __future__ import annotations

import argparse

from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from netbench.environment import Environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Local TCP/UDP sockets with state, pid, program and user (like lsof -i, ss -tulpn). "
        "By default listening and established sockets."
    )
    parser.add_argument("-l", "--listening", action="store_true", help="listening sockets only")
    parser.add_argument("-a", "--all", action="store_true", help="every state (TIME_WAIT, ...)")
    parser.add_argument("-t", "--tcp", action="store_true", help="TCP only")
    parser.add_argument("-u", "--udp", action="store_true", help="UDP only")
    parser.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    parser.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")
    parser.add_argument("--pid", type=int, metavar="PID", help="sockets of this process")
    parser.add_argument("--port", metavar="PORT", help="sockets with this local or remote port (or service)")
    parser.add_argument("--program", metavar="NAME", help="sockets of programs whose name contains NAME")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from netbench.core.address import parse_port
    from netbench.errors import UsageError
    from netbench.tools.ports import (
        hidden_note,
        is_root,
        list_sockets,
        next_step_hint,
        render_sockets,
        sockets_json,
    )

    if args.listening and args.all:
        raise UsageError("--listening and --all exclude each other")
    protocols = [p for p, on in (("tcp", args.tcp), ("udp", args.udp)) if on] or ["tcp", "udp"]
    versions = [v for v, on in ((4, args.ipv4), (6, args.ipv6)) if on] or [4, 6]
    port = None
    if args.port is not None:
        port = parse_port(args.port, "udp" if protocols == ["udp"] else "tcp")
    rows = list_sockets(
        listening=args.listening,
        all_states=args.all,
        protocols=protocols,
        ip_versions=versions,
        pid=args.pid,
        port=port,
        program=args.program,
    )
    note = hidden_note(rows, is_root())
    if args.json:
        env.stdout.write(sockets_json(rows, note))
        env.stdout.flush()
        return ExitStatus.OK
    env.stdout.write(render_sockets(rows))
    env.stdout.flush()
    if not rows:
        env.note("no sockets match")
    if note:
        env.note(note)
    hint = next_step_hint(rows)
    if hint and env.stderr_isatty:
        env.note(hint)
    return ExitStatus.OK
