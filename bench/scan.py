"""Benchmark: `netbench scan` vs `nmap -sT` (TCP connect scans), same run, alternating.

Two cases:

* loopback: ``netbench scan 127.0.0.1 -p 10000-65535`` against
  ``nmap -n -sT -T4 -p 10000-65535 127.0.0.1``, with a few listeners this
  benchmark holds in that range. Goal: netbench <= 0.7x nmap's time.
* slow path (root only): 1000 ports (1-1000) across a link with a 50 ms
  round trip, between two network namespaces this benchmark creates and
  always deletes (tests/support/slowlink.py: tun devices and a forwarding
  thread, since this kernel may lack ``tc netem``). Both tools run inside
  namespace A; nmap gets ``-Pn`` since netbench does no host discovery.
  Goal: netbench <= nmap's time.

Each pair runs both tools (netbench first, then nmap first, alternating);
the wall time is from spawning the process to its exit. Every run's open
set is parsed from its output and checked: it must contain the ports the
benchmark listens on, and netbench and nmap must agree within a pair
(a mismatch is printed with what /proc says listens now, since other
programs on a shared machine may open and close ports meanwhile).
Prints each run (wall and CPU time), the medians, and the ratio
netbench/nmap of the median wall times (< 1: netbench faster). The CPU
times (user + system of every process of the run) show the cost apart from
the machine's load.

    python bench/scan.py [--pairs 5] [--case loopback|slow|both]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPEN_ROW = re.compile(r"^(\d+)/tcp\s+open\s", re.M)


def listening_now() -> set[int]:
    """TCP ports in LISTEN state on this host (from /proc, no connection made)."""
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as table:
                for line in list(table)[1:]:
                    fields = line.split()
                    if fields[3] == "0A":
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def hold_listeners(count: int, low: int, high: int) -> list[socket.socket]:
    """Listen on *count* random free ports in [low, high] on 127.0.0.1."""
    held: list[socket.socket] = []
    while len(held) < count:
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", random.randint(low, high)))
        except OSError:
            sock.close()
            continue
        sock.listen(16)
        held.append(sock)
    return held


def timed(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, set[int], str]:
    """Run *argv*: (wall seconds, CPU seconds user+system, open ports, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, cpu, {int(p) for p in OPEN_ROW.findall(done.stdout)}, done.stdout


def run_pairs(
    label: str,
    commands: dict[str, list[str]],
    pairs: int,
    must_find: set[int],
    env: dict[str, str],
    listening: Callable[[], set[int]],
    strict: bool = False,
) -> float:
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    mismatches = 0
    print(f"\n== {label}")
    for name, argv in commands.items():
        print(f"   {name}: {' '.join(argv)}")
    for pair in range(pairs):
        order = list(commands) if pair % 2 == 0 else list(reversed(commands))
        found: dict[str, set[int]] = {}
        for name in order:
            elapsed, cpu, opened, out = timed(commands[name], env)
            times[name].append(elapsed)
            cpus[name].append(cpu)
            found[name] = opened
            missing = must_find - opened
            if missing:
                raise SystemExit(f"{name} missed ports we listen on: {sorted(missing)}\n{out}")
            shown = sorted(opened)
            print(f"   pair {pair + 1} {name:<8} {elapsed:6.3f} s wall {cpu:6.3f} s cpu  open: {shown}")
        if found["netbench"] != found["nmap"]:
            mismatches += 1
            diff = sorted(found["netbench"] ^ found["nmap"])
            now = listening()
            print(f"   MISMATCH in pair {pair + 1}: {diff}; listening now: {sorted(set(diff) & now)}")
            if strict:
                raise SystemExit("netbench and nmap disagree on an isolated host")
    medians = {name: statistics.median(values) for name, values in times.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpus.items()}
    ratio = medians["netbench"] / medians["nmap"]
    print(
        f"   median wall: netbench {medians['netbench']:.3f} s, nmap {medians['nmap']:.3f} s, "
        f"ratio netbench/nmap {ratio:.2f}"
        + (f"  ({mismatches} pair(s) disagreed)" if mismatches else "  (open sets agree)")
    )
    print(
        f"   median cpu:  netbench {cpu_medians['netbench']:.3f} s, nmap {cpu_medians['nmap']:.3f} s, "
        f"ratio {cpu_medians['netbench'] / cpu_medians['nmap']:.2f} (user+system, all processes)"
    )
    return ratio


def loopback_case(nmap: str, pairs: int, env: dict[str, str]) -> float:
    """On a private loopback (a namespace of its own) when root, else on the host's."""
    from tests.support import slowlink

    commands = {
        "netbench": [sys.executable, "-m", "netbench", "scan", "127.0.0.1", "-p", "10000-65535"],
        "nmap": [nmap, "-n", "-sT", "-T4", "-p", "10000-65535", "127.0.0.1"],
    }
    ports = sorted(random.sample(range(10000, 65536), 4))
    if slowlink.unavailable() is None:
        with slowlink.PrivateLoopback() as private:
            listeners = slowlink.start_listeners(private.namespace, "127.0.0.1", ports)
            try:
                wrapped = {name: private.command(argv) for name, argv in commands.items()}
                return run_pairs(
                    "loopback, ports 10000-65535 (private namespace: only our listeners)",
                    wrapped, pairs, set(ports), env, lambda: set(ports), strict=True,
                )
            finally:
                listeners.kill()
                listeners.wait()
    held = hold_listeners(3, 10000, 32000)
    try:
        return run_pairs(
            "loopback, ports 10000-65535 (host loopback, shared with other programs)",
            commands, pairs, {s.getsockname()[1] for s in held}, env, listening_now,
        )
    finally:
        for sock in held:
            sock.close()


def slow_case(nmap: str, pairs: int, env: dict[str, str]) -> float | None:
    from tests.support import slowlink

    why = slowlink.unavailable()
    if why:
        print(f"\n== slow path: skipped ({why})")
        return None
    with slowlink.SlowLink(delay=0.05) as link:
        ports = [22, 80, 443, 631]
        listeners = link.start_listeners(ports)
        try:
            commands = {
                "netbench": link.command(
                    "A", [sys.executable, "-m", "netbench", "scan", link.addr_b, "-p", "1-1000"]
                ),
                "nmap": link.command("A", [nmap, "-n", "-sT", "-T4", "-Pn", "-p", "1-1000", link.addr_b]),
            }
            return run_pairs(
                "slow path: 1000 ports, 50 ms round trip (namespaces)",
                commands, pairs, set(ports), env, lambda: set(ports), strict=True,
            )
        finally:
            listeners.kill()
            listeners.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--case", choices=("loopback", "slow", "both"), default="both")
    args = parser.parse_args()
    nmap = shutil.which("nmap")
    if nmap is None:
        raise SystemExit("nmap is not installed")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}, cpus: {os.cpu_count()}")
    if args.case in ("loopback", "both"):
        ratio = loopback_case(nmap, args.pairs, env)
        print(f"   loopback goal <= 0.70: {'met' if ratio <= 0.7 else 'NOT met'}")
    if args.case in ("slow", "both"):
        slow = slow_case(nmap, args.pairs, env)
        if slow is not None:
            print(f"   slow-path goal <= 1.00: {'met' if slow <= 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
