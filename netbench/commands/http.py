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
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from netbench.core.address import Target
    from netbench.core.http import HttpResponse
    from netbench.environment import Environment
    from netbench.net.http_client import Exchange, HttpClient

REDIRECTS = (301, 302, 303, 307, 308)
VIEW_LIMIT = 1 << 20  # body bytes kept for the terminal view; the rest is read and counted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``netbench http`` (see docs/http.md)."""
    parser.add_argument("urls", nargs="+", metavar="URL", help="http://HOST[:PORT]/PATH or https://...")
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
    parser.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    parser.add_argument("--cacert", metavar="FILE", help="https: trust the CA certificates in FILE too")
    parser.add_argument(
        "--check-status",
        action="store_true",
        help="exit 1 when a final response is 4xx or 5xx (like HTTPie / curl -f)",
    )
    parser.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    parser.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")


def _parse_url(text: str) -> tuple[Target, str]:
    """``http://h:p/path?q`` -> (Target, request target); no scheme means http."""
    from urllib.parse import urlsplit

    from netbench.core.address import Target
    from netbench.errors import UsageError

    url = text if "://" in text else f"http://{text}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UsageError(f"{text!r}: only http:// and https:// URLs")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"{text!r}: bad port") from None
    if not parts.hostname:
        raise UsageError(f"{text!r}: missing host")
    transport: Literal["tls", "tcp"] = "tls" if scheme == "https" else "tcp"
    target = Target(transport, host=parts.hostname, port=port or (443 if scheme == "https" else 80))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return target, path


def _origin_prefix(url: str) -> str:
    """``http://h:p/`` of an absolute URL (empty when it has no scheme)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return ""
    return f"{scheme}://{rest.split('/', 1)[0]}/"


def _plain_path(url: str, prefix: str) -> bool:
    """True when the part of *url* after *prefix* is a plain path and query (no fragment)."""
    return bool(prefix) and "#" not in url


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


class _Printer:
    """Where each part of an exchange goes, for a terminal or a pipe."""

    def __init__(self, env: Environment, raw: bool) -> None:
        self.env = env
        self.raw = raw
        self.tty = bool(env.stdout_isatty)
        self.err_color = bool(env.stderr_isatty) and "NO_COLOR" not in env.environ
        self.out = None if self.tty else env.stdout_bytes
        self.follow = False
        self.discard = False
        self.kept: list[bytes] = []
        self.kept_size = 0

    def keep_for_view(self, data: bytes) -> None:
        """The sink for a body shown on a terminal: keep the first VIEW_LIMIT bytes only."""
        room = VIEW_LIMIT - self.kept_size
        if room > 0:
            piece = data[:room]
            self.kept.append(piece)
            self.kept_size += len(piece)

    def write_body(self, data: bytes) -> None:
        """The sink for a body when stdout is not a terminal (a followed redirect's is dropped)."""
        if not self.discard and self.out is not None:
            self.out.write(data)

    def on_head(self, head: HttpResponse) -> None:
        from netbench.core.render import render_head

        redirect = head.status in REDIRECTS and head.header("Location") is not None
        self.discard = self.follow and redirect
        self.kept, self.kept_size = [], 0
        if not self.tty:
            self.env.stdout.flush()
            self.env.stderr.write(render_head(head, color=self.err_color) + "\n\n")

    def show(self, exchange: Exchange, notes: list[str]) -> None:
        from dataclasses import replace

        from netbench.core.render import render_raw, render_response

        env = self.env
        if self.tty:
            response = replace(exchange.response, body=b"".join(self.kept), streamed=False)
            if response.body_size > self.kept_size:
                notes = [
                    *notes,
                    f"showing the first {self.kept_size} of {response.body_size} body bytes "
                    "(redirect stdout to get them all)",
                ]
            env.stdout.write(
                render_response(
                    response,
                    color=env.color,
                    show_raw=self.raw,
                    timings=exchange.timings,
                    sent=exchange.request,
                    notes=notes,
                )
            )
            env.stdout.flush()
            return
        for note in notes:
            env.stderr.write(note + "\n")
        if self.raw:
            env.stderr.write(render_raw(exchange.request, exchange.response.raw, color=self.err_color) + "\n")

    def show_partial(self, sent: bytes, partial: bytes) -> None:
        from netbench.core.render import render_raw

        stream = self.env.stdout if self.tty else self.env.stderr
        stream.write(render_raw(sent, partial) + "\n")
        stream.flush()


def run(args: argparse.Namespace, env: Environment) -> int:
    """Do the exchanges; exit 0 when every URL got a response (see docs/http.md)."""
    import os
    from urllib.parse import urljoin

    from netbench.core.escape import escape_text
    from netbench.errors import NetbenchError, ProtocolError, UsageError
    from netbench.net.http_client import HttpClient
    from netbench.net.resolve import family_from_flags
    from netbench.status import ExitStatus

    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("-w: the timeout must be positive")
    if args.max_redirects < 0:
        raise UsageError("--max-redirects: must be 0 or more")
    family = family_from_flags(args.ipv4, args.ipv6)
    body = _body(args, env)
    method = (args.method or ("POST" if body is not None else "GET")).upper()
    headers = _headers(args, body is not None)
    printer = _Printer(env, args.raw)
    if args.cacert is not None and not os.path.isfile(args.cacert):
        raise UsageError(f"--cacert {args.cacert}: no such file")
    clients: dict[Target, HttpClient] = {}
    failed_status = False

    def client_for(target: Target) -> HttpClient:
        if target not in clients:
            tls = None
            if target.transport == "tls":
                from netbench.net.tls import TLSOptions

                tls = TLSOptions(insecure=args.insecure, cafile=args.cacert)
            clients[target] = HttpClient(target, timeout=args.timeout, family=family, tls=tls)
        return clients[target]

    printer.follow = args.follow
    sink = printer.keep_for_view if printer.tty else printer.write_body
    try:
        last_prefix, last_target = "", None
        for url in args.urls:
            if last_target is not None and url.startswith(last_prefix) and _plain_path(url, last_prefix):
                target, path = last_target, url[len(last_prefix) - 1 :]  # same origin: skip re-parsing
            else:
                target, path = _parse_url(url)
                last_prefix, last_target = _origin_prefix(url), target
            current_url, current_method, current_body = url, method, body
            for hop in range(args.max_redirects + 1):
                client = client_for(target)
                try:
                    exchange = client.fetch(
                        current_method,
                        path,
                        headers,
                        current_body,
                        chunked=args.chunked and current_body is not None,
                        sink=sink,
                        keep_raw=args.raw,
                        on_head=printer.on_head,
                    )
                except NetbenchError as error:
                    partial = getattr(error, "partial", b"")
                    if args.raw:
                        printer.show_partial(client.last_request, partial)
                    raise
                response = exchange.response
                location = response.header("Location") if response.status in REDIRECTS else None
                redirect = location is not None
                notes = []
                if client.certificate is not None and hop == 0 and exchange.timings.connect:
                    notes += [escape_text(line) for line in client.certificate.lines()]
                if redirect and not args.follow:
                    notes.append("redirect not followed (--follow follows it)")
                printer.show(exchange, notes)
                if not (redirect and args.follow):
                    failed_status |= response.status >= 400
                    break
                if hop == args.max_redirects:
                    raise ProtocolError(f"{url}: stopped after {args.max_redirects} redirects")
                assert location is not None
                current_url = urljoin(
                    current_url if "://" in current_url else f"http://{current_url}", location
                )
                target, path = _parse_url(current_url)
                if response.status == 303 or (response.status in (301, 302) and current_method == "POST"):
                    current_method, current_body = "GET", None
        if printer.out is not None:
            printer.out.flush()
    finally:
        for client in clients.values():
            client.close()
    if args.check_status and failed_status:
        return int(ExitStatus.EXPECTATION_FAILED)
    return int(ExitStatus.OK)
