"""The recipe's cookie jar: the standard library's ``http.cookiejar`` rules, one jar per run.

``http`` steps send the cookies that earlier answers set (domain, path,
expiry and Secure as ``http.cookiejar`` decides), unless the recipe says
``cookies: false``; a ``Cookie`` header the step writes itself is left as
it is. ``expect.cookies`` and ``capture: {NAME: {cookie: NAME}}`` read the
cookies held after the answer; with the jar off, the ones this answer set.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netbench.core.address import Target, bracket_host


def request_url(target: Target, url: str) -> str:
    """The absolute URL of a request target *url* (``/a?b``) sent to *target*."""
    scheme = "https" if target.transport == "tls" else "http"
    default = 443 if scheme == "https" else 80
    host = bracket_host(target.host) if target.transport != "unix" else "localhost"
    port = f":{target.port}" if target.transport != "unix" and target.port != default else ""
    path = url if url.startswith("/") else "/" + url
    return f"{scheme}://{host}{port}{path}"


class _Answer:
    """The response object ``CookieJar.extract_cookies`` wants: ``info()`` with the headers."""

    def __init__(self, headers: Iterable[tuple[str, str]]) -> None:
        import email.message

        self.message = email.message.Message()
        for name, value in headers:
            self.message[name] = value

    def info(self) -> Any:
        return self.message


class Jar:
    """The cookies of one recipe run (``http.cookiejar`` and ``urllib.request`` are imported
    only when an answer sets a cookie: ~50 ms a run without cookies does not pay)."""

    def __init__(self) -> None:
        import http.cookiejar

        self.jar = http.cookiejar.CookieJar()

    def header(self, url: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """*headers* for a request to *url*, with a Cookie header from the jar when it has one to send."""
        if any(name.lower() == "cookie" for name, _ in headers):
            return headers  # the step's own Cookie header wins
        import urllib.request

        request = urllib.request.Request(url)
        self.jar.add_cookie_header(request)
        value = request.get_header("Cookie") or request.unredirected_hdrs.get("Cookie")
        return [*headers, ("Cookie", value)] if value else headers

    def store(self, url: str, response_headers: Iterable[tuple[str, str]]) -> None:
        """Take the Set-Cookie headers of the answer to a request for *url*."""
        import urllib.request

        answer: Any = _Answer(response_headers)  # what extract_cookies reads of a response: info()
        self.jar.extract_cookies(answer, urllib.request.Request(url))

    def held(self) -> dict[str, str]:
        """Every cookie held now, name to value (a later one with the same name wins)."""
        self.jar.clear_expired_cookies()
        return {cookie.name: cookie.value or "" for cookie in self.jar}


def set_by(response_headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The cookies one answer's Set-Cookie headers set, name to value (for a run with the jar off)."""
    out: dict[str, str] = {}
    for name, value in response_headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, sep, rest = pair.partition("=")
            if sep and key.strip():
                out[key.strip()] = rest.strip()
    return out


class RunCookies:
    """The cookie state of one run: the jar (None with ``cookies: false``) and the cookies last seen.

    :meth:`prepare` adds the jar's Cookie header to an ``http`` step's
    request; :meth:`answered` takes an answer's Set-Cookie headers (into the
    jar for ``http`` steps) and sets :attr:`view`, what ``expect.cookies``
    and cookie captures read.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.jar: Jar | None = None  # made when the first cookie arrives
        self.target: Target | None = None
        self.url = ""
        self.view: dict[str, str] = {}

    def prepare(self, target: Target, url: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        self.target, self.url = target, url
        return self.jar.header(request_url(target, url), headers) if self.jar is not None else headers

    def answered(self, response_headers: Iterable[tuple[str, str]], http_step: bool) -> None:
        headers = list(response_headers)
        if not (self.enabled and http_step and self.target is not None):
            self.view = set_by(headers)
            return
        if self.jar is None and any(name.lower() in ("set-cookie", "set-cookie2") for name, _ in headers):
            self.jar = Jar()
        if self.jar is not None:
            self.jar.store(request_url(self.target, self.url), headers)
            self.view = self.jar.held()
