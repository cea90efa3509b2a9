"""``netbench listen [HOST:]PORT``: netcat -l, accept a connection then pipe.

Binds 127.0.0.1 unless a host is given; ``unix:/path`` listens on a unix
socket. ``listening on HOST:PORT`` goes to stderr (flushed) before the first
accept, so port 0 can be used by scripts.
"""

from __future__ import annotations

import argparse

from netbench.commands.connect import add_pipe_arguments
from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    import socket

    from netbench.environment import Environment
    from netbench.net.stdin_feed import StdinFeed

EPILOG = """\
examples:
  netbench listen 9000 > upload.bin              # receive one upload
  netbench listen 127.0.0.1:0 < file.bin         # serve a file once, on a free port
  netbench listen -k 9000                        # one client after another
  netbench listen -u 9007                        # UDP: the first sender is the peer
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``netbench listen``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("address", metavar="[HOST:]PORT", help="where to listen (host 127.0.0.1 by default)")
    add_pipe_arguments(
        parser,
        wait_help="idle timeout: end a connection after SECS with no data either way "
        "(waiting for a client is not limited)",
    )
    parser.add_argument(
        "-k", "--keep-open", action="store_true", help="accept another connection after each one ends"
    )


def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Listen, accept, pipe; return the exit status.

    SIGTERM stops as Ctrl-C does (what arrived is written out, the socket
    closed, a unix socket's path removed): exit 143.
    """
    from netbench.signals import sigterm_as_interrupt

    with sigterm_as_interrupt():
        return _listen(args, env)


def _listen(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from netbench.core.address import parse_bind
    from netbench.errors import UsageError
    from netbench.net.dial import address_text, open_listener
    from netbench.net.resolve import family_from_flags

    family = family_from_flags(args.ipv4, args.ipv6)
    path = ""
    if args.address.startswith("unix:"):
        path = args.address[len("unix:") :].removeprefix("//")
        if not path or args.udp:
            raise UsageError("unix:PATH needs a path (and no -u)")
        host, port = "", 0
    else:
        host, port = parse_bind(args.address)
    if args.keep_open and args.udp:
        raise UsageError("-k does not apply to UDP (the first sender is the peer)")
    listener = open_listener(host, port, family, udp=args.udp, path=path)
    try:
        where = path or address_text(listener.getsockname())
        env.note(f"listening on {'unix:' if path else ''}{where}{' (udp)' if args.udp else ''}")
        if args.udp:
            return _serve_udp(listener, args, env)
        feed = _shared_stdin(env) if args.keep_open and not args.no_stdin else None
        while True:
            status = _serve_one(listener, args, env, feed)
            if not args.keep_open:
                return status
    finally:
        listener.close()
        if path:
            import os

            try:
                os.unlink(path)
            except OSError:
                pass


def _shared_stdin(env: Environment) -> StdinFeed | None:
    """With -k, one reader of stdin for all connections (nothing typed is lost between them)."""
    from netbench.net.stdin_feed import StdinFeed

    try:
        return StdinFeed(env.stdin_bytes.fileno())
    except (AttributeError, OSError, ValueError):
        return None


def _serve_one(
    listener: socket.socket, args: argparse.Namespace, env: Environment, feed: StdinFeed | None = None
) -> ExitStatus:
    from netbench.commands.connect import pipe_setup
    from netbench.errors import NetworkError
    from netbench.net.dial import address_text
    from netbench.net.pipe import pipe_stream

    conn, address = listener.accept()
    peer = address_text(address) if address else "unix peer"
    try:
        if args.verbose:
            env.note(f"connection from {peer}")
        ends, options = pipe_setup(args, env)
        ends = ends._replace(feed=feed)
        if args.keep_open:  # the client closing ends its turn; stdin stays for the next one
            options = options._replace(interactive=True)
        try:
            pipe_stream(conn, ends, options, peer)
        except NetworkError as error:
            if not args.keep_open:
                raise
            env.error(str(error))  # -k: report it and take the next connection
            return error.status
    finally:
        conn.close()
    return ExitStatus.OK


def _serve_udp(sock: socket.socket, args: argparse.Namespace, env: Environment) -> ExitStatus:
    """The first datagram's sender becomes the peer; then the one-thread pipe (as ``connect -u``)."""
    from netbench.commands.connect import pipe_setup
    from netbench.net.dial import address_text
    from netbench.net.pipe_loop import MAX_DATAGRAM, pipe_loop

    first, address = sock.recvfrom(MAX_DATAGRAM)
    sock.connect(address)
    peer = address_text(address)
    if args.verbose:
        env.note(f"datagram from {peer}")
    ends, options = pipe_setup(args, env)
    pipe_loop(sock, ends, options, peer, first=first)
    return ExitStatus.OK
