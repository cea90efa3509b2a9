"""``netbench services [NAME|PORT...]``: the services database, both directions."""

from __future__ import annotations

import argparse

from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from netbench.environment import Environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Look up service names and port numbers in the system's services database "
        "(/etc/services), both ways: 'http' -> 80/tcp, '80' -> http, '53/udp'. "
        "With no argument, list the whole database."
    )
    parser.add_argument(
        "queries", nargs="*", metavar="NAME|PORT", help="a name, alias or port, optionally /tcp or /udp"
    )
    parser.add_argument("-t", "--tcp", action="store_true", help="TCP entries only")
    parser.add_argument("-u", "--udp", action="store_true", help="UDP entries only")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Look up each query; exit 0 when all were found, 1 when one found nothing, 2 when one was malformed."""
    from netbench.errors import NotFound, UsageError
    from netbench.tools.services import all_entries, lookup, render_services, services_json

    if args.tcp and args.udp:
        raise UsageError("--tcp and --udp exclude each other (give neither for both)")
    protocol = "tcp" if args.tcp else "udp" if args.udp else None
    entries = all_entries(protocol) if not args.queries else []
    problems: list[UsageError] = []
    for query in args.queries:
        try:
            for entry in lookup(query, protocol):
                if entry not in entries:
                    entries.append(entry)
        except UsageError as error:
            problems.append(error)
    if len(args.queries) == 1 and problems:
        raise problems[0]  # one query, one error line, its own status
    if args.json:
        env.stdout.write(services_json(entries))
    elif entries:
        env.stdout.write(render_services(entries))
    env.stdout.flush()
    for problem in problems:
        env.error(str(problem))
    if problems:
        malformed = any(not isinstance(problem, NotFound) for problem in problems)
        return ExitStatus.USAGE if malformed else ExitStatus.EXPECTATION_FAILED
    if entries and env.stderr_isatty and args.queries and not args.json:
        first = entries[0]
        env.note(f"who listens on it here? netbench ports --port {first.port}")
    return ExitStatus.OK
