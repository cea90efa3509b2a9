"""The redirect policy of ``netbench http --follow``, and the walk from one URL to its answer.

:func:`follow` decides what the request after a redirect is, as curl ``-L``
and RFC 9110 section 15.4 do:

- the new URL is the ``Location`` resolved against the current one;
- a 303 (except after HEAD), and a 301 or 302 after POST, become a GET
  without a body, and the headers that described that body (Content-Type,
  ...) are not sent again;
- on the way to another origin (scheme, host or port), the credentials the
  user gave (Authorization, Cookie, Proxy-Authorization) and a hand-set Host
  are dropped; a same-origin redirect keeps them. :attr:`Redirect.dropped`
  names what was dropped so that the command can say so.

:func:`hops` runs one request and the redirects after it through any
``fetch`` callable (the I/O is the caller's). A ``Location`` that is not a
usable http(s) URL is the server's fault: :class:`ProtocolError` (exit 6).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from netbench.errors import ProtocolError

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse
    from netbench.net.http_client import Exchange

REDIRECTS = (301, 302, 303, 307, 308)
CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})
#: Headers about the request body: not sent again when a redirect turns the request into a GET.
BODY_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "content-language",
        "content-location",
        "transfer-encoding",
        "digest",
        "last-modified",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))  # printable ASCII stays as it is


class Request:
    """One request as the user (or a redirect) asked for it (read-only by convention).

    Plain classes here and below, not frozen dataclasses: each dataclass costs
    ``netbench http`` about a millisecond of start-up to create (see Target).
    """

    __slots__ = ("body", "chunked", "headers", "method", "url")

    def __init__(
        self,
        url: str,
        method: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes | None = None,
        chunked: bool = False,
    ) -> None:
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.chunked = chunked

    def __repr__(self) -> str:
        return f"Request({self.url!r}, {self.method!r}, {self.headers!r}, {self.body!r}, {self.chunked!r})"


class Redirect:
    """The request after a redirect, and the names of the headers not sent on."""

    __slots__ = ("cross_origin", "dropped", "request")

    def __init__(self, request: Request, dropped: tuple[str, ...] = (), cross_origin: bool = False) -> None:
        self.request = request
        self.dropped = dropped
        self.cross_origin = cross_origin

    def __repr__(self) -> str:
        return f"Redirect({self.request!r}, {self.dropped!r}, {self.cross_origin!r})"


class Hop:
    """One exchange of a walk: the request, its exchange, and the redirect taken after it (if any)."""

    __slots__ = ("exchange", "index", "location", "next", "request")

    def __init__(
        self, index: int, request: Request, exchange: Exchange, location: str | None, next: Redirect | None
    ) -> None:
        self.index = index
        self.request = request
        self.exchange = exchange
        self.location = location
        self.next = next


def absolute(url: str) -> str:
    """*url* with ``http://`` in front when it has no scheme (as the command accepts it)."""
    return url if "://" in url else f"http://{url}"


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an absolute http(s) URL, lower case, the port made explicit."""
    from urllib.parse import urlsplit

    parts = urlsplit(absolute(url))
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return scheme, (parts.hostname or "").lower(), port


def location_of(response: HttpResponse) -> str | None:
    """The ``Location`` of a redirect response (301, 302, 303, 307, 308), else None."""
    if response.status not in REDIRECTS:
        return None
    return response.header("Location")


def follow(request: Request, status: int, location: str) -> Redirect:
    """The request to send after *request* got a *status* redirect to *location*."""
    from urllib.parse import urljoin

    try:
        url = urljoin(absolute(request.url), _clean(location))
        new_origin = origin(url)
    except ValueError:
        raise ProtocolError(f"redirect to an invalid URL: {_quote(location)}") from None
    if new_origin[0] not in _DEFAULT_PORTS or not new_origin[1]:
        raise ProtocolError(f"redirect to a URL that is not http(s): {_quote(location)}")
    method, body, chunked = request.method, request.body, request.chunked
    headers = list(request.headers)
    dropped: list[str] = []
    to_get = (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST")
    if to_get:
        method, body, chunked = "GET", None, False
        headers = [(name, value) for name, value in headers if name.lower() not in BODY_HEADERS]
    cross = new_origin != origin(request.url)
    if cross:
        leave = CREDENTIALS | {"host"}
        dropped = [name for name, _ in headers if name.lower() in leave]
        headers = [(name, value) for name, value in headers if name.lower() not in leave]
    new = Request(url, method, tuple(headers), body, chunked)
    return Redirect(new, tuple(dict.fromkeys(dropped)), cross)


def hops(
    first: Request,
    fetch: Callable[[Request], Exchange],
    *,
    follow_redirects: bool,
    max_redirects: int,
) -> Iterator[Hop]:
    """Fetch *first*, then (when asked) each redirect after it; yield every exchange in order.

    Each :class:`Hop` is yielded before the next request is sent, so a caller
    can show it first. More than *max_redirects* redirects raise
    :class:`ProtocolError` after the last one was yielded.
    """
    request = first
    for index in range(max_redirects + 1):
        exchange = fetch(request)
        location = location_of(exchange.response)
        if location is None or not follow_redirects:
            yield Hop(index, request, exchange, location, None)
            return
        if index == max_redirects:
            yield Hop(index, request, exchange, location, None)
            raise ProtocolError(f"{first.url}: stopped after {max_redirects} redirects")
        redirect = follow(request, exchange.response.status, location)
        yield Hop(index, request, exchange, location, redirect)
        request = redirect.request
    raise AssertionError("unreachable")  # pragma: no cover


def dropped_note(redirect: Redirect) -> str:
    """The one line that says which headers a redirect to another origin did not send on."""
    scheme, host, port = origin(redirect.request.url)
    names = ", ".join(redirect.dropped)
    from netbench.core.address import host_port

    where = f"{scheme}://{host_port(host, port)}"
    return f"redirect to another origin ({_quote(where)}): {names} not sent"


def _clean(location: str) -> str:
    """A Location value as a URL: outer spaces removed, spaces and non-ASCII percent-encoded.

    Control characters make it invalid (``ValueError``), as they would the request line.
    """
    from urllib.parse import quote

    text = location.strip()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise ValueError("control character in Location")
    return quote(text, safe=_SAFE, encoding="latin-1")


def _quote(text: str) -> str:
    from netbench.core.escape import escape_text

    return escape_text(text)


__all__ = [
    "REDIRECTS",
    "Hop",
    "Redirect",
    "Request",
    "absolute",
    "dropped_note",
    "follow",
    "hops",
    "location_of",
    "origin",
]
