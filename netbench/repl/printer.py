"""Printing above a running prompt without ever blocking it.

prompt_toolkit prints above a prompt with ``run_in_terminal``: each call
waits for the one before it (and for the terminal's answers to cursor-position
requests), erases the prompt, prints, and redraws. Two rules follow, and
:class:`TerminalPrinter` keeps both:

- **Never cancel a ``run_in_terminal`` task.** One cancelled while it waits
  for the call before it (or for a cursor-position answer) never resolves
  the future the next call waits on, and the application's exit waits on
  that future too: the REPL then ignores Ctrl-D and /quit for ever. (This
  was the hang after a chargen flood and ``/close``, which cancelled the
  receive task while it awaited its print.) Every wait here is shielded.
- **One call per batch, not per print.** Prints queue up while a call is in
  flight and go out together in the next one, so a burst costs one redraw
  and the terminal stays in raw mode (keys are keys, not ``^C``) nearly all
  the time.

And one more: printing does not switch the terminal to cooked mode
(:func:`steady_input`). prompt_toolkit does, for the length of each print;
a key pressed in that moment is read by the terminal's line discipline, not
by the REPL: Ctrl-C becomes a SIGINT echoed as ``^C`` and Ctrl-D an
end-of-file that is lost. Under a flood those moments add up.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING

from netbench.repl.view import Fragments

if TYPE_CHECKING:
    from prompt_toolkit.input import Input


def steady_input() -> Input:
    """The terminal input for the prompt: keys stay keys while output is printed.

    prompt_toolkit's own input switches the terminal to cooked mode inside
    every ``run_in_terminal``; this one leaves it in raw mode (output
    processing is unchanged, so printing looks the same).
    """
    from prompt_toolkit.input import create_input
    from prompt_toolkit.input.vt100 import Vt100Input

    class SteadyInput(Vt100Input):
        def cooked_mode(self) -> contextlib.AbstractContextManager[None]:
            return contextlib.nullcontext()

    if sys.platform == "win32":  # pragma: no cover - netbench is POSIX-first
        return create_input()
    return SteadyInput(sys.stdin)


class TerminalPrinter:
    """Prints styled fragments above the running prompt (or directly between prompts)."""

    def __init__(self, style_rules: dict[str, str]) -> None:
        from prompt_toolkit.styles import Style

        self.style = Style.from_dict(style_rules)
        self._pending: list[Fragments] = []
        self._pump: asyncio.Task[None] | None = None

    def show(self, fragments: Fragments) -> None:
        """Queue *fragments* (already terminal-safe) for the next batch; never blocks."""
        from prompt_toolkit.application import get_app_or_none

        app = get_app_or_none()
        if (app is None or not app.is_running) and not self._pending:
            self._print_now([fragments])
            return
        self._pending.append(fragments)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run())

    def _print_now(self, batch: list[Fragments]) -> None:
        from prompt_toolkit import print_formatted_text
        from prompt_toolkit.formatted_text import FormattedText

        for fragments in batch:
            print_formatted_text(FormattedText(fragments), style=self.style, end="")

    async def _run(self) -> None:
        from prompt_toolkit.application import get_app_or_none, run_in_terminal
        from prompt_toolkit.formatted_text import FormattedText
        from prompt_toolkit.output import ColorDepth, Output
        from prompt_toolkit.renderer import print_formatted_text as render

        while self._pending:
            batch, self._pending = self._pending, []
            app = get_app_or_none()
            if app is None or not app.is_running:
                self._print_now(batch)
                continue

            output, depth = app.output, app.color_depth

            def write(
                batch: list[Fragments] = batch, output: Output = output, depth: ColorDepth = depth
            ) -> None:
                for fragments in batch:
                    render(output, FormattedText(fragments), self.style, color_depth=depth)
                output.flush()

            # shield: cancelling whoever waits here must not cancel the call (see above)
            await asyncio.shield(run_in_terminal(write))

    async def drain(self) -> None:
        """Wait until everything shown so far is on the terminal (cancel-safe)."""
        pump = self._pump
        if pump is not None and not pump.done():
            await asyncio.shield(pump)
