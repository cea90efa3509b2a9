"""Recording cookies: a Cookie header the server's own Set-Cookie explains is not a secret (pure).

A recorded login sends back the session cookie the server set one step
earlier. Writing it as ``${secret:COOKIE}`` would ask the user for a value
the server makes up anew on every run. Instead the step that received the
Set-Cookie captures it (``capture: {cookie_session: {cookie: session}}``)
and the later request sends ``Cookie: session=${cookie_session}``. Only a
Cookie header whose every ``name=value`` pair was set earlier in the same
session is rewritten; any other stays a secret.
"""

from __future__ import annotations

import re

from netbench.recipe.model import Capture

_HEAD_LINE = re.compile(rb"(?im)^(cookie|set-cookie)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")


def variable(cookie: str) -> str:
    """The variable a captured cookie is kept in: ``cookie_session``."""
    return "cookie_" + re.sub(r"[^A-Za-z0-9_]", "_", cookie)


def _head(data: bytes) -> bytes:
    end = data.find(b"\r\n\r\n")
    return data if end < 0 else data[: end + 2]


class CookieTrail:
    """The cookies set so far in a recording, and the Cookie headers they explain."""

    def __init__(self) -> None:
        self.set: dict[str, tuple[str, int]] = {}  # name -> (value, index of the exchange that set it)
        self.captures: dict[int, set[str]] = {}  # exchange index -> cookie names to capture there
        self.rewrites: dict[int, list[tuple[bytes, bytes]]] = {}  # exchange index -> (old value, new value)

    def answered(self, index: int, received: bytes) -> None:
        """Note the cookies exchange *index*'s answer set."""
        if not received.startswith(b"HTTP/"):
            return
        for found in _HEAD_LINE.finditer(_head(received)):
            if found.group(1).lower() != b"set-cookie":
                continue
            pair = found.group(2).split(b";", 1)[0].decode("latin-1")
            name, sep, value = pair.partition("=")
            if sep and name.strip():
                self.set[name.strip()] = (value.strip(), index)

    def _explains(self, name: str, value: str) -> bool:
        return name in self.set and self.set[name][0] == value

    def sent(self, index: int, data: bytes) -> bytes:
        """Note exchange *index*'s Cookie headers; *data* without the explained ones (for the secret scan)."""
        hidden = data
        for found in _HEAD_LINE.finditer(_head(data)):
            if found.group(1).lower() != b"cookie" or not found.group(2):
                continue
            value = found.group(2)
            pairs = [
                part.strip().partition("=") for part in value.decode("latin-1").split(";") if part.strip()
            ]
            if not pairs or not all(
                sep and self._explains(name.strip(), v.strip()) for name, sep, v in pairs
            ):
                continue  # something in it was not set by this server in this session: a secret
            new = "; ".join(f"{name.strip()}=${{{variable(name.strip())}}}" for name, _, _v in pairs)
            for name, _, _v in pairs:
                self.captures.setdefault(self.set[name.strip()][1], set()).add(name.strip())
            self.rewrites.setdefault(index, []).append((value, new.encode("latin-1")))
            hidden = hidden.replace(found.group(0), b"")
        return hidden

    def rewrite(self, index: int, template: bytes) -> bytes:
        """*template* (exchange *index*'s sent bytes, made literal) with explained cookies as variables."""
        for old, new in self.rewrites.get(index, ()):
            literal = old.replace(b"${", b"$${")
            template = re.sub(
                rb"(?im)^(cookie[ \t]*:[ \t]*)" + re.escape(literal) + rb"(?=[ \t]*\r?$)",
                lambda found, new=new: found.group(1) + new,  # type: ignore[misc]
                template,
            )
        return template

    def captures_at(self, index: int) -> tuple[Capture, ...]:
        """The cookie captures exchange *index*'s step takes (for later requests)."""
        return tuple(Capture(variable(name), "cookie", name) for name in sorted(self.captures.get(index, ())))
