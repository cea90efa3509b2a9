"""``/wait REGEX`` during a flood searches what arrived a few times over, not once per read.

In-process REPL sessions against a loopback peer that sends 4 MiB in a thousand
small pieces, and against the embedded lab's TCP chargen. The pattern is wrapped
to count the bytes each search looks at; nothing is timed.
"""

from __future__ import annotations

import asyncio
import io
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from netbench.errors import TimedOut
from netbench.lab import running
from netbench.repl import waiting
from tests.hostile.server import LoopbackListener


class CountingPattern:
    """A compiled pattern that adds up how many bytes its searches were given."""

    def __init__(self, pattern: bytes) -> None:
        self.compiled = re.compile(pattern)
        self.pattern = pattern
        self.scanned = 0
        self.searches = 0

    def search(self, data: Any) -> re.Match[bytes] | None:
        self.scanned += len(data)
        self.searches += 1
        return self.compiled.search(data)


async def _flood_and_wait(port: int, pattern: CountingPattern, seconds: float) -> tuple[str, int]:
    from netbench.core.address import parse_target
    from netbench.net.tls import TLSOptions
    from netbench.repl.context import PlainPrinter, Settings
    from netbench.repl.sessions import Sessions

    sessions = Sessions(PlainPrinter(io.StringIO(), io.StringIO()), Settings())
    conv = await sessions.open(parse_target([f"127.0.0.1:{port}"]), timeout=5, tls=TLSOptions(), family=0)
    try:
        try:
            ended = await waiting.wait(conv, pattern, seconds)  # type: ignore[arg-type]
        except TimedOut as error:
            ended = str(error)
        return ended, len(conv.since_send)
    finally:
        await sessions.close_all()


@pytest.fixture(scope="module")
def chargen_port() -> Iterator[int]:
    with running("chargen") as lab:
        yield lab["chargen"].port


class Trickle(LoopbackListener):
    """A peer that sends 1000 pieces of 4 KiB, one a millisecond, then closes."""

    def serve(self, conn: socket.socket, number: int) -> None:
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(10)
            try:
                for _ in range(1000):
                    conn.sendall(b"x" * 4095 + b"\n")
                    time.sleep(0.001)
            except OSError:
                pass


@pytest.fixture
def trickle_port() -> Iterator[int]:
    with Trickle() as peer:
        yield peer.port


def test_a_wait_that_never_matches_scans_a_flood_a_few_times_not_once_per_read(trickle_port: int) -> None:
    pattern = CountingPattern(b"NEVER")
    ended, received = asyncio.run(_flood_and_wait(trickle_port, pattern, 30.0))
    assert received == 4096 * 1000, ended
    assert "nothing more will arrive" in ended  # the peer's close ended the wait
    # Searched again only as what arrived grew by an eighth (about 9x its size in all) or once
    # the pieces paused, plus every small search below 64 KiB. One search per read (each a copy
    # of all that had arrived) was hundreds of times its size.
    assert pattern.scanned <= 12 * received + 64 * 1024 * 16, (pattern.scanned, pattern.searches)


def test_a_match_late_in_a_flood_is_still_found(chargen_port: int) -> None:
    # chargen's lines rotate through the printable ASCII; a line starting with "~" comes
    # after 94 lines, a few KiB in, and again every 94 lines: the wait ends on it.
    pattern = CountingPattern(rb"\n~")
    ended, _received = asyncio.run(_flood_and_wait(chargen_port, pattern, 10.0))
    assert ended == "matched"
