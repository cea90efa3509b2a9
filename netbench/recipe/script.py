"""The server's view of a recipe, for ``serve`` (pure, no sockets).

For each step: what the client is expected to send (:class:`Request`),
whether to wait for the client's half-close, what to answer (the recorded
``reply``, else one made up from the step's ``expect`` when it can be), and
whether to close afterwards. Matching is loose: an HTTP request matches on
its request line; raw bytes match exactly, or with every run of digits
treated as volatile; a variable the server cannot know (a client-side
capture) matches anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus

from netbench.core.http_sniff import head_end, request_line
from netbench.recipe import madeup
from netbench.recipe.model import Recipe, Step
from netbench.recipe.template import Context, UndefinedVariable

_PLACEHOLDER = re.compile(rb"\$\$\{|\$\{[^}]*\}")
_DIGITS = re.compile(rb"\d+")


@dataclass(frozen=True)
class Request:
    """What the client should send in one step.

    ``data`` is the expanded bytes, or None when a variable could not be
    expanded (then ``pattern`` matches the template, placeholders as
    wildcards). ``http`` says a whole HTTP request (head and body) is read
    and only its request line compared.
    """

    template: bytes
    data: bytes | None
    pattern: re.Pattern[bytes]
    http: bool

    @property
    def request_line(self) -> bytes:
        source = self.data if self.data is not None else self.template
        return source.split(b"\n", 1)[0].rstrip(b"\r")

    def matches(self, received: bytes) -> bool:
        """Whether *received* is this request, loosely."""
        if self.http:
            line = received.split(b"\n", 1)[0].rstrip(b"\r")
            if self.data is not None:
                return line == self.request_line
            return self.pattern.fullmatch(line) is not None
        if self.data is not None:
            if received == self.data:
                return True
            return _DIGITS.sub(b"0", received) == _DIGITS.sub(b"0", self.data)
        return self.pattern.fullmatch(received) is not None


@dataclass(frozen=True)
class Move:
    """The server's part of one step."""

    index: int
    step: Step
    request: Request | None
    wait_eof: bool
    reply: bytes | None
    close_after: bool
    end_of_connection: bool


def _wildcard(template: bytes, first_line_only: bool = False) -> re.Pattern[bytes]:
    if first_line_only:
        template = template.split(b"\n", 1)[0].rstrip(b"\r")
    parts = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append(re.escape(b"${") if match.group(0) == b"$${" else b".*?")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile(b"".join(parts), re.DOTALL)


def _request(step: Step, context: Context) -> Request | None:
    if step.send is not None:
        template = step.send
        try:
            data: bytes | None = context.expand(template)
        except UndefinedVariable:
            data = None
        is_http = request_line(template) is not None and head_end(template) is not None
        return Request(template, data, _wildcard(template, is_http), is_http)
    if step.http is not None:
        line = f"{step.http.method} {step.http.url} HTTP/1.1".encode("utf-8", "surrogateescape")
        try:
            data = context.expand(line)
        except UndefinedVariable:
            data = None
        return Request(line, data, _wildcard(line), True)
    return None


def made_up_reply(step: Step, context: Context) -> bytes | None:
    """An answer that satisfies the step's expect, for recipes written by hand (None: cannot)."""
    expect = step.expect
    if expect is None:
        return None
    try:
        if expect.is_http or step.http is not None:
            status = expect.status or 200
            body = b""
            if expect.body is not None and expect.body.kind in ("exact", "contains"):
                body = context.expand(expect.body.value.encode("utf-8", "surrogateescape"))
            lines = [f"HTTP/1.1 {status} {_reason(status)}".encode()]
            for name, match in expect.headers:
                if match.kind == "regex":
                    continue  # no value to make up; the header is left out
                lines.append(f"{name}: {context.expand_text(match.value)}".encode("utf-8", "surrogateescape"))
            document = madeup.json_body(expect.json, context.expand_text)
            if document is not None and not body:
                body = document
                if not any(name.lower() == "content-type" for name, _ in expect.headers):
                    lines.append(b"Content-Type: application/json")
            lines += [
                b"Set-Cookie: " + value for value in madeup.set_cookies(expect.cookies, context.expand_text)
            ]
            if status >= 200 and status not in (204, 304):
                lines.append(b"Content-Length: %d" % len(body))
            else:
                body = b""
            return b"\r\n".join(lines) + b"\r\n\r\n" + body
        if expect.exact is not None:
            return context.expand(expect.exact)
        if expect.line is not None:
            return context.expand(expect.line) + b"\r\n"
        if expect.contains is not None:
            return context.expand(expect.contains)
        if expect.count is not None:
            return b"." * expect.count
    except UndefinedVariable:
        return None
    return None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def _flat(steps: tuple[Step, ...]) -> list[Step]:
    """The steps in the order a run goes through them: an include's steps in its place."""
    out: list[Step] = []
    for step in steps:
        out += _flat(step.include.recipe.steps) if step.include is not None else [step]
    return out


def moves(recipe: Recipe, context: Context) -> list[Move]:
    """The server's part of every step, in order (included steps in place of their include)."""
    out = []
    for index, step in enumerate(_flat(recipe.steps), 1):
        reply: bytes | None
        if step.reply is not None:
            try:
                reply = context.expand(step.reply)
            except UndefinedVariable:
                reply = step.reply
        else:
            reply = made_up_reply(step, context)
        out.append(
            Move(
                index=index,
                step=step,
                request=_request(step, context),
                wait_eof=step.close == "write",
                reply=reply,
                close_after=bool(step.expect and step.expect.closed),
                end_of_connection=step.close == "both",
            )
        )
    return out
