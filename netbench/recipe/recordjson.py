"""What a recording expects of a JSON body: ``expect.json`` checks, stable by construction (pure).

For a JSON object, each top-level member (at most :data:`MAX_MEMBERS`): a
short text, number, true/false or null is expected equal; text with a date
or a time in it, long text, and fields named like secrets only by their
type; an array by its type and length; an object by its type. A top-level
array is expected by its length. Values pass through the recording's
*literal* function, so ``${`` stays literal and no secret is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from netbench.recipe import jsonpath, volatile
from netbench.recipe.model import ValueCheck
from netbench.recipe.redact import is_secret_field

MAX_MEMBERS = 20
LONG_TEXT = 200


def _value(name: str, value: Any, literal: Callable[[bytes], bytes]) -> tuple[tuple[str, Any], ...]:
    kind = jsonpath.kind(value)
    if isinstance(value, list):
        return (("type", "array"), ("length", len(value)))
    if isinstance(value, dict):
        return (("type", "object"),)
    if isinstance(value, str):
        text = literal(value.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")
        volatile_text = volatile.has_date(value.encode("utf-8", "surrogateescape")) or len(value) > LONG_TEXT
        if is_secret_field(name) or volatile_text or "${secret:" in text:
            return (("type", "string"),)
        return (("equal", text),)
    if kind == "number" and is_secret_field(name):
        return (("type", "number"),)
    return (("equal", value),)


def json_checks(body: bytes, literal: Callable[[bytes], bytes]) -> tuple[ValueCheck, ...]:
    """The checks for a JSON *body*; empty when it is not JSON (or is a lone scalar)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ()
    if isinstance(document, list):
        return (ValueCheck("$", (("type", "array"), ("length", len(document)))),)
    if not isinstance(document, dict):
        return ()
    checks = []
    for name, value in list(document.items())[:MAX_MEMBERS]:
        checks.append(ValueCheck(jsonpath.show((name,)), _value(name, value, literal)))
    return tuple(checks)
