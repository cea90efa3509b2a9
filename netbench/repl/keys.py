"""Key bindings for the REPL prompt (Emacs by default, Vi with --vi).

Ctrl-C clears the line being typed and never ends the REPL; Ctrl-D on an
empty line leaves (prompt_toolkit's default, which raises EOFError).
"""

from __future__ import annotations

from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


def build_key_bindings() -> KeyBindings:
    """The REPL's extra key bindings (on top of prompt_toolkit's defaults)."""
    bindings = KeyBindings()

    @bindings.add("c-c")
    def _clear(event: KeyPressEvent) -> None:
        """Clear the line (and any completion menu); never exit."""
        buffer = event.current_buffer
        buffer.cancel_completion()
        buffer.reset()

    return bindings
