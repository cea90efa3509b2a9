"""``netbench scan HOST [-p PORTS]``: a TCP connect scan (UDP probe with -u)."""

from __future__ import annotations

import argparse

from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from netbench.environment import Environment

PROGRESS_AFTER = 1.0  # seconds before a progress line appears on a terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Which ports answer on HOST: a TCP connect scan (no raw packets, no root), "
        "nmap-like output. Default: the 1000 most common ports (see --top)."
    )
    parser.add_argument("host", metavar="HOST", help="host name or address (e.g. localhost, 127.0.0.1, ::1)")
    parser.add_argument(
        "-p",
        "--ports",
        metavar="PORTS",
        help="ports: 22,80,8000-9000, service names, '-' (or -p-) for all 1-65535",
    )
    parser.add_argument("--top", type=int, metavar="N", help="the N most common ports (default 1000)")
    parser.add_argument("-u", "--udp", action="store_true", help="UDP probe instead of TCP connect")
    parser.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    parser.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")
    parser.add_argument(
        "-w",
        "--timeout",
        type=float,
        default=1.0,
        metavar="SECS",
        help="per-probe timeout, at most (default 1; shrinks to 4x the round trip seen)",
    )
    parser.add_argument(
        "--retries", type=int, default=1, metavar="N", help="retries before 'filtered' stands (default 1)"
    )
    parser.add_argument(
        "--concurrency", type=int, metavar="N", help="most probes in flight (default 2048 TCP, 256 UDP)"
    )
    parser.add_argument("--rate", type=float, metavar="N", help="most probes started per second")
    parser.add_argument(
        "--workers", type=int, metavar="N", help="processes for big TCP scans (default: one per CPU, max 4)"
    )
    parser.add_argument("--banner", action="store_true", help="show what open ports say (HEAD on HTTP ports)")
    parser.add_argument(
        "--banner-timeout", type=float, default=2.0, metavar="SECS", help="banner read deadline (default 2)"
    )
    parser.add_argument("-R", "--rdns", action="store_true", help="look up the address's DNS name")
    parser.add_argument("-a", "--all", action="store_true", help="list every port, closed ones too")
    parser.add_argument("--reason", action="store_true", help="show why each state was decided")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def _check(args: argparse.Namespace) -> None:
    from netbench.errors import UsageError

    if args.timeout <= 0 or args.banner_timeout <= 0:
        raise UsageError("timeouts must be positive")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.rate is not None and args.rate <= 0:
        raise UsageError("--rate must be positive")
    if args.ports is not None and args.top is not None:
        raise UsageError("-p and --top exclude each other")
    host = args.host
    if "://" in host or "/" in host:
        raise UsageError(f"scan takes a host name or address, not {host!r} (e.g. netbench scan localhost)")
    bracketed = host.startswith("[") and "]:" in host
    if bracketed or (host.count(":") == 1 and host.rsplit(":", 1)[1].isdigit()):
        name, port = host.rsplit(":", 1)
        raise UsageError(f"scan takes the ports with -p: netbench scan {name.strip('[]')} -p {port}")
    if host.startswith("[") and host.endswith("]"):
        args.host = host[1:-1]


class _ProgressLine:
    """A one-line progress display on a terminal's stderr, after a second."""

    def __init__(self, env: Environment, host: str) -> None:
        import time

        self.env = env
        self.host = host
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int, opened: int) -> None:
        import time

        from netbench.style import CLEAR_LINE

        if time.monotonic() - self.started < PROGRESS_AFTER:
            return
        self.shown = True
        self.env.stderr.write(f"{CLEAR_LINE}scanning {self.host}: {done}/{total} ports, {opened} open")
        self.env.stderr.flush()

    def clear(self) -> None:
        from netbench.style import CLEAR_LINE

        if self.shown:
            self.env.stderr.write(CLEAR_LINE)
            self.env.stderr.flush()


def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from netbench.net.resolve import family_from_flags
    from netbench.tools.portspec import parse_ports
    from netbench.tools.scan import DEFAULT_TOP, next_step_hint, render_report, report_json, scan

    _check(args)
    protocol = "udp" if args.udp else "tcp"
    family = family_from_flags(args.ipv4, args.ipv6)
    ports = None
    if args.ports is not None:
        ports = parse_ports(args.ports, lambda name: _port_of(name, protocol))
    progress = _ProgressLine(env, args.host) if env.stderr_isatty and not args.json else None
    try:
        report = scan(
            args.host,
            ports,
            protocol=protocol,
            family=family,
            top=args.top or DEFAULT_TOP,
            timeout=args.timeout,
            retries=args.retries,
            concurrency=args.concurrency,
            rate=args.rate,
            banner=args.banner,
            banner_timeout=args.banner_timeout,
            rdns=args.rdns,
            progress=progress,
            workers=args.workers,
        )
    finally:
        if progress is not None:
            progress.clear()
    if args.json:
        env.stdout.write(report_json(report, show_all=args.all))
    else:
        env.stdout.write(render_report(report, show_all=args.all, reason=args.reason))
    env.stdout.flush()
    if report.interrupted:
        env.error("interrupted: showing what was found so far")
        return ExitStatus.INTERRUPTED
    hint = next_step_hint(report)
    if hint and env.stderr_isatty and not args.json:
        env.note(hint)
    return ExitStatus.OK


def _port_of(name: str, protocol: str) -> int | None:
    from netbench.errors import UsageError
    from netbench.tools.services import lookup

    try:
        return lookup(name, protocol)[0].port
    except UsageError:
        return None
