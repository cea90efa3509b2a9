"""Secrets in recorded bytes: found, named, and replaced by ``${secret:NAME}`` (pure).

A recording never writes a credential in the clear. Found are the values of
secret headers (Authorization, Proxy-Authorization, Cookie, Set-Cookie,
X-Api-Key, and any header whose name contains token, secret, passw, api-key
or session; the scheme of ``Authorization: Bearer ...`` is kept), and of
query-string parameters, form fields and JSON string fields named like
password, passwd, secret, token, api_key/apikey or access_token. Each value
gets a placeholder named after where it was found (``AUTHORIZATION``,
``PASSWORD``, ``ACCESS_TOKEN``); a long value is replaced wherever it
appears (also echoed back in a body), a short one only where it was found.
"""

from __future__ import annotations

import re

SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
SECRET_WORDS = re.compile(r"token|secret|passw|api[-_]?key|session", re.IGNORECASE)
SECRET_FIELDS = re.compile(r"passw|secret|token|api[-_]?key", re.IGNORECASE)
GLOBAL_MINIMUM = 6
_HEADER_LINE = re.compile(rb"(?m)^([A-Za-z0-9!#$%&'*+.^_`|~-]+)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*(?=\r?$)")
_SCHEME = re.compile(r"^(Bearer|Basic|Digest|Token|Negotiate) (.+)$", re.IGNORECASE)
# name=value in a request target's query or a form body (after ?, & or at a line or body start)
_PARAM = re.compile(rb"(?:(?<=[?&;])|(?<=^)|(?<=\n))([A-Za-z0-9_.%~+-]+)=([^&;#\s]*)", re.MULTILINE)
# "name": "value" in JSON text (the value as written, escapes and all)
_JSON_FIELD = re.compile(rb'"([^"\\\r\n]{1,100})"\s*:\s*"((?:[^"\\\r\n]|\\.)*)"')


def is_secret_header(name: str) -> bool:
    """True for headers whose values are never written in the clear."""
    return name.lower() in SECRET_HEADERS or bool(SECRET_WORDS.search(name))


def is_secret_field(name: str) -> bool:
    """True for query parameters and JSON fields whose values are never written in the clear."""
    return bool(SECRET_FIELDS.search(name))


class Secrets:
    """Secret values found so far and the placeholder each one becomes."""

    def __init__(self) -> None:
        self.values: dict[bytes, str] = {}
        self.local: list[tuple[re.Pattern[bytes], bytes, bytes]] = []  # short values: where they were

    def _label(self, secret: bytes, name: str) -> str | None:
        """The placeholder name for *secret* (None: it already has one)."""
        if secret in self.values:
            return None
        base = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "SECRET"
        label, number = base, 1
        while label in self.values.values():
            number += 1
            label = f"{base}_{number}"
        self.values[secret] = label
        return label

    def scan(self, data: bytes) -> None:
        """Find the secret values in *data* (a request or an answer)."""
        for match in _HEADER_LINE.finditer(data):
            name = match.group(1).decode("latin-1")
            value = match.group(2)
            if not value or not is_secret_header(name):
                continue
            text = value.decode("utf-8", "surrogateescape")
            scheme = _SCHEME.match(text) if name.lower().endswith("authorization") else None
            secret = scheme.group(2).encode("utf-8", "surrogateescape") if scheme else value
            self._label(secret, name)
        for pattern in (_PARAM, _JSON_FIELD):
            for match in pattern.finditer(data):
                name = match.group(1).decode("utf-8", "replace")
                value = match.group(2)
                if not value or not is_secret_field(name):
                    continue
                label = self._label(value, name)
                if label is not None and len(value) < GLOBAL_MINIMUM:
                    prefix = match.group(0)[: match.start(2) - match.start(0)]
                    where = re.compile(re.escape(prefix) + re.escape(value) + rb'(?=[&;#"\s]|\Z)')
                    self.local.append((where, value, b"${secret:" + label.encode() + b"}"))

    def apply(self, data: bytes) -> bytes:
        """*data* (already a template) with every secret value replaced by its placeholder."""
        for secret, label in sorted(self.values.items(), key=lambda item: -len(item[0])):
            placeholder = b"${secret:" + label.encode() + b"}"
            if len(secret) >= GLOBAL_MINIMUM:
                data = data.replace(secret, placeholder)
            else:
                data = _HEADER_LINE.sub(
                    lambda m, s=secret, p=placeholder: (
                        m.group(0).replace(s, p)  # type: ignore[misc]
                        if is_secret_header(m.group(1).decode("latin-1"))
                        else m.group(0)
                    ),
                    data,
                )
        for where, value, placeholder in self.local:
            data = where.sub(lambda m, v=value, p=placeholder: m.group(0)[: -len(v)] + p, data)  # type: ignore[misc]
        return data

    def names(self) -> tuple[str, ...]:
        """The placeholder names, in the order they were found."""
        return tuple(self.values.values())
