"""Benchmark: netbench start-up against a bare interpreter, in the same environment.

Runs, alternately, ``python -c pass`` and ``netbench --version`` (the console
script next to this interpreter, as a user runs it, plus ``python -m netbench
--version``), reports the median wall time of each and the ratio
netbench/python (goal: <= 2x). Then shows what ``connect`` imports, with
``python -X importtime``, and checks that prompt_toolkit is not among them.

    python bench/startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=30)
    return time.perf_counter() - start


def connect_imports() -> tuple[list[str], float]:
    """Modules ``netbench connect -z`` imports (and their total import time, in ms)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "netbench", "connect", "-z", "127.0.0.1", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    modules, total = [], 0.0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = line.split(":", 1)[1].split("|")
        if cumulative.strip().isdigit() and not name.startswith("  "):
            total += int(cumulative) / 1000  # top-level imports only
        modules.append(name.strip())
    return modules, total


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    # As installed by pip, netbench has its bytecode: let the children cache it
    # (in a private directory) even where PYTHONDONTWRITEBYTECODE is set.
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        print("(PYTHONDONTWRITEBYTECODE was set: using a private bytecode cache instead)")
    os.environ["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="netbench-pycache-")
    script = Path(sys.executable).with_name("netbench")
    commands = {"python -c pass": [sys.executable, "-c", "pass"]}
    if script.exists():
        commands["netbench --version"] = [str(script), "--version"]
    commands["python -m netbench --version"] = [sys.executable, "-m", "netbench", "--version"]
    for command in commands.values():
        timed(command)  # warm the page cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(timed(command))
    base = statistics.median(times["python -c pass"])
    print(f"{sys.executable}, {args.runs} runs each, load {os.getloadavg()[0]:.2f}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<30} {median * 1000:7.1f} ms   ratio {median / base:4.2f}x")
    modules, _total = connect_imports()
    heavy = [m for m in modules if m.split(".")[0] in ("prompt_toolkit", "asyncio", "ssl", "yaml", "h11")]
    print(f"connect -z imports {len(modules)} modules")
    print(f"  heavy modules imported by connect: {', '.join(heavy) or 'none'}")
    if any(m.startswith("prompt_toolkit") for m in modules):
        print("FAIL: connect imports prompt_toolkit")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
