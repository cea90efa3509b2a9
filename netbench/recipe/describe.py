"""One-line descriptions of steps and expectations, for progress lines and reports.

They describe the *template* (``${secret:TOKEN}`` stays a placeholder), so
no secret value can leak through them. Bytes are made terminal-safe.
"""

from __future__ import annotations

from netbench.core.escape import escape, quote
from netbench.recipe.model import Expect, Step


def short(data: bytes, limit: int = 50) -> str:
    """*data* as a quoted, escaped, truncated string: ``"GET / HTTP/1.1\\r\\n..."``."""
    return quote(data, limit)


def describe_expect(expect: Expect) -> str:
    """``line "+PONG"``, ``status 200, headers Content-Type``, ``closed``..."""
    parts: list[str] = []
    if expect.exact is not None:
        parts.append(f"exact {short(expect.exact)}")
    if expect.contains is not None:
        parts.append(f"contains {short(expect.contains)}")
    if expect.regex is not None:
        pattern = escape(expect.regex.encode("utf-8", "surrogateescape"), keep_newlines=False)
        parts.append(f"regex /{pattern.replace(chr(92) * 2, chr(92))}/")
    if expect.line is not None:
        parts.append(f"line {short(expect.line)}")
    if expect.count is not None:
        parts.append(f"{expect.count} bytes")
    if expect.status is not None:
        parts.append(f"status {expect.status}")
    if expect.headers:
        parts.append("headers " + ", ".join(name for name, _ in expect.headers))
    if expect.body is not None:
        parts.append(f"body {expect.body.kind} {short(expect.body.value.encode('utf-8', 'surrogateescape'))}")
    if expect.json:
        parts.append("json " + ", ".join(check.path for check in expect.json))
    if expect.cookies:
        parts.append("cookies " + ", ".join(check.path for check in expect.cookies))
    if expect.time_max is not None:
        parts.append(f"time <= {expect.time_max * 1000:g} ms")
    if expect.closed:
        parts.append("closed")
    return ", ".join(parts)


def describe_step(step: Step) -> str:
    """A one-line summary of *step*: its action, then what it expects."""
    if step.name:
        head = step.name
    elif step.send is not None:
        head = f"send {short(step.send)}"
    elif step.http is not None:
        head = f"http {step.http.method} {step.http.url}"
    elif step.close is not None:
        head = "close (half-close: write side)" if step.close == "write" else "close"
    elif step.sleep is not None:
        head = f"sleep {step.sleep:g} s"
    elif step.include is not None:
        head = f"include {step.include.path} ({len(step.include.recipe.steps)} steps)"
    else:
        head = ""
    if step.expect is not None:
        want = "expect " + describe_expect(step.expect)
        return f"{head} -> {want}" if head else want
    return head
