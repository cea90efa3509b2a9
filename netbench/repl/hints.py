"""Hints for someone typing HTTP by hand (sans-IO).

- :class:`HeadWatch` follows what a session sends: after a request line
  (``GET / HTTP/1.1``) the head is open until an empty line ends it. Left
  open for :data:`HEAD_HINT_AFTER` seconds with nothing back, the REPL says
  :data:`HEAD_NOT_FINISHED` (the commonest reason a hand-typed request
  "hangs": the server is still waiting for the rest of the head).
- :func:`http09` recognises a bare ``GET /``, the HTTP/0.9 request of old
  tutorials, and says what it is and what a server does with it.

The request grammar is :mod:`netbench.core.http_sniff`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netbench.core.http_sniff import head_end, request_line

HEAD_HINT_AFTER = 2.0  # seconds
HEAD_NOT_FINISHED = "request head not finished: an empty line ends it"
_LIMIT = 64 * 1024  # a head this long without its end is not being typed by hand
_BARE_REQUEST = re.compile(rb"(GET) (/\S*|https?://\S+)\r?\n")  # HTTP/0.9 had GET alone


@dataclass
class HeadWatch:
    """Whether a request head sent on a session is still waiting for its empty line."""

    sent: bytearray | None = None  # the head so far, while open

    @property
    def open(self) -> bool:
        """True between a request line and the empty line that ends its head."""
        return self.sent is not None

    def on_sent(self, data: bytes) -> bool:
        """Follow *data* as sent; True when it leaves a request head open."""
        if self.sent is None:
            if request_line(data) is None:
                return False
            self.sent = bytearray()
        self.sent += data
        if head_end(bytes(self.sent)) is not None or len(self.sent) > _LIMIT:
            self.sent = None
            return False
        return True


def http09(sent: bytes) -> str | None:
    """What a bare ``GET /path`` line (no ``HTTP/1.x``) is, or None for anything else.

    Only GET with a path or URL: ``GET a`` (Redis) and ``EHLO me`` (SMTP) are
    other protocols' commands, not old HTTP.
    """
    match = _BARE_REQUEST.fullmatch(sent)
    if match is None or request_line(sent) is not None:
        return None
    method = match.group(1).decode("ascii")
    return (
        f"'{method} {match.group(2).decode('ascii', 'replace')}' with no version is an HTTP/0.9 request "
        "(1991): a 0.9 server sends the body alone, no status line or headers, then closes; most servers "
        f"today answer 400 or just close. For HTTP/1.1 type '{method} / HTTP/1.1', 'Host: NAME', "
        "an empty line"
    )
