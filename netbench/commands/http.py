"""``netbench http URL...``: HTTP/1.1 exchanges via h11, the response parsed out.

On a terminal the full parsed view goes to stdout (status, header table,
body as text / pretty JSON / hexdump, sizes and timings). When stdout is a
file or a pipe, the body alone goes there byte for byte (Content-Encoding
undone, streamed with flat memory) and the status line and headers go to
stderr, as HTTPie does. Several URLs on one host:port share one keep-alive
connection, as curl does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netbench.commands.http_printer import HttpPrinter
    from netbench.core.address import Target
    from netbench.environment import Environment
    from netbench.net.http_client import Exchange, HttpClient
    from netbench.net.http_pool import ClientPool
    from netbench.net.redirect import Request

# A decoded (gzip, deflate) body shown on a terminal is read up to this many bytes, the cap of
# raw answers elsewhere: 1 MiB of gzip can decode to 1 GiB. In a pipe it streams, uncapped.
DECODED_VIEW_LIMIT = 16 << 20
PIPELINE_DEPTH = 16  # --pipeline without N (netbench.net.http_pipeline.DEFAULT_DEPTH, not imported here)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``netbench http`` (see docs/http.md)."""
    # "*", not "+": `--pipeline URL...` takes the first URL as its optional N, and run() puts it back.
    parser.add_argument("urls", nargs="*", metavar="URL", help="http://HOST[:PORT]/PATH or https://...")
    parser.add_argument(
        "-X", "--request", dest="method", metavar="METHOD", help="method (default GET, POST with -d)"
    )
    parser.add_argument(
        "-H",
        "--header",
        dest="headers",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="add or replace a header ('Name:' removes a default one); repeatable",
    )
    parser.add_argument(
        "-d", "--data", metavar="DATA|@FILE", help="request body; @FILE reads a file, @- stdin"
    )
    parser.add_argument(
        "--chunked", action="store_true", help="send the body with Transfer-Encoding: chunked"
    )
    parser.add_argument(
        "-w",
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECS",
        help="connect and idle timeout (default 10)",
    )
    parser.add_argument("--raw", action="store_true", help="also show the exact bytes sent and received")
    parser.add_argument("--follow", action="store_true", help="follow redirects (up to --max-redirects)")
    parser.add_argument("--max-redirects", type=int, default=10, metavar="N", help="limit for --follow (10)")
    parser.add_argument("-k", "--insecure", action="store_true", help="do not verify the TLS certificate")
    parser.add_argument(
        "--cafile", "--cacert", dest="cacert", metavar="FILE", help="https: trust the CA certificates in FILE"
    )
    parser.add_argument(
        "--check-status",
        action="store_true",
        help="exit 1 when a final response is 4xx or 5xx (like HTTPie / curl -f)",
    )
    parser.add_argument(
        "--pipeline",
        nargs="?",
        const=str(PIPELINE_DEPTH),
        metavar="N",
        help=f"write up to N GET/HEAD requests ({PIPELINE_DEPTH}) before reading their answers",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show each request as it leaves, on stderr"
    )
    parser.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    parser.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")


def _headers(args: argparse.Namespace, has_body: bool) -> list[tuple[str, str]]:
    from netbench import __version__
    from netbench.errors import UsageError

    headers = [
        ("User-Agent", f"netbench/{__version__}"),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip, deflate"),
    ]
    for item in args.headers:
        name, sep, value = item.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise UsageError(f"-H {item!r}: expected 'Name: value'")
        headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
        if value or (has_body and name.lower() == "content-type"):
            headers.append((name, value))
    return headers


def _body(args: argparse.Namespace, env: Environment) -> bytes | None:
    from netbench.errors import UsageError

    data = args.data
    if data is None:
        return None
    if data == "@-":
        return env.stdin_bytes.read()
    if data.startswith("@"):
        try:
            with open(data[1:], "rb") as handle:
                return handle.read()
        except OSError as error:
            raise UsageError(f"-d {data}: {error.strerror}") from None
    return data.encode("utf-8")


def run(args: argparse.Namespace, env: Environment) -> int:
    """Do the exchanges; exit 0 when every URL got a response (see docs/http.md)."""
    import os

    from netbench.errors import UsageError
    from netbench.net.http_pool import ClientPool
    from netbench.net.resolve import family_from_flags
    from netbench.status import ExitStatus

    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("-w: the timeout must be positive")
    if args.max_redirects < 0:
        raise UsageError("--max-redirects: must be 0 or more")
    urls, depth = _urls_and_depth(args)
    family = family_from_flags(args.ipv4, args.ipv6)
    body = _body(args, env)
    method = (args.method or ("POST" if body is not None else "GET")).upper()
    headers = tuple(_headers(args, body is not None))
    if args.cacert is not None and not os.path.isfile(args.cacert):
        raise UsageError(f"--cacert {args.cacert}: no such file")
    from netbench.commands.http_printer import HttpPrinter

    printer = HttpPrinter(env, args.raw, follow=args.follow)
    # Pipelining writes GET and HEAD only (safe to write again if a server closes) and not with
    # --follow (a redirect decides what the next request is).
    pipelined = depth > 1 and method in ("GET", "HEAD") and body is None and not args.follow
    failed_status = False
    with ClientPool(timeout=args.timeout, family=family, insecure=args.insecure, cafile=args.cacert) as pool:
        if pipelined:
            for target, group in _origin_runs(pool, urls):
                failed_status |= _pipeline(pool.client(target), group, depth, method, headers, args, printer)
        else:
            from netbench.net.redirect import Request

            fetch = _fetcher(pool, args, printer)
            requests = (Request(url, method, headers, body, args.chunked) for url in urls)
            if args.follow:
                for request in requests:
                    failed_status |= _walk(fetch, request, args, printer)
            else:
                failed_status |= _each(fetch, requests, printer)
        printer.finish()
    if args.check_status and failed_status:
        return int(ExitStatus.EXPECTATION_FAILED)
    return int(ExitStatus.OK)


def _urls_and_depth(args: argparse.Namespace) -> tuple[list[str], int]:
    """The URLs and the pipeline depth (1: no pipelining); `--pipeline URL` is a URL, not N."""
    from netbench.commands.parsing import pipeline_depth
    from netbench.errors import UsageError

    urls = list(args.urls)
    depth = pipeline_depth(args.pipeline, urls, PIPELINE_DEPTH) or 1
    if not urls:
        raise UsageError("give at least one URL")
    return urls, depth


def _origin_runs(pool: ClientPool, urls: list[str]) -> Iterator[tuple[Target, list[tuple[str, str]]]]:
    """Consecutive URLs on one origin, grouped: (target, [(url, request target), ...]).

    A bad URL ends the run after the URLs before it, as one at a time would.
    """
    from netbench.errors import UsageError

    group: list[tuple[str, str]] = []
    current: Target | None = None
    for url in urls:
        try:
            target, path = pool.locate(url)
        except UsageError:
            if group:
                assert current is not None
                yield current, group
            raise
        if group and target != current:
            assert current is not None
            yield current, group
            group = []
        current = target
        group.append((url, path))
    if group:
        assert current is not None
        yield current, group


def _pipeline(
    client: HttpClient,
    group: list[tuple[str, str]],
    depth: int,
    method: str,
    headers: tuple[tuple[str, str], ...],
    args: argparse.Namespace,
    printer: HttpPrinter,
) -> bool:
    """One origin's URLs, pipelined and shown in order; True when a status was 4xx or 5xx."""
    from netbench.errors import NetbenchError
    from netbench.net.http_pipeline import PipelinedClient, Planned
    from netbench.net.redirect import location_of

    planned = [Planned(method, path, headers, url) for url, path in group]
    runner = PipelinedClient(client, depth, on_send=printer.sent if args.verbose else None)
    failed = False
    try:
        for exchange in runner.run(
            planned,
            sink=printer.sink,
            keep_raw=args.raw,
            on_head=printer.on_head,
            max_decoded=DECODED_VIEW_LIMIT if printer.tty else None,
        ):
            printer.show(exchange, _notes(exchange, location_of(exchange.response), False))
            failed |= exchange.response.status >= 400
    except NetbenchError as error:
        if args.raw:
            printer.show_partial(client.last_request, getattr(error, "partial", b""))
        raise
    return failed


def _fetcher(
    pool: ClientPool, args: argparse.Namespace, printer: HttpPrinter
) -> Callable[[Request], Exchange]:
    """The function that sends one request and reads its answer for the printer (made once a run)."""
    from netbench.errors import NetbenchError

    max_decoded = DECODED_VIEW_LIMIT if printer.tty else None

    def fetch(request: Request) -> Exchange:
        if args.verbose:
            printer.sent_line(request.method, request.url)
        try:
            return pool.fetch(
                request,
                sink=printer.sink,
                keep_raw=args.raw,
                on_head=printer.on_head,
                max_decoded=max_decoded,
            )
        except NetbenchError as error:
            if args.raw:
                printer.show_partial(pool.last_request, getattr(error, "partial", b""))
            raise

    return fetch


def _each(fetch: Callable[[Request], Exchange], requests: Iterable[Request], printer: HttpPrinter) -> bool:
    """Each request once, shown as :func:`_walk` shows a walk without --follow (one exchange, a
    redirect noted and not followed); True when a status was 4xx or 5xx."""
    from netbench.net.redirect import location_of

    failed = False
    for request in requests:
        exchange = fetch(request)
        printer.show(exchange, _notes(exchange, location_of(exchange.response), False))
        failed |= exchange.response.status >= 400
    return failed


def _walk(
    fetch: Callable[[Request], Exchange], request: Request, args: argparse.Namespace, printer: HttpPrinter
) -> bool:
    """One URL and the redirects after it, each shown; True when the final status is 4xx or 5xx."""
    from netbench.net.redirect import dropped_note, hops

    status = 0
    for hop in hops(request, fetch, follow_redirects=args.follow, max_redirects=args.max_redirects):
        printer.show(hop.exchange, _notes(hop.exchange, hop.location, args.follow))
        if hop.next is not None and hop.next.dropped:
            printer.warn(dropped_note(hop.next))
        status = hop.exchange.response.status
    return status >= 400


def _notes(exchange: Exchange, location: str | None, follow: bool) -> list[str]:
    """The lines shown under an exchange: its certificate, a cut body, a redirect not followed."""
    notes: list[str] = []
    if exchange.certificate:
        from netbench.core.escape import escape_text

        notes = [escape_text(line) for line in exchange.certificate.lines()]
    if exchange.truncated:
        response = exchange.response
        notes.append(
            f"stopped reading at {response.body_size >> 20} MiB of decoded body "
            f"({response.content_encoding}, {response.encoded_size} bytes on the wire so far): "
            "a terminal gets at most that much (redirect stdout to get all of it)"
        )
    if location is not None and not follow:
        notes.append("redirect not followed (--follow follows it)")
    return notes
