"""Raw answers: the bytes a step's raw check waits for, read and checked as they arrive.

On a stream (TCP, TLS, unix) :func:`receive_stream` reads exactly what the
check in force asks for (``exact``: as many bytes as expected; ``line``; up
to and including ``contains``; up to the end of a ``regex`` match;
``bytes``: a count) and leaves the rest for the next step. On UDP
:func:`receive_datagram` takes one datagram and checks it whole. Either
raises :class:`~netbench.recipe.result.StepFailed` when the check does not
hold, and what the session raises (a timeout, the peer closing) as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from netbench.core.buffer import exactly, line, match, until
from netbench.errors import RecipeError
from netbench.recipe import match as checks
from netbench.recipe.failures import check
from netbench.recipe.model import Expect

if TYPE_CHECKING:
    from netbench.net.blocking import BlockingSession
    from netbench.recipe.patterns import Pattern
    from netbench.recipe.template import Context


def receive_stream(session: BlockingSession, expect: Expect, ctx: Context, deadline: float) -> bytes:
    """Read from a stream what *expect*'s raw check asks for, checked; ``b""`` when it has none."""
    if expect.exact is not None:
        wanted = ctx.expand(expect.exact)
        piece = session.receive(exactly(len(wanted)), deadline)
        check(checks.check_piece(Expect(exact=wanted), piece))
        return piece
    if expect.line is not None:
        wanted = ctx.expand(expect.line)
        piece = session.receive(line(), deadline)
        check(checks.check_piece(Expect(line=wanted), piece))
        return piece
    if expect.contains is not None:
        return session.receive(until(ctx.expand(expect.contains)), deadline)
    if expect.regex is not None:
        found = session.receive(match(compile_regex(expect.regex, ctx)), deadline)
        return bytes(found.string[: found.end()])
    if expect.count is not None:
        return session.receive(exactly(expect.count), deadline)
    return b""


def receive_datagram(session: BlockingSession, expect: Expect, ctx: Context, deadline: float) -> bytes:
    """One datagram, checked whole against *expect*'s raw check (none read when it has none)."""
    if expect.raw_kind is None:
        return b""
    expanded = Expect(
        exact=ctx.expand(expect.exact) if expect.exact is not None else None,
        contains=ctx.expand(expect.contains) if expect.contains is not None else None,
        line=ctx.expand(expect.line) if expect.line is not None else None,
        regex=expect.regex,
        count=expect.count,
    )
    pattern = compile_regex(expect.regex, ctx) if expect.regex is not None else None
    datagram = session.receive_some(deadline)
    check(checks.check_datagram(expanded, datagram, pattern))
    return datagram


def compile_regex(pattern: str, ctx: Context) -> Pattern:
    """A recipe regex with its variables expanded, compiled (an invalid one is a recipe error)."""
    text = ctx.expand_text(pattern)
    try:
        return checks.compile_regex(text)
    except re.error as error:
        raise RecipeError(f"invalid regular expression /{text}/: {error}") from None
