"""``netbench connect TARGET``: the netcat pipe, stdin -> socket -> stdout.

Only argparse is imported at module level; the pipe is imported in run().
"""

from __future__ import annotations

import argparse

from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    import socket

    from netbench.core.address import Target
    from netbench.environment import Environment
    from netbench.net.pipe_options import Ends, PipeOptions

EPILOG = """\
examples:
  printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | netbench connect 127.0.0.1 8080
  netbench connect 127.0.0.1:9000 < file.bin > reply.bin
  netbench connect --tls --cafile ca.pem tls://localhost:8443
  echo ping | netbench connect -u -w 1 127.0.0.1 9007

When stdin ends the socket is half-closed (like nc -N) and netbench exits once
the peer closes. Exit status: 0 ok, 2 usage, 3 refused, 4 timeout, 5 reset,
7 TLS failure, 70 internal error (a bug), 130 interrupted, 143 terminated.
"""


WAIT_HELP = "connect timeout, and idle timeout: end after SECS with no data either way"


def add_pipe_arguments(parser: argparse.ArgumentParser, wait_help: str = WAIT_HELP) -> None:
    """Options shared by connect and listen (*wait_help* says what -w means for the command)."""
    parser.add_argument("-u", "--udp", action="store_true", help="UDP instead of TCP")
    parser.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    parser.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")
    parser.add_argument("-w", "--wait", type=_seconds, metavar="SECS", help=wait_help)
    parser.add_argument("-C", "--crlf", action="store_true", help="send LF as CRLF")
    parser.add_argument(
        "-x", "--hex", action="store_true", help="hexdump the traffic on stderr (> sent, < received)"
    )
    parser.add_argument(
        "-N",
        "--shutdown",
        action="store_true",
        default=True,
        help="half-close the socket when stdin ends (the default)",
    )
    parser.add_argument(
        "--no-shutdown",
        dest="shutdown",
        action="store_false",
        help="do not half-close when stdin ends; wait for the peer to close",
    )
    parser.add_argument(
        "-q", dest="quit_after", type=_seconds, metavar="SECS", help="quit SECS after stdin ends (0: at once)"
    )
    parser.add_argument(
        "-d", "--no-stdin", dest="no_stdin", action="store_true", help="do not read stdin (receive only)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="say what happens on stderr")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``netbench connect``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument(
        "target",
        nargs="+",
        metavar="TARGET",
        help="HOST PORT, HOST:PORT, [V6]:PORT, tcp|udp|tls://H:P, telnet://H[:P], unix:/path",
    )
    add_pipe_arguments(parser)
    parser.add_argument("--tls", action="store_true", help="TLS over TCP (verified unless --insecure)")
    parser.add_argument("-k", "--insecure", action="store_true", help="TLS without verifying the certificate")
    parser.add_argument("--sni", metavar="NAME", help="TLS server name (default: the host)")
    parser.add_argument(
        "--cafile", "--cacert", metavar="FILE", help="trust the CA certificates in FILE (--cacert: curl's)"
    )
    parser.add_argument(
        "--telnet",
        action="store_true",
        help="answer telnet option negotiation as ncat -t does (-v names it on stderr); telnet://H[:P] too",
    )
    parser.add_argument(
        "-z",
        "--zero",
        action="store_true",
        help="only check that it connects (and the TLS handshake), no I/O",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"seconds must be >= 0: {text!r}")
    return value


def pipe_setup(args: argparse.Namespace, env: Environment) -> tuple[Ends, PipeOptions]:
    """The ends (fds) and options of the pipe from the shared arguments."""
    from netbench.errors import UsageError
    from netbench.net.pipe_options import Ends, PipeOptions

    stdin_fd: int | None = None
    if not args.no_stdin:
        try:
            stdin_fd = env.stdin_bytes.fileno()
        except (AttributeError, OSError, ValueError):
            stdin_fd = None  # stdin closed (<&-): receive only, as with -d
    try:
        env.stdout.flush()
        stdout_fd = env.stdout_bytes.fileno()
    except (AttributeError, OSError, ValueError):
        raise UsageError("the pipe needs a real stdout file descriptor") from None
    ends = Ends(stdin_fd=stdin_fd, stdout_fd=stdout_fd, stderr=env.stderr)
    options = PipeOptions(
        crlf=args.crlf,
        hex=args.hex,
        terminal=bool(env.stdout_isatty),
        idle_timeout=args.wait or None,
        shutdown=args.shutdown and stdin_fd is not None,
        quit_after=args.quit_after,
        interactive=bool(env.stdin_isatty),
        telnet=getattr(args, "telnet", False),
        verbose=bool(args.verbose),
    )
    return ends, options


def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Connect, then pipe until done; return the exit status.

    SIGTERM stops the pipe as Ctrl-C does (what arrived is already written
    out, the socket is closed): exit 143.
    """
    from netbench.signals import sigterm_as_interrupt

    with sigterm_as_interrupt():
        return _connect(args, env)


def _connect(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from netbench.core.address import parse_target
    from netbench.errors import UsageError
    from netbench.net.dial import DEFAULT_CONNECT_TIMEOUT
    from netbench.net.resolve import family_from_flags

    if args.udp and args.tls:
        raise UsageError("-u and --tls exclude each other")
    transport = "udp" if args.udp else "tls" if args.tls else None
    target = parse_target(args.target, transport)  # type: ignore[arg-type]
    args.telnet = args.telnet or args.target[0].lower().startswith("telnet://")
    if args.telnet and target.transport not in ("tcp", "tls"):
        raise UsageError("--telnet needs TCP (or TLS): telnet is a stream protocol")
    family = family_from_flags(args.ipv4, args.ipv6)
    if target.transport == "unix" and family != 0:
        raise UsageError("-4/-6 do not apply to a unix socket")
    if args.zero and target.transport == "udp":
        raise UsageError("-z needs a stream (TCP, TLS or unix): UDP has no connection to check")
    if target.transport != "tls" and (args.sni or args.cafile or args.insecure):
        raise UsageError("--insecure, --sni and --cafile need --tls (or a tls:// target)")
    if args.cafile:
        import os

        if not os.path.isfile(args.cafile):
            raise UsageError(f"--cafile {args.cafile}: no such file")
    timeout = args.wait or DEFAULT_CONNECT_TIMEOUT
    return _run_pipe(args, env, target, family, timeout)


def _run_pipe(
    args: argparse.Namespace, env: Environment, target: Target, family: int, timeout: float
) -> ExitStatus:
    """Connect with the one dialer (TLS: and the handshake), then pipe until done.

    TCP and unix go through the kernel-copy pipe (:mod:`netbench.net.pipe`);
    TLS, UDP and ``--telnet`` through the one-thread pipe
    (:mod:`netbench.net.pipe_loop`). Both are blocking: no asyncio.
    """
    from netbench.net.dial import dial

    tls = None
    if target.transport == "tls":
        from netbench.net.tls import TLSOptions

        tls = TLSOptions(insecure=args.insecure, sni=args.sni, cafile=args.cafile)
    sock = dial(target, family, timeout, tls=tls)
    try:
        _say_connected(args, env, target.display)
        if tls is not None and (args.verbose or (env.stdout_isatty and env.stderr_isatty)):
            _say_certificate(env, sock, verified=not tls.insecure)
        if args.zero:
            return ExitStatus.OK
        ends, options = pipe_setup(args, env)
        if target.transport in ("tcp", "unix") and not args.telnet:  # (telnet: answers while sending)
            from netbench.net.pipe import pipe_stream

            pipe_stream(sock, ends, options, target.display)
        else:
            from netbench.net.pipe_loop import pipe_loop

            pipe_loop(sock, ends, options, target.display)
    finally:
        if tls is not None:
            from netbench.net.pipe_loop import close_socket

            close_socket(sock)  # our close_notify first
        else:
            sock.close()
    return ExitStatus.OK


def _say_connected(args: argparse.Namespace, env: Environment, where: str) -> None:
    if args.verbose:
        env.note(f"connected to {where}")


def _say_certificate(env: Environment, sock: socket.socket, *, verified: bool) -> None:
    """The TLS summary (version, cipher, the certificate's names) on stderr, escaped: they are the peer's."""
    from netbench.core.escape import escape_text
    from netbench.net.tls import summarize

    for line in summarize(sock, verified=verified).lines():  # type: ignore[arg-type]
        env.note(f"* {escape_text(line)}")
