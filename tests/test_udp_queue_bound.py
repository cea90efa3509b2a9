"""A UDP flood cannot grow a session's receive queue without end (net/transports.py).

The REPL stops reading a session at its transcript cap; datagrams that keep
arriving then wait in the transport's queue. Past QUEUE_LIMIT bytes they are
dropped and counted, as the kernel drops them when a socket buffer is full,
and the ones already queued are still received in order.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from netbench.core.address import parse_target
from netbench.net.transports import DATAGRAM_OVERHEAD, QUEUE_LIMIT, DatagramTransport

PAYLOAD = 60_000  # near UDP's largest, so a few hundred datagrams pass the limit


def _flood(sock: socket.socket, stop: threading.Event, sizes: list[int]) -> None:
    """Send numbered datagrams until *stop*; *sizes* lists the size of each one sent."""
    number = 0
    while not stop.is_set():
        size = 0 if number % 2 else PAYLOAD  # empty datagrams too: they cost queue space as well
        try:
            sock.send(number.to_bytes(4, "big").ljust(size, b"x") if size else b"")
        except OSError:  # the kernel's own buffer full (ENOBUFS): keep going
            time.sleep(0.001)
            continue
        sizes.append(size)
        number += 1


async def _flooded() -> tuple[DatagramTransport, int, list[int], bytes]:
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    port = peer.getsockname()[1]
    transport = await DatagramTransport.open(parse_target(f"udp://127.0.0.1:{port}"), socket.AF_INET, None)
    peer.connect(transport.transport.get_extra_info("sockname"))
    stop = threading.Event()
    sizes: list[int] = []
    sender = threading.Thread(target=_flood, args=(peer, stop, sizes), daemon=True)
    sender.start()
    highest = 0
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:  # the session reads nothing: only the queue fills
            await asyncio.sleep(0.01)
            highest = max(highest, transport.queued)
            if transport.dropped > 200:  # well past the limit: keep flooding a while longer
                break
    finally:
        stop.set()
        sender.join(10)
        peer.close()
    await asyncio.sleep(0.05)
    highest = max(highest, transport.queued)
    first = await asyncio.wait_for(transport.receive_some(65536), 5)
    await transport.close()
    return transport, highest, sizes, first


def test_a_udp_flood_is_dropped_and_counted_past_the_queue_limit() -> None:
    transport, highest, sizes, first = asyncio.run(_flooded())
    assert transport.dropped > 200
    assert sum(sizes) > 2 * QUEUE_LIMIT  # the flood sent more than twice what may wait
    assert 0 < highest <= QUEUE_LIMIT
    assert first[:4] == (0).to_bytes(4, "big")  # the oldest datagram is kept, the newest dropped


def test_receiving_frees_queue_space() -> None:
    async def main() -> tuple[int, int]:
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(("127.0.0.1", 0))
        port = peer.getsockname()[1]
        target = parse_target(f"udp://127.0.0.1:{port}")
        transport = await DatagramTransport.open(target, socket.AF_INET, None)
        peer.connect(transport.transport.get_extra_info("sockname"))
        peer.send(b"one")
        peer.send(b"two")
        while transport.queued < 2 * (3 + DATAGRAM_OVERHEAD):
            await asyncio.sleep(0.01)
        before = transport.queued
        assert await asyncio.wait_for(transport.receive_some(100), 5) == b"one"
        after = transport.queued
        peer.close()
        await transport.close()
        return before, after

    before, after = asyncio.run(asyncio.wait_for(main(), 10))
    assert before == 2 * (3 + DATAGRAM_OVERHEAD) and after == 3 + DATAGRAM_OVERHEAD
