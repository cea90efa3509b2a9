"""Key bindings for the REPL prompt (Emacs by default, Vi with --vi).

Ctrl-C clears the line being typed; on an empty line it pauses the display
of data that is arriving, or else stops the command that is running, if
any. It never ends the REPL. Ctrl-D on an empty line
leaves (prompt_toolkit's default, which raises EOFError).
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


def build_key_bindings(interrupt: Callable[[], bool]) -> KeyBindings:
    """The REPL's extra key bindings (on top of prompt_toolkit's defaults).

    *interrupt* pauses incoming output or stops the running command, and says
    whether it did either.
    """
    bindings = KeyBindings()

    @bindings.add("c-c")
    def _clear(event: KeyPressEvent) -> None:
        """Clear the line (and any completion menu), or pause output / stop the command; never exit."""
        buffer = event.current_buffer
        if buffer.text:
            buffer.cancel_completion()
            buffer.reset()
        else:
            interrupt()

    return bindings
