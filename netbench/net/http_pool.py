"""The keep-alive clients of ``netbench http``: one :class:`HttpClient` per origin, as curl keeps them.

:func:`parse_url` turns an ``http://`` or ``https://`` URL into the target to
connect to and the request target to send. :class:`ClientPool` hands out one
client per target, so several URLs on the same host and port share one
connection, and closes them all at the end.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from netbench.core.address import Target
from netbench.errors import UsageError

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse
    from netbench.net.http_client import Exchange, HttpClient
    from netbench.net.redirect import Request


def parse_url(text: str) -> tuple[Target, str]:
    """``http://h:p/path?q`` -> (Target, request target); no scheme means http (UsageError if bad)."""
    from urllib.parse import urlsplit

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


class ClientPool:
    """One keep-alive :class:`HttpClient` per target; :meth:`close` closes them all (idempotent).

    ``fetch(request, ...)`` sends a :class:`~netbench.net.redirect.Request` on
    the client for its URL's origin and returns the exchange
    (see :meth:`HttpClient.fetch`). ``last_request`` is the bytes most recently
    sent, for showing what went out when a response was malformed.
    """

    def __init__(
        self,
        *,
        timeout: float | None = 10.0,
        family: int = socket.AF_UNSPEC,
        insecure: bool = False,
        cafile: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.family = family
        self.insecure = insecure
        self.cafile = cafile
        self.clients: dict[Target, HttpClient] = {}
        self._last: HttpClient | None = None
        # The origin prefix of the last URL parsed and its target: the next URL on the same
        # origin (1000 URLs on one host) takes its path from the text without parsing it again.
        self._prefix = ""
        self._target: Target | None = None

    def client(self, target: Target) -> HttpClient:
        """The client for *target*, made on first use."""
        last = self._last
        if last is not None and last.target is target:
            return last  # the same origin as the last request: no Target hash to compute
        client = self.clients.get(target)
        if client is None:
            from netbench.net.http_client import HttpClient

            tls = None
            if target.transport == "tls":
                from netbench.net.tls import TLSOptions

                tls = TLSOptions(insecure=self.insecure, cafile=self.cafile)
            client = HttpClient(target, timeout=self.timeout, family=self.family, tls=tls)
            self.clients[target] = client
        return client

    def locate(self, url: str) -> tuple[Target, str]:
        """:func:`parse_url`, remembering the last origin (a same-origin URL is not parsed again)."""
        prefix = self._prefix
        if prefix and self._target is not None and url.startswith(prefix) and "#" not in url:
            return self._target, url[len(prefix) - 1 :]
        target, path = parse_url(url)
        self._prefix, self._target = _origin_prefix(url), target
        return target, path

    def fetch(
        self,
        request: Request,
        *,
        sink: Callable[[bytes], object] | None = None,
        keep_raw: bool = True,
        on_head: Callable[[HttpResponse], object] | None = None,
        max_decoded: int | None = None,
    ) -> Exchange:
        """Send *request* on its origin's client and read the response."""
        target, path = self.locate(request.url)
        client = self.client(target)
        self._last = client
        return client.fetch(
            request.method,
            path,
            request.headers,
            request.body,
            chunked=request.chunked and request.body is not None,
            sink=sink,
            keep_raw=keep_raw,
            on_head=on_head,
            max_decoded=max_decoded,
        )

    @property
    def last_request(self) -> bytes:
        """The bytes of the request sent last (empty before any)."""
        return self._last.last_request if self._last is not None else b""

    def close(self) -> None:
        """Close every connection."""
        for client in self.clients.values():
            client.close()

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
