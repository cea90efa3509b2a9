"""What a session received, looked at again or kept: /tail and /save."""

from __future__ import annotations

from pathlib import Path

from netbench.core.escape import escape_text as safe
from netbench.core.transcript import Received
from netbench.errors import UsageError
from netbench.repl import view
from netbench.repl.args import split
from netbench.repl.context import Repl
from netbench.repl.flood import TAIL_DEFAULT, TAIL_MAX, TRANSCRIPT_CAP, tail
from netbench.repl.registry import command
from netbench.repl.toolbar import size


@command(
    "tail",
    "[N]",
    f"show the last N lines (default {TAIL_DEFAULT}) received on the current session",
    f"""
Includes what the display left out while a fast peer flooded it (or while
Ctrl-C paused it). A session keeps every byte it receives up to
{size(TRANSCRIPT_CAP)}; past that, netbench stops reading from it.
  /tail        the last {TAIL_DEFAULT} lines
  /tail 200    the last 200 (at most {TAIL_MAX})
""",
)
async def _tail(repl: Repl, rest: str) -> None:
    conv = repl.sessions.require_current()
    count = TAIL_DEFAULT
    if rest:
        try:
            count = int(rest)
        except ValueError:
            raise UsageError(f"usage: /tail [N] (N a number of lines, not {rest!r})") from None
        if not 1 <= count <= TAIL_MAX:
            raise UsageError(f"/tail shows 1 to {TAIL_MAX} lines")
    transcript = conv.session.transcript
    pieces = (event.data for event in reversed(transcript.events) if isinstance(event, Received))
    data = tail(pieces, count)
    if not data:
        repl.info(f"[{conv.number}] nothing received yet")
        return
    shown = len(data.splitlines())
    repl.info(
        f"[{conv.number}] the last {shown} line{'s' if shown != 1 else ''} of "
        f"{size(transcript.bytes_received)} received:"
    )
    settings = repl.settings
    repl.printer.show(
        view.received(data, hex_mode=settings.hex_mode, endings=settings.endings, raw=settings.raw)
    )


@command(
    "save",
    "FILE",
    "save the current session's conversation as a recipe (FILE.recipe.yaml)",
    "Secrets (Authorization, Cookie, ...) are written as ${secret:NAME};\n"
    "replay the file with: netbench replay FILE",
)
async def _save(repl: Repl, rest: str) -> None:
    conv = repl.sessions.require_current()
    words = split(rest)
    if len(words) != 1:
        raise UsageError("usage: /save FILE")
    from netbench.recipe.record import record, save

    path = Path(words[0])
    name = path.name.removesuffix(".yaml").removesuffix(".recipe")
    target = conv.session.target
    same = [s for s in repl.labs if (s.host, s.port) == (target.host, target.port)]
    lab = same[0].name if same and target.transport == "tcp" else None
    result = record(conv.session.transcript, target, name=name, lab=lab)
    try:
        save(result, path)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    secrets = result.secrets
    repl.info(f"saved {safe(str(path))}" + (f" (secrets replaced: {', '.join(secrets)})" if secrets else ""))
