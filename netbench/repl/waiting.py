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

SEARCH_ALWAYS_BELOW = 64 * 1024  # what arrived since the send: searched again on every arrival below this
SEARCH_GROWTH = 8  # above it, again once it grew by an eighth, or arrivals paused for SEARCH_PAUSE
SEARCH_PAUSE = 0.05


async def wait(conv: Conversation, pattern: re.Pattern[bytes] | None, timeout: float) -> str:
    """Wait for data since the last send (matching *pattern*, or a whole HTTP response).

    Returns a short description of what ended the wait; raises TimedOut.
    A regex is searched over everything received since the send (a match may
    span reads), in place, without a copy. Past :data:`SEARCH_ALWAYS_BELOW`
    bytes it is searched again only once they grew by an eighth or arrivals
    paused for :data:`SEARCH_PAUSE` s, so a flood costs a few passes over
    what arrived, not one pass per read (quadratic), and a match is still
    seen within ``SEARCH_PAUSE`` of the last arrival.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    searched = -1  # the size of since_send at the last search
    paused = False
    while True:
        if pattern is not None:
            size = len(conv.since_send)
            due = size < SEARCH_ALWAYS_BELOW or not 0 < size - searched < size // SEARCH_GROWTH
            if size != searched and (due or paused or conv.finished):
                searched = size
                if pattern.search(conv.since_send):
                    return "matched"
        elif conv.since_send and not conv.tracker.waiting:
            return "data arrived"
        if conv.refused_since_send and not conv.since_send:
            return "datagram refused"
        if conv.finished and (pattern is None or searched == len(conv.since_send)):
            if pattern is None and conv.since_send:
                return "data arrived"
            raise TimedOut(f"{conv.label} is {conv.state}: nothing more will arrive", conv.label)
        conv.arrived.clear()
        remaining = deadline - loop.time()
        if remaining <= 0:
            what = f"/{pattern.pattern.decode(errors='replace')}/" if pattern is not None else "a reply"
            raise TimedOut(f"timed out after {timeout:g} s waiting for {what}", conv.label)
        if pattern is not None and searched != len(conv.since_send):
            remaining = min(remaining, SEARCH_PAUSE)  # search what waits once arrivals pause
        try:
            await asyncio.wait_for(conv.arrived.wait(), remaining)
            paused = False
        except TimeoutError:
            paused = True


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
