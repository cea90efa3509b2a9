"""The lab's pages that remember: ``/login``, ``/me`` and ``/ready-after`` (sans-IO).

They exist so a recipe can exercise a cookie jar and retries against the
lab (recipes/ has a login and a wait-until-ready example):

- ``POST /login`` with ``user=NAME`` (a form, the query, or a JSON object
  ``{"user": NAME}``; any password is accepted) answers 200 with
  ``Set-Cookie: session=TOKEN; Path=/; HttpOnly; SameSite=Lax``.
- ``GET /me`` answers 200 with ``{"user": NAME}`` when the request carries
  that cookie, else 401 saying how to log in.
- ``GET /ready-after?n=3`` answers 503 (``Retry-After: 0``) to the first
  n-1 requests of a client (its address, and ``key=`` when given) and 200
  from the n-th on; ``n`` runs from 1 to :data:`MAX_N`.

:class:`SiteState` holds the sessions and the counters of one running
server. Both are bounded (:data:`MAX_ENTRIES` each, the oldest forgotten
first), so a client that logs in a million times costs nothing lasting.
"""

from __future__ import annotations

import json
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import parse_qs

from netbench.lab.pages import Reply, simple

MAX_ENTRIES = 1000
MAX_N = 1000
MAX_USER = 64
COOKIE = "session"
JSON = b"application/json"


class SiteState:
    """Sessions (token -> user) and ready-after counters ((client, key) -> requests seen)."""

    def __init__(self) -> None:
        self.sessions: OrderedDict[str, str] = OrderedDict()
        self.counters: OrderedDict[tuple[str, str], int] = OrderedDict()

    def log_in(self, user: str) -> str:
        """A new session token for *user*."""
        token = secrets.token_hex(16)
        self.sessions[token] = user
        _trim(self.sessions)
        return token

    def user(self, token: str) -> str | None:
        """The user of session *token*, or None."""
        return self.sessions.get(token)

    def count(self, client: str, key: str) -> int:
        """Count one more request of *client* for *key*; return how many there were so far."""
        seen = self.counters.pop((client, key), 0) + 1
        self.counters[(client, key)] = seen
        _trim(self.counters)
        return seen


def _trim(table: OrderedDict[str, str] | OrderedDict[tuple[str, str], int]) -> None:
    while len(table) > MAX_ENTRIES:
        table.popitem(last=False)


def _header(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [value for key, value in headers if key.lower() == name]


def session_cookie(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    """The ``session`` cookie's value from the Cookie headers, or None."""
    for value in _header(headers, b"cookie"):
        for part in value.decode("latin-1").split(";"):
            name, sep, token = part.strip().partition("=")
            if sep and name == COOKIE:
                return token.strip().strip('"')
    return None


def _user_from(query: str, headers: Sequence[tuple[bytes, bytes]], body: bytes) -> str | None:
    content_type = b"".join(_header(headers, b"content-type")[:1]).lower()
    if content_type.startswith(JSON) or body.lstrip().startswith(b"{"):
        try:
            document = json.loads(body)
        except ValueError:
            return None
        user = document.get("user") if isinstance(document, dict) else None
        return user if isinstance(user, str) else None
    for source in (body.decode("latin-1"), query):
        values = parse_qs(source).get("user")
        if values:
            return values[-1]
    return None


def _json(status: int, document: dict[str, object], extra: tuple[tuple[bytes, bytes], ...] = ()) -> Reply:
    return simple(status, json.dumps(document) + "\n", JSON, extra=extra)


def login(
    method: bytes, query: str, headers: Sequence[tuple[bytes, bytes]], body: bytes, state: SiteState
) -> Reply:
    """``POST /login``: a session cookie for the user named in the form, query or JSON body."""
    if method != b"POST":
        text = 'log in with POST /login and user=NAME (a form, or JSON {"user": NAME})\n'
        return simple(405, text, extra=((b"Allow", b"POST"),))
    user = _user_from(query, headers, body)
    if not user or len(user) > MAX_USER or not user.isprintable():
        text = (
            f'say who logs in: user=NAME (a form, or JSON {{"user": NAME}}; at most {MAX_USER} characters)\n'
        )
        return simple(400, text)
    token = state.log_in(user)
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax".encode()
    return _json(200, {"user": user, "logged_in": True}, ((b"Set-Cookie", cookie),))


def me(headers: Sequence[tuple[bytes, bytes]], state: SiteState) -> Reply:
    """``GET /me``: who the session cookie belongs to, or 401."""
    token = session_cookie(headers)
    user = state.user(token) if token else None
    if user is None:
        why = "the session cookie is unknown (or forgotten)" if token else "no session cookie was sent"
        return simple(401, f"not logged in: {why}; POST /login with user=NAME, then send its cookie\n")
    return _json(200, {"user": user})


def ready_after(query: str, client: str, state: SiteState) -> Reply:
    """``/ready-after?n=N[&key=K]``: 503 to the first N-1 requests of this client and key, then 200."""
    values = parse_qs(query)
    text = values.get("n", ["3"])[-1]
    if not text.isdigit() or not 1 <= int(text) <= MAX_N:
        return simple(400, f"bad n {text!r}: give a whole number from 1 to {MAX_N}\n")
    needed = int(text)
    key = values.get("key", [""])[-1][:MAX_USER]
    seen = state.count(client, key)
    if seen < needed:
        return simple(
            503,
            f"not ready yet: request {seen} of {needed}\n",
            extra=((b"Retry-After", b"0"),),
        )
    return simple(200, f"ready: request {seen}, ready from request {needed}\n")


PATHS = frozenset({"/login", "/me", "/ready-after"})


def answer(
    method: bytes,
    path: str,
    query: str,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
    client: str,
    state: SiteState,
) -> Reply:
    """The reply for one of :data:`PATHS` (the caller checks *path* is one)."""
    if path == "/login":
        return login(method, query, headers, body, state)
    if method not in (b"GET", b"HEAD"):
        allowed = f"method {method.decode('latin-1')} not allowed on {path}\n"
        return simple(405, allowed, extra=((b"Allow", b"GET, HEAD"),))
    if path == "/me":
        return me(headers, state)
    return ready_after(query, client, state)
