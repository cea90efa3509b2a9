"""Colour: whether a stream gets it, and the few styles netbench paints with.

One decision for every printer (:func:`wants_color`), in this order:

1. ``--color=always`` / ``--color=never`` (every command takes ``--color``);
2. ``NO_COLOR`` set and not empty: no colour (https://no-color.org);
3. ``FORCE_COLOR`` set, not empty and not ``0``: colour, even into a pipe
   (https://force-color.org);
4. ``TERM=dumb``: no colour;
5. otherwise colour only when the stream is a terminal.

Painting is :func:`paint` with the SGR codes below; nothing else in
netbench writes colour escape sequences by hand. Pure: no I/O here, so the
sans-IO core may use it. The REPL's own colours go through prompt_toolkit,
which honours ``NO_COLOR`` too.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Mapping

CHOICES = ("auto", "always", "never")

# SGR parameters (ECMA-48).
BOLD = "1"
DIM = "2"
RED = "31"
GREEN = "32"
YELLOW = "33"
BLUE = "34"
CYAN = "36"
RESET = "\x1b[0m"

# Terminal control for progress lines (not colour: only ever written to a terminal).
CLEAR_LINE = "\r\x1b[K"


def wants_color(choice: str, environ: Mapping[str, str], isatty: bool | None) -> bool:
    """Whether a stream gets colour, by the rules in the module docstring.

    *choice* is ``--color``'s value (``auto`` when not given); *isatty* says
    whether the stream is a terminal.
    """
    if choice == "always":
        return True
    if choice == "never":
        return False
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    return bool(isatty)


def sgr(*codes: str) -> str:
    """The escape sequence that turns on *codes* (``sgr(BOLD, RED)`` is ``\\x1b[1;31m``)."""
    return f"\x1b[{';'.join(codes)}m"


def paint(text: str, *codes: str, on: bool = True) -> str:
    """*text* in the style *codes* (then reset), or *text* unchanged when *on* is false."""
    if not on or not codes or not text:
        return text
    return f"{sgr(*codes)}{text}{RESET}"
