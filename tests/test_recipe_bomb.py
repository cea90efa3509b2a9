"""Decoded size caps in replay (issue 11 item 4): a gzip bomb fails its step, memory stays bounded.

A hostile loopback server answers an ``http`` step with about 1 MiB of gzip
that decodes to 1 GiB. The runner reads the decoded body up to 16 MiB, fails
the step with a message that says so and closes that connection; the peak
RSS of the replaying process (its VmHWM, in a subprocess) stays far below
what decoding the whole body would take.
"""

from __future__ import annotations

import functools
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from netbench import replay
from tests.hostile.keepalive import ScriptServer, Seen, ok
from tests.hostile.server import CLOSE, HostileServer, Step

MIB = 1 << 20
DECODED_MIB = 1024  # 1 GiB of zeros in about 1 MiB of gzip
MESSAGE = "the gzip body decodes to more than 16 MiB"


@functools.cache
def _gzip_bomb() -> bytes:
    """A valid gzip member of DECODED_MIB MiB of zeros: one full-flush block repeated (fast to build)."""
    zeros = bytes(MIB)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)  # the same bytes every MiB
    end = packer.flush()[:-8]  # the last (empty) block, without the trailer of 2 MiB
    crc = 0
    for _ in range(DECODED_MIB):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (DECODED_MIB * MIB) & 0xFFFFFFFF)
    return first + block * (DECODED_MIB - 1) + end + trailer


def _answer(encoding: str = "gzip") -> bytes:
    body = _gzip_bomb()
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (
        encoding.encode(),
        len(body),
    )
    return head + body


def _recipe(tmp_path: Path, steps: str) -> Path:
    path = tmp_path / "bomb.recipe.yaml"
    path.write_text("netbench: 1\ntimeout: 20\nsteps:\n" + steps)
    return path


def test_the_bomb_is_a_real_one() -> None:
    data = _gzip_bomb()
    assert 0.9 * MIB < len(data) < 1.2 * MIB
    unpacker = zlib.decompressobj(31)
    assert len(unpacker.decompress(data, 32 * MIB)) == 32 * MIB  # decodes past the cap


def test_an_http_step_fails_on_a_gzip_bomb_with_a_clear_message(tmp_path: Path) -> None:
    steps = "  - http: {url: /bomb}\n    expect: {status: 200}\n"
    with HostileServer([_answer(), CLOSE]) as server:
        result = replay(_recipe(tmp_path, steps), target=f"127.0.0.1:{server.port}")
    assert result.status == 1
    (step,) = result.steps
    assert not step.ok and step.message == MESSAGE
    assert step.received is not None and 0 < len(step.received) <= 64 * 1024


def test_a_raw_step_read_as_http_fails_on_the_bomb_too(tmp_path: Path) -> None:
    steps = '  - send: "GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n    expect: {status: 200}\n'
    with HostileServer([_answer(), CLOSE]) as server:
        result = replay(_recipe(tmp_path, steps), target=f"127.0.0.1:{server.port}")
    assert [step.message for step in result.steps] == [MESSAGE]


def test_the_cut_connection_is_not_used_again(tmp_path: Path) -> None:
    # A step after the bomb (reached only when the bomb step is allowed to fail by a retry
    # that then gets an honest answer) goes on a fresh connection, never on the cut one.
    def answer(seen: Seen) -> list[Step]:
        return [_answer()] if seen.connection == 1 else [ok(b"fine")]

    steps = (
        "  - http: {url: /first}\n    expect: {status: 200}\n    retry: {times: 2, interval: 0s}\n"
        "  - http: {url: /second}\n    expect: {status: 200, body: fine}\n"
    )
    with ScriptServer(answer) as server:
        result = replay(_recipe(tmp_path, steps), target=f"127.0.0.1:{server.port}")
        connections = [(seen.connection, seen.target) for seen in server.requests]
    assert result.ok, result.report()
    assert connections == [(1, "/first"), (2, "/first"), (2, "/second")]


# The peak RSS of this process since it started: VmHWM, the high-water mark of its own memory
# map. getrusage's ru_maxrss is not used: Linux carries it over exec from the process that
# forked (or vforked) the child, so under a pytest worker that has grown it reports the worker.
_MEASURE = """
import json, sys
from netbench import replay
result = replay(sys.argv[1], target=sys.argv[2])
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))  # KiB
print(json.dumps({"peak_kib": peak, "messages": [step.message for step in result.steps]}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is read from /proc")
def test_replay_memory_stays_bounded_on_a_gzip_bomb(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, "  - http: {url: /bomb}\n    expect: {status: 200}\n")
    with HostileServer([_answer(), CLOSE]) as server:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(recipe), f"127.0.0.1:{server.port}"],
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    measured = json.loads(done.stdout)
    assert measured["messages"] == [MESSAGE]
    assert measured["peak_kib"] < 200 * 1024, measured  # decoding it all would take over 1 GiB
