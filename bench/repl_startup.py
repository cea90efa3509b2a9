"""Start-up time of the REPL: from exec to the first prompt on the terminal.

Runs ``netbench`` (no arguments: the REPL) in a pseudo-terminal and times
until the prompt text ``netbench> `` appears, alternating with the peer: a
bare prompt_toolkit ``PromptSession().prompt("peer> ")`` (the floor for
any prompt_toolkit REPL: Python start-up plus prompt_toolkit's import).
Prints each tool's median and best, and the ratio netbench/peer.

    python bench/repl_startup.py [--runs N]

Target: the median for netbench under 400 ms on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import pexpect

PEER = """
from prompt_toolkit import PromptSession
try:
    PromptSession().prompt("peer> ")
except EOFError:
    pass
"""


def time_to_prompt(args: list[str], prompt: bytes, env: dict[str, str]) -> float:
    """Seconds from spawn until *prompt* is written to the terminal."""
    start = time.perf_counter()
    child = pexpect.spawn(sys.executable, args, env=env, dimensions=(40, 120), timeout=20)
    try:
        child.expect_exact(prompt)
        elapsed = time.perf_counter() - start
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        env = dict(os.environ, TERM="xterm", XDG_STATE_HOME=state, PROMPT_TOOLKIT_NO_CPR="1")
        tools = {
            "netbench": (["-m", "netbench"], b"netbench>"),
            "peer (bare prompt_toolkit)": (["-c", PEER], b"peer>"),
        }
        times: dict[str, list[float]] = {name: [] for name in tools}
        for args, prompt in tools.values():  # warm the page cache once
            time_to_prompt(args, prompt, env)
        for _ in range(options.runs):
            for name, (args, prompt) in tools.items():
                times[name].append(time_to_prompt(args, prompt, env))
    load = os.getloadavg()[0]
    print(f"start-up to first prompt, {options.runs} runs each, alternating (load average {load:.2f})")
    for name, values in times.items():
        median, best = statistics.median(values) * 1000, min(values) * 1000
        print(f"  {name:<28} median {median:7.1f} ms   best {best:7.1f} ms")
    ours, peer = (statistics.median(v) for v in times.values())
    print(f"  ratio netbench/peer (medians): {ours / peer:.2f}")
    verdict = "under" if ours < 0.4 else "OVER"
    print(f"  netbench median {ours * 1000:.0f} ms: {verdict} the 400 ms target")


if __name__ == "__main__":
    main()
