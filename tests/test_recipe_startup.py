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


WARM = r"""
import io, json, socket, sys, threading
from netbench.cli import main
from netbench.environment import Environment

listener = socket.create_server(("127.0.0.1", 0))
def peer():
    conn, _ = listener.accept()
    conn.sendall(conn.recv(100))
    conn.close()
threading.Thread(target=peer, daemon=True).start()
path, cache = sys.argv[1:3]
target = "127.0.0.1:%d" % listener.getsockname()[1]
env = Environment(stdin=open("/dev/null"), stdout=io.StringIO(), stderr=io.StringIO(),
                  environ={"XDG_CACHE_HOME": cache})
status = main(["replay", "-q", "--target", target, path], env)
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def test_a_cached_raw_replay_imports_no_yaml_pickle_dataclasses_or_http(tmp_path: Path) -> None:
    """What a raw TCP recipe does not use is not imported: not YAML once the parse is cached, not the
    cache's old pickle, not dataclasses (the model is plain classes), not the HTTP request sniffer
    (its answer is not read as HTTP), nor the JSON, include and retry parts of the engine."""
    recipe = tmp_path / "one.recipe.yaml"
    recipe.write_text("netbench: 1\nsteps:\n  - send: 'hello\\n'\n    expect: {contains: hello}\n")
    runs = []
    for _ in range(2):  # the first fills the parse cache, the second loads from it
        completed = subprocess.run(
            [sys.executable, "-c", WARM, str(recipe), str(tmp_path / "cache")],
            capture_output=True,
            text=True,
            timeout=60,
            env=ENV,
        )
        assert completed.returncode == 0, completed.stderr
        runs.append(json.loads(completed.stdout.splitlines()[-1]))
    assert [run["status"] for run in runs] == [0, 0]
    assert "yaml" in runs[0]["modules"]  # the general path: parsed
    unused = {"yaml", "pickle", "dataclasses", "inspect", "asyncio", "ssl", "h11", "h11_mypyc"}
    unused |= {"netbench.core.http", "netbench.core.http_sniff", "netbench.recipe.load"}
    unused |= {"netbench.recipe.checks", "netbench.recipe.jsonpath", "netbench.recipe.compose"}
    assert not unused & set(runs[1]["modules"]), unused & set(runs[1]["modules"])
