"""Benchmark: netbench start-up against the console-script floor, in the same environment.

The floor is ``python -c "import re, sys"``: what pip's console-script
wrapper imports before it calls ``netbench.cli:run``, so no console script
can start faster. Runs, alternately, that floor, ``python -c pass``,
``netbench --version`` (the console script next to this interpreter, as a
user runs it, when installed), ``python -m netbench --version``,
``python -m netbench connect`` to a refused loopback port and
``python -m netbench replay -q`` of a one-step raw TCP recipe (send a line,
expect it back from an echo peer in this process; its parse cached in a
private ``XDG_CACHE_HOME`` by the warm-up run), and reports the median wall
time of each and its ratio to the floor (goals, issue 10: ``--version`` <=
1.2x, ``connect`` refused <= 1.5x, the one-step ``replay`` <= 3x). Then
shows what ``connect`` and that ``replay`` import, with
``python -X importtime``, and checks that none of prompt_toolkit, asyncio,
ssl, yaml, h11, dataclasses, inspect or typing (beyond what the floor
already has) is among them (pickle neither, for the replay).

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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


FLOOR = "python -c 'import re, sys'"
HEAVY = ("prompt_toolkit", "asyncio", "ssl", "yaml", "h11", "dataclasses", "inspect", "typing", "argparse")


def timed(command: list[str], ok: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of *command*. A blocking wait, killed by a timer after 30 s: a wait with a
    timeout polls with sleeps of up to 50 ms, which rounded every figure up to the next poll."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watchdog = threading.Timer(30, child.kill)
    watchdog.start()
    try:
        returncode = child.wait()
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - start
    if returncode not in ok:
        raise SystemExit(f"{' '.join(command)} exited {returncode}")
    return elapsed


def refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def floor_modules() -> set[str]:
    """The modules the console-script floor has loaded already."""
    result = subprocess.run(
        [sys.executable, "-c", "import re, sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return set(result.stdout.split())


def echo_peer() -> int:
    """A loopback echo server in a daemon thread (a thread per connection); its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def echo(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except OSError:
                pass

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return int(listener.getsockname()[1])


def connect_imports() -> tuple[list[str], float]:
    """Modules ``netbench connect -z`` imports (and their total import time, in ms)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        return imports(["connect", "-z", "127.0.0.1", str(port)])


def imports(argv: list[str]) -> tuple[list[str], float]:
    """Modules ``python -m netbench ARGV`` imports (and their total import time, in ms)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "netbench", *argv],
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
    port = refused_port()
    commands = {
        FLOOR: [sys.executable, "-c", "import re, sys"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    if script.exists():
        commands["netbench --version"] = [str(script), "--version"]
        commands["netbench connect (refused)"] = [str(script), "connect", "127.0.0.1", str(port)]
    commands["python -m netbench --version"] = [sys.executable, "-m", "netbench", "--version"]
    commands["python -m netbench connect (refused)"] = [
        sys.executable,
        "-m",
        "netbench",
        "connect",
        "127.0.0.1",
        str(port),
    ]
    recipe = Path(tempfile.mkdtemp(prefix="netbench-startup-")) / "one.recipe.yaml"
    recipe.write_text(
        f"netbench: 1\ntarget: tcp://127.0.0.1:{echo_peer()}\n"
        'steps:\n  - send: "hello\\n"\n    expect: {line: hello}\n'
    )
    os.environ["XDG_CACHE_HOME"] = str(recipe.parent / "cache")  # the warm-up run fills it
    replay = ["replay", "-q", str(recipe)]
    if script.exists():
        commands["netbench replay -q (1 raw step)"] = [str(script), *replay]
    commands["python -m netbench replay -q (1 raw step)"] = [sys.executable, "-m", "netbench", *replay]
    for command in commands.values():
        timed(command, ok=(0, 3))  # warm the page cache and the bytecode cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(timed(command, ok=(0, 3)))
    base = statistics.median(times[FLOOR])
    print(f"{sys.executable}, {args.runs} runs each, load {os.getloadavg()[0]:.2f}")
    print(f"ratios against the console-script floor, {FLOOR}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<44} {median * 1000:7.1f} ms   ratio {median / base:4.2f}x")
    modules, _total = connect_imports()
    already = floor_modules()
    heavy = [m for m in modules if m.split(".")[0] in HEAVY and m not in already]
    print(f"connect -z imports {len(modules)} modules")
    print(f"  heavy modules imported by connect beyond the floor: {', '.join(heavy) or 'none'}")
    replayed, _total = imports(replay)
    heavy = [m for m in replayed if m.split(".")[0] in (*HEAVY, "pickle") and m not in already]
    print(f"replay -q of the one-step recipe imports {len(replayed)} modules")
    print(f"  heavy modules imported by that replay beyond the floor: {', '.join(heavy) or 'none'}")
    if any(m.startswith("prompt_toolkit") for m in modules):
        print("FAIL: connect imports prompt_toolkit")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
