"""The plain-data form of a recipe kept by the parse cache: nested tuples, and back.

:func:`to_data` turns a :class:`~netbench.recipe.model.Recipe` into tuples of
``str``/``bytes``/numbers/``None`` (and the JSON data of value checks), what
:mod:`marshal` stores; :func:`from_data` builds the same recipe from them
(``from_data(to_data(r)) == r``, ``path`` and line numbers included). Each
object is the tuple of its fields in ``__match_args__`` order, nested objects
in their own form. :func:`from_data` raises (TypeError, ValueError) on data of
the wrong shape; :mod:`netbench.recipe.cache` then parses the file instead.
"""

from __future__ import annotations

from typing import Any

from netbench.recipe.model import (
    Capture,
    Expect,
    HttpRequest,
    Include,
    Recipe,
    Retry,
    Step,
    TextMatch,
    TlsSpec,
    ValueCheck,
)

Data = tuple[Any, ...]


def to_data(recipe: Recipe) -> Data:
    """*recipe* as nested tuples of plain values."""
    name, steps, target, lab, variables, timeout, tls, description, cookies, version, path = recipe.astuple()
    return (
        name,
        tuple(_step_data(step) for step in steps),
        target,
        lab,
        variables,
        timeout,
        None if tls is None else tls.astuple(),
        description,
        cookies,
        version,
        path,
    )


def _step_data(step: Step) -> Data:
    send, http, close, sleep, expect, capture, timeout, reply, name, retry, include, line = step.astuple()
    return (
        send,
        None if http is None else http.astuple(),
        close,
        sleep,
        None if expect is None else _expect_data(expect),
        tuple(spec.astuple() for spec in capture),
        timeout,
        reply,
        name,
        None if retry is None else retry.astuple(),
        None if include is None else (include.path, to_data(include.recipe)),
        line,
    )


def _expect_data(expect: Expect) -> Data:
    exact, contains, regex, line, count, closed, status, headers, body, json, cookies, time_max = (
        expect.astuple()
    )
    return (
        exact,
        contains,
        regex,
        line,
        count,
        closed,
        status,
        tuple((name, match.astuple()) for name, match in headers),
        None if body is None else body.astuple(),
        tuple(check.astuple() for check in json),
        tuple(check.astuple() for check in cookies),
        time_max,
    )


def from_data(data: Data) -> Recipe:
    """The recipe *data* stands for (the inverse of :func:`to_data`)."""
    name, steps, target, lab, variables, timeout, tls, description, cookies, version, path = data
    return Recipe(
        name,
        tuple(map(_step, steps)),
        target,
        lab,
        variables,
        timeout,
        None if tls is None else TlsSpec(*tls),
        description,
        cookies,
        version,
        path,
    )


def _step(data: Data) -> Step:
    send, http, close, sleep, expect, capture, timeout, reply, name, retry, include, line = data
    return Step(
        send,
        None if http is None else HttpRequest(*http),
        close,
        sleep,
        None if expect is None else _expect(expect),
        tuple([Capture(*spec) for spec in capture]) if capture else (),
        timeout,
        reply,
        name,
        None if retry is None else Retry(*retry),
        None if include is None else Include(include[0], from_data(include[1])),
        line,
    )


def _expect(data: Data) -> Expect:
    exact, contains, regex, line, count, closed, status, headers, body, json, cookies, time_max = data
    return Expect(
        exact,
        contains,
        regex,
        line,
        count,
        closed,
        status,
        tuple([(name, TextMatch(*match)) for name, match in headers]) if headers else (),
        None if body is None else TextMatch(*body),
        tuple([ValueCheck(*check) for check in json]) if json else (),
        tuple([ValueCheck(*check) for check in cookies]) if cookies else (),
        time_max,
    )
