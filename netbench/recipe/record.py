"""Recording: a session transcript becomes a recipe (pure; used by the REPL's /save).

Consecutive sends merge into one step; what arrives after them becomes that
step's ``expect`` and, byte for byte, its ``reply`` (which ``serve`` plays
back). The ``expect`` is chosen to be stable:

- HTTP: the status, the Content-Type, and the body when it is short text;
  volatile headers (Date, Last-Modified, ETag, Age, Server, ...) are left out.
- Raw text: ``line`` for a one-line answer, ``contains`` of the last line
  for a longer one; for a banner (the server spoke first) ``contains`` its
  first line, or a ``regex`` with the digits generalised when it has any.
- Binary: ``hex`` of the first bytes. The peer closing adds ``closed: true``;
  our half-close becomes ``close: write``.

Secrets (Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key,
and headers named like token, secret, password or api key) are replaced by
``${secret:NAME}`` wherever their values appear, never written in the
clear; :attr:`RecordResult.secrets` names them so the caller can tell the
user which ``NETBENCH_SECRET_NAME`` variables replay will need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netbench.core.escape import is_text
from netbench.core.transcript import HalfClosed, Transcript
from netbench.recipe import volatile
from netbench.recipe.cookietrail import CookieTrail
from netbench.recipe.model import Expect, Recipe, Step, TextMatch
from netbench.recipe.recordjson import json_checks
from netbench.recipe.redact import Secrets
from netbench.recipe.template import escape_template

SHORT_BODY = 256
SHORT_ANSWER = 256  # text up to this size is expected exactly
SHORT_BINARY = 1024  # binary up to this size is expected exactly (as hex)
LONG_SUFFIX = 1024  # the longest "until" (contains) written for a long answer
MAX_EXACT = 64 * 1024  # past this an answer that has no unique end is expected by its length


@dataclass(frozen=True)
class RecordResult:
    """A recorded recipe, its YAML text, and the secret names it put in place of values."""

    recipe: Recipe
    text: str
    secrets: tuple[str, ...]

    def notice(self) -> str:
        """What to tell the user about the secrets (empty when there were none)."""
        if not self.secrets:
            return ""
        names = ", ".join(f"NETBENCH_SECRET_{name}" for name in self.secrets)
        return f"secrets were not saved; set {names} to replay"


def _verified(pattern: str | None, template: bytes) -> str | None:
    """*pattern* when, as a recipe regex, it consumes exactly *template*'s bytes (else None)."""
    if pattern is None or b"${" in template.replace(b"$${", b""):
        return pattern  # a placeholder in it: the expanded bytes are not known here
    found = re.compile(pattern.encode("utf-8", "surrogateescape")).match(template.replace(b"$${", b"${"))
    return pattern if found is not None and found.end() == len(template.replace(b"$${", b"${")) else None


def _unique_suffix(received: bytes) -> bytes | None:
    """The shortest run of last lines whose first occurrence ends where *received* ends."""
    lines = received.splitlines(keepends=True)
    for count in range(1, len(lines) + 1):
        suffix = b"".join(lines[-count:])
        if len(suffix) > LONG_SUFFIX:
            return None
        if suffix.strip() and received.find(suffix) == len(received) - len(suffix):
            return suffix
    return None


def answer_expect(
    received: bytes, literal: Callable[[bytes], bytes], *, banner: bool, datagram: bool
) -> Expect:
    """A raw expectation that consumes exactly *received* (and holds for it when replayed).

    Text with a date or a time in it (and a banner with numbers) becomes a
    ``\\A``-anchored ``regex`` with those parts generalised; a one-line
    answer a ``line``; a short one ``exact``; a long one ``contains`` of its
    last lines where they occur only at its end (an "until"), else ``exact``.
    Binary is ``hex``, or past :data:`SHORT_BINARY` its length (``bytes: N``).
    A datagram is always checked whole.
    """
    if not is_text(received):
        if datagram or len(received) <= SHORT_BINARY:
            return Expect(exact=received)
        return Expect(count=len(received))  # a regex of its length would be slow to match
    template = literal(received)
    if len(template) <= MAX_EXACT or datagram:
        pattern = _verified(volatile.generalise(template, digits=banner, whole=datagram), template)
        if pattern is not None:
            return Expect(regex=pattern)
    if datagram:
        return Expect(exact=received)
    if received.endswith(b"\n") and received.count(b"\n") == 1:
        return Expect(line=received.removesuffix(b"\n").removesuffix(b"\r"))
    if len(received) <= SHORT_ANSWER:
        return Expect(exact=received)
    suffix = _unique_suffix(received)
    if suffix is not None:
        return Expect(contains=suffix)
    return Expect(exact=received) if len(received) <= MAX_EXACT else Expect(count=len(received))


def _http_expect(
    sent: bytes, received: bytes, closed: bool, literal: Callable[[bytes], bytes]
) -> Expect | None:
    from netbench.core.http import sniff_exchange

    exchange = sniff_exchange(sent, received, closed=closed)
    if not exchange:
        return None
    response = exchange.response
    headers: tuple[tuple[str, TextMatch], ...] = ()
    content_type = response.header("Content-Type")
    if content_type:
        headers = (("Content-Type", TextMatch("exact", content_type)),)
    body = None
    if content_type and "json" in content_type.lower():
        checks = json_checks(response.body, literal)
        if checks:  # JSON is checked value by value: key order and spacing may change
            return Expect(status=response.status, headers=headers, json=checks)
    if response.body and len(response.body) <= SHORT_BODY and is_text(response.body):
        try:
            body = TextMatch("exact", response.body.decode("utf-8"))
        except UnicodeDecodeError:
            body = None
        pattern = volatile.generalise(literal(response.body), whole=True)
        if body is not None and pattern is not None:
            body = TextMatch("regex", pattern)
    return Expect(status=response.status, headers=headers, body=body)


def _expect(
    sent: bytes, received: bytes, closed: bool, literal: Callable[[bytes], bytes], datagram: bool
) -> Expect | None:
    if not received:
        return Expect(closed=True) if closed else None
    expect = _http_expect(sent, received, closed, literal) if sent else None
    if expect is None:
        expect = answer_expect(received, literal, banner=not sent, datagram=datagram)
    return expect.replace(closed=True) if closed else expect


def _literal_expect(expect: Expect, fix: _Literal) -> Expect:
    def fix_match(match: TextMatch | None) -> TextMatch | None:
        if match is None:
            return None
        if match.kind == "regex":
            return match  # made from the template already
        return match.replace(value=fix(match.value.encode("utf-8", "surrogateescape")).decode("utf-8"))

    return expect.replace(
        exact=fix(expect.exact) if expect.exact is not None else None,
        contains=fix(expect.contains) if expect.contains is not None else None,
        line=fix(expect.line) if expect.line is not None else None,
        headers=tuple((name, fix_match(match) or match) for name, match in expect.headers),
        body=fix_match(expect.body),
    )


class _Literal:
    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets

    def __call__(self, data: bytes) -> bytes:
        return self.secrets.apply(escape_template(data))


def record(
    transcript: Transcript, target: object, name: str = "recording", lab: str | None = None
) -> RecordResult:
    """Turn *transcript* (a session's events) into a recipe aimed at *target*.

    Over UDP (*target* ``udp://...``) nothing is merged: each datagram sent
    is a step, and each datagram received an ``expect`` of its own.
    """
    from netbench.recipe.dump import dumps

    # Over UDP each datagram is a step of its own: nothing is merged.
    datagram = str(target).startswith("udp://")
    exchanges = transcript.exchanges(datagrams=datagram)
    secrets = Secrets()
    trail = CookieTrail()  # a Cookie header that the server's Set-Cookie explains is not a secret
    for index, item in enumerate(exchanges):
        if not isinstance(item, HalfClosed):
            secrets.scan(trail.sent(index, item.sent))
            secrets.scan(item.received)
            trail.answered(index, item.received)
    literal = _Literal(secrets)
    steps: list[Step] = []
    for index, item in enumerate(exchanges):
        if isinstance(item, HalfClosed):
            steps.append(Step(close="write"))
            continue
        data, answer, eof = item
        expect = _expect(data, answer, eof, literal, datagram)
        steps.append(
            Step(
                send=secrets.apply(trail.rewrite(index, escape_template(data))) if data else None,
                expect=_literal_expect(expect, literal) if expect is not None else None,
                capture=trail.captures_at(index) if expect is not None and expect.is_http else (),
                reply=literal(answer) if answer else None,
            )
        )
    if not steps:
        steps.append(Step(sleep=0.0))
    recipe = Recipe(name=name, steps=tuple(steps), target=str(target), lab=lab)
    return RecordResult(recipe, dumps(recipe), secrets.names())


def save(recipe: Recipe | RecordResult, path: str | Path) -> None:
    """Write a recorded recipe to *path* atomically (a temporary file, then rename)."""
    from netbench.recipe.dump import save as save_recipe

    save_recipe(recipe.recipe if isinstance(recipe, RecordResult) else recipe, path)
