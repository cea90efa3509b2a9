"""replay of a raw TCP recipe stays light: no asyncio, no ssl (the blocking engine).

Each check runs the real command in a fresh interpreter and reports what ended
up in sys.modules (no timings: bench/replay.py measures those).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.pipe_helpers import ENV

PROBE = r"""
import io, json, socket, sys, threading
from netbench.cli import main
from netbench.environment import Environment

listener = socket.create_server(("127.0.0.1", 0))
def peer():
    conn, _ = listener.accept()
    conn.sendall(conn.recv(100))
    conn.close()
threading.Thread(target=peer, daemon=True).start()
path = sys.argv[1]
with open(path, "w") as handle:
    handle.write("netbench: 1\ntarget: tcp://127.0.0.1:%d\n" % listener.getsockname()[1])
    handle.write("steps:\n  - send: 'hello\\n'\n    expect: {contains: hello}\n")
env = Environment(stdin=open("/dev/null"), stdout=io.StringIO(), stderr=io.StringIO(),
                  environ={"NETBENCH_RECIPE_CACHE": "off"})
status = main(["replay", "-q", path], env)
print(json.dumps({"status": status, "modules": sorted(m for m in sys.modules if m in ("asyncio", "ssl"))}))
"""


def test_a_raw_tcp_replay_imports_neither_asyncio_nor_ssl(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "one.recipe.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.splitlines()[-1])
    assert report == {"status": 0, "modules": []}
