"""What a session received, looked at again or kept: /tail and /save."""

from __future__ import annotations

from pathlib import Path

from netbench.core.escape import escape_text as safe
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
    from netbench.core.transcript import Received

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
    "[--force] FILE",
    "save the current session's conversation as a recipe (FILE.recipe.yaml)",
    """
The name gets .recipe.yaml when it lacks it (netbench replay DIR and pytest
look for *.recipe.yaml). An existing file is not replaced unless told:
/save! FILE or /save --force FILE. A session that sent and received nothing
is not saved. Secrets (Authorization, Cookie, ...) are written as
${secret:NAME}. Replay the file with: netbench replay FILE
  /save hello          writes hello.recipe.yaml
  /save! hello         replaces it
""",
    options=("--force",),
)
async def _save(repl: Repl, rest: str) -> None:
    conv = repl.sessions.require_current()
    words = split(rest)
    force = "--force" in words or "-f" in words
    words = [word for word in words if word not in ("--force", "-f")]
    if len(words) != 1:
        raise UsageError("usage: /save FILE (or /save! FILE to replace it)")
    transcript = conv.session.transcript
    if not transcript.bytes_sent and not transcript.bytes_received:
        raise UsageError(f"[{conv.number}] nothing to save: nothing was sent or received on this session yet")
    path = recipe_path(words[0])
    from netbench.recipe.dump import save
    from netbench.recipe.record import record

    name = path.name.removesuffix(".recipe.yaml")
    target = conv.session.target
    same = [s for s in repl.labs if (s.host, s.port) == (target.host, target.port)]
    lab = same[0].name if same and target.transport == "tcp" else None
    result = record(transcript, target, name=name, lab=lab)
    try:
        save(result.recipe, path, replace=force)
    except FileExistsError:
        raise UsageError(
            f"{safe(str(path))} exists: not replaced (/save! {safe(words[0])} replaces it)"
        ) from None
    except OSError as error:
        raise UsageError(f"cannot write {safe(str(path))}: {error.strerror}") from None
    secrets = result.secrets
    repl.info(f"saved {safe(str(path))}" + (f" (secrets replaced: {', '.join(secrets)})" if secrets else ""))


def recipe_path(given: str) -> Path:
    """*given* with ``.recipe.yaml`` added when it lacks it (``x.yaml`` and ``x.yml`` become
    ``x.recipe.yaml``); a path to a device or pipe (``/dev/stdout``) is kept as it is."""
    path = Path(given)
    if given.startswith(("/dev/", "/proc/")) or path.name.endswith(".recipe.yaml"):
        return path
    stem = path.name.removesuffix(".yaml").removesuffix(".yml").removesuffix(".recipe")
    return path.with_name(f"{stem}.recipe.yaml")
