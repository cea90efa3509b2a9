"""Run typed lines one at a time, in order, while the prompt stays up.

The interactive REPL hands every line to a :class:`CommandRunner` and goes
straight back to the prompt, so the toolbar keeps showing what happens (a
session ``connecting``, a command still waiting) and the user can type ahead.
Lines run strictly in the order typed. :meth:`CommandRunner.interrupt` (Ctrl-C
on an empty line, or SIGINT) stops the running command and drops the lines
typed ahead of it; the REPL itself goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from netbench.errors import NetbenchError
from netbench.repl.commands import run_line
from netbench.repl.context import Repl


class CommandRunner:
    """A queue of lines and the one task running them."""

    def __init__(self, repl: Repl, on_quit: Callable[[], None]) -> None:
        self.repl = repl
        self.on_quit = on_quit
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.current: asyncio.Task[NetbenchError | None] | None = None

    def submit(self, line: str) -> None:
        """Queue *line* to run after the ones before it."""
        self.queue.put_nowait(line)

    def interrupt(self) -> bool:
        """Stop the running command (and drop queued lines); False if nothing ran."""
        if self.current is None or self.current.done():
            return False
        dropped = 0
        while not self.queue.empty():
            self.queue.get_nowait()
            dropped += 1
        self.current.cancel()
        if dropped:
            self.repl.info(f"({dropped} line{'s' if dropped > 1 else ''} typed ahead dropped)")
        return True

    async def run_forever(self) -> None:
        """Run queued lines until /quit (then call ``on_quit``) or cancellation."""
        while True:
            line = await self.queue.get()
            self.repl.busy = line
            self.current = asyncio.get_running_loop().create_task(run_line(self.repl, line))
            try:
                await self.current
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if me is not None and me.cancelling():
                    raise
                self.repl.info("interrupted")
            finally:
                self.current = None
                self.repl.busy = None
            if self.repl.quit:
                self.on_quit()
                return
