"""stdin's reads handed to the asyncio pipe (TLS, UDP): in order, one at a time, and quiet at exit.

Ctrl-C or SIGTERM during `connect -u` (or a TLS connect) closes the loop; if
stdin ends just then, the reader thread used to leave a `Queue.put`
coroutine behind and Python printed "coroutine 'Queue.put' was never
awaited" after "netbench: terminated".
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import subprocess
import time
import warnings

from netbench.net.session_pipe import StdinReads
from tests.pipe_helpers import start_netbench


def test_stdin_ending_after_the_loop_closed_leaves_no_coroutine_behind() -> None:
    read_end, write_end = os.pipe()
    loop = asyncio.new_event_loop()
    try:
        reads = StdinReads(read_end, 1024, loop)
    finally:
        loop.close()  # the pipe ended (SIGTERM) while the thread waits on stdin
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        os.close(write_end)  # now stdin ends
        reads.thread.join(10)
        gc.collect()
    os.close(read_end)
    assert not reads.thread.is_alive()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []


def test_reads_arrive_in_order_one_at_a_time() -> None:
    async def main() -> tuple[list[bytes], int]:
        read_end, write_end = os.pipe()
        reads = StdinReads(read_end, 1024, asyncio.get_running_loop())
        os.write(write_end, b"one")
        first = await asyncio.wait_for(reads.get(), 10)
        os.write(write_end, b"two")
        await asyncio.sleep(0.05)
        os.write(write_end, b"three")
        await asyncio.sleep(0.05)
        waiting = reads.queue.qsize()  # "three" is read but held back until "two" is taken
        os.close(write_end)
        rest = [await asyncio.wait_for(reads.get(), 10) for _ in range(3)]
        reads.thread.join(10)
        os.close(read_end)
        return [first, *rest], waiting

    got, waiting = asyncio.run(main())
    assert got == [b"one", b"two", b"three", b""]
    assert waiting == 1


def test_connect_udp_sigterm_as_stdin_ends_prints_only_terminated() -> None:
    """Stdin closed at several moments just after SIGTERM: never a "never awaited" line."""
    for attempt in range(6):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.settimeout(15)
            process = start_netbench(
                "connect", "-u", "127.0.0.1", str(peer.getsockname()[1]),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            assert process.stdin is not None and process.stderr is not None
            try:
                process.stdin.write(b"ping\n")
                process.stdin.flush()
                assert peer.recvfrom(100)[0] == b"ping\n"  # the pipe is running
                process.send_signal(signal.SIGTERM)
                if attempt:
                    time.sleep(0.002 * attempt)
                process.stdin.close()
                err = process.stderr.read()
                status = process.wait(15)
            finally:
                process.kill()
                process.stderr.close()
        assert status == 143, err
        assert err.decode().splitlines() == ["netbench: terminated"]
