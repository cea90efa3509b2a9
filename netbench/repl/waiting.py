"""Waiting for a reply: ``/wait``, the wait of ``/get`` and ``/http``, and the end of a script.

Both look only at what each session's receive task recorded on its
:class:`~netbench.repl.conversation.Conversation` (``since_send``, ``arrived``,
``finished``); neither reads from the network.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping

from netbench.errors import TimedOut
from netbench.repl.conversation import Conversation


async def wait(conv: Conversation, pattern: re.Pattern[bytes] | None, timeout: float) -> str:
    """Wait for data since the last send (matching *pattern*, or a whole HTTP response).

    Returns a short description of what ended the wait; raises TimedOut.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if pattern is not None:
            if pattern.search(bytes(conv.since_send)):
                return "matched"
        elif conv.since_send and not conv.tracker.waiting:
            return "data arrived"
        if conv.refused_since_send and not conv.since_send:
            return "datagram refused"
        if conv.finished:
            if pattern is None and conv.since_send:
                return "data arrived"
            raise TimedOut(f"{conv.label} is {conv.state}: nothing more will arrive", conv.label)
        conv.arrived.clear()
        remaining = deadline - loop.time()
        if remaining <= 0:
            what = f"/{pattern.pattern.decode(errors='replace')}/" if pattern is not None else "a reply"
            raise TimedOut(f"timed out after {timeout:g} s waiting for {what}", conv.label)
        try:
            await asyncio.wait_for(conv.arrived.wait(), remaining)
        except TimeoutError:
            continue


async def settle(items: Mapping[int, Conversation], *, quiet: float = 0.3, limit: float = 5.0) -> None:
    """Wait until no session in *items* expects more (quiet for *quiet* s, no HTTP response pending)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        busy = False
        now = time.monotonic()
        for conv in items.values():
            if conv.finished:
                continue
            if conv.tracker.waiting or now - conv.last_activity < quiet:
                busy = True
        if not busy:
            return
        await asyncio.sleep(0.05)
