"""The bottom toolbar and the prompt text: current session, state, bytes, RTT.

Pure functions of the REPL state returning prompt_toolkit-style fragments
(lists of ``(style, text)``); no prompt_toolkit import needed here.
"""

from __future__ import annotations

from netbench.core.escape import escape_text as safe
from netbench.repl import datagrams
from netbench.repl.context import Repl
from netbench.repl.view import Fragments


def size(count: int) -> str:
    """Human byte count: ``512 B``, ``1.5 KiB``, ``3.2 MiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


STATE_STYLES = {
    "open": "class:toolbar.ok",
    "ready": "class:toolbar.ok",
    "refused (ICMP)": "class:toolbar.bad",
    "full": "class:toolbar.warn",
    "half-closed": "class:toolbar.warn",
    "closed by peer": "class:toolbar.bad",
    "closed": "class:toolbar.bad",
    "error": "class:toolbar.bad",
}


def prompt(repl: Repl) -> Fragments:
    """``127.0.0.1:8080> `` for the current session, ``netbench> `` with none.

    Above it, one updating status line per session whose display is
    coalesced (a flood) or paused (:meth:`netbench.repl.flood.DisplayGate.status`).
    """
    out: Fragments = []
    many = len(repl.sessions.items) > 1
    for number, each in repl.sessions.items.items():
        status = each.gate.status()
        if status is not None:
            out += [("class:note", f"[{number}] {status}" if many else status), ("", "\n")]
    conv = repl.sessions.current
    if conv is None:
        return [*out, ("class:prompt", "netbench> ")]
    label = safe(conv.label)
    if conv.state not in ("open", "ready"):
        return [
            *out,
            ("class:prompt", label),
            ("class:prompt.state", f" ({conv.state})"),
            ("class:prompt", "> "),
        ]
    return [*out, ("class:prompt", f"{label}> ")]


def toolbar(repl: Repl) -> Fragments:
    """The bottom bar: session, state, bytes each way, last RTT (UDP: datagrams in, not shown), settings."""
    conv = repl.sessions.current
    out: Fragments = []
    connecting = repl.sessions.connecting
    if connecting is not None:
        out.append(("class:toolbar.warn", f" connecting to {safe(connecting)} "))
    elif conv is None:
        out.append(("class:toolbar", " no session: /open HOST PORT or /lab http "))
    else:
        transcript = conv.session.transcript
        rtt = conv.session.last_rtt
        out += [
            (
                "class:toolbar",
                f" [{conv.number}] {safe(str(conv.session.target))} ",
            ),
            (STATE_STYLES.get(conv.state, "class:toolbar"), f" {conv.state} "),
            (
                "class:toolbar",
                f" sent {size(transcript.bytes_sent)}  recv {size(transcript.bytes_received)} ",
            ),
            ("class:toolbar", f" rtt {'-' if rtt is None else f'{rtt * 1000:.1f} ms'} "),
        ]
        counted = datagrams.count(conv)
        if counted is not None:  # UDP: how many datagrams arrived, how many were not shown
            style = "class:toolbar.warn" if counted.not_shown else "class:toolbar"
            out.append((style, f" {datagrams.summary(counted)} "))
        if conv.tracker.waiting:
            out.append(("class:toolbar.warn", f" HTTP response: {size(conv.tracker.collected)} so far "))
    if repl.busy is not None:
        busy = safe(repl.busy[:40])
        out.append(("class:toolbar.warn", f" running {busy} (Ctrl-C stops it) "))
    if len(repl.sessions.items) > 1:
        out.append(("class:toolbar", f" {len(repl.sessions.items)} sessions "))
    settings = repl.settings
    flags = [settings.eol]
    if settings.hex_mode:
        flags.append("hex")
    if settings.raw:
        flags.append("raw")
    if settings.timestamps:
        flags.append("time")
    out.append(("class:toolbar.dim", f" {' '.join(flags)} | /help, Ctrl-D quits "))
    return out
