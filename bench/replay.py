"""Benchmark: replaying a 1000-step HTTP recipe against nginx, compared with curl's URL glob.

    python bench/replay.py [--steps 1000] [--rounds 5] [--profile]

Both tools fetch /index.html?1 .. ?N from a private nginx on loopback over
one keep-alive connection: curl with its URL glob
(``curl -s -o /dev/null "http://127.0.0.1:PORT/index.html?[1-N]"``),
netbench with ``netbench replay`` of an N-step recipe (each step an
``http`` request with ``expect: {status: 200}``, so every answer is parsed
and checked). Runs alternate; the medians are printed as requests/s with
the ratio netbench/curl (above 1.0 = netbench faster). ``replay --pipeline``
(16 requests written ahead) and the in-process engine alone (no
interpreter start-up) are shown too. ``--profile`` prints instead a cProfile
of ``netbench.cli.main(["replay", ...])`` in-process (the top functions by
own time), after one warm-up run.

Second figure: loading (parse + schema check) a 1000-step recipe, goal
under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its http.py would shadow the standard library's http package

from netbench.recipe.dump import save  # noqa: E402
from netbench.recipe.engine import run  # noqa: E402
from netbench.recipe.load import Loader, load_recipe  # noqa: E402
from netbench.recipe.model import Expect, HttpRequest, Recipe, Step  # noqa: E402
from tests.support.peers import Nginx  # noqa: E402


def make_recipe(steps: int, port: int) -> Recipe:
    return Recipe(
        name=f"{steps} GETs",
        target=f"tcp://127.0.0.1:{port}",
        steps=tuple(
            Step(http=HttpRequest("GET", f"/index.html?{n}"), expect=Expect(status=200))
            for n in range(1, steps + 1)
        ),
    )


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({completed.returncode}): {completed.stderr.decode()[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile replay in-process instead")
    args = parser.parse_args()
    curl = shutil.which("curl")
    with tempfile.TemporaryDirectory() as scratch:
        # As bench/http.py: cache the children's bytecode privately (an installed netbench has
        # its .pyc files; with PYTHONDONTWRITEBYTECODE set every run would compile from source).
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        nginx = Nginx(Path(scratch) / "nginx").start()
        try:
            path = Path(scratch) / "bench.recipe.yaml"
            recipe = make_recipe(args.steps, nginx.port)
            save(recipe, path)
            url = f"http://127.0.0.1:{nginx.port}/index.html?[1-{args.steps}]"
            # This checkout's netbench (run from ROOT), not whatever a `netbench` script on PATH
            # imports: an editable install may point at another clone, and a pyenv shim adds
            # a shell start-up that is no part of netbench.
            if args.profile:
                profile(path)
                return
            cli = [sys.executable, "-m", "netbench", "replay", "-q", str(path)]
            results: dict[str, list[float]] = {
                "netbench replay": [],
                "replay --pipeline": [],
                "engine in-process": [],
                "curl glob": [],
            }
            for _ in range(args.rounds):
                results["netbench replay"].append(timed(cli))
                results["replay --pipeline"].append(timed([*cli, "--pipeline"]))
                if curl:
                    results["curl glob"].append(timed([curl, "-s", "-o", "/dev/null", url]))
                start = time.perf_counter()
                result = run(recipe)
                results["engine in-process"].append(time.perf_counter() - start)
                if not result.ok:
                    raise SystemExit(result.report())
        finally:
            nginx.stop()

        print(f"{args.steps} HTTP requests, one keep-alive connection to nginx, {args.rounds} rounds:")
        rates = {}
        for name, times in results.items():
            if times:
                rates[name] = args.steps / statistics.median(times)
                median = statistics.median(times) * 1000
                print(f"  {name:<18} {rates[name]:>9.0f} requests/s  ({median:.0f} ms)")
        if "curl glob" in rates:
            for name in ("netbench replay", "replay --pipeline", "engine in-process"):
                print(f"  ratio {name} / curl = {rates[name] / rates['curl glob']:.2f}")
        else:
            print("  curl is not installed: no ratio")

        loads = []
        for _ in range(max(args.rounds, 5)):
            start = time.perf_counter()
            load_recipe(path)
            loads.append(time.perf_counter() - start)
        loader = getattr(Loader, "__name__", str(Loader))
        print(
            f"loading the {args.steps}-step recipe ({path.stat().st_size // 1024} KiB, {loader}): "
            f"median {statistics.median(loads) * 1000:.1f} ms (goal < 100 ms)"
        )


def profile(path: Path) -> None:
    """cProfile of one in-process ``replay -q`` (after a warm-up run), top 30 by own time."""
    import cProfile
    import io
    import pstats

    from netbench.cli import main as cli_main

    argv = ["replay", "-q", str(path)]
    with open(os.devnull, "w") as null:
        stdout, sys.stdout = sys.stdout, null
        try:
            cli_main(argv)  # warm-up: imports, the parse cache
            profiler = cProfile.Profile()
            start = time.process_time()
            profiler.runcall(cli_main, argv)
            cpu = time.process_time() - start
        finally:
            sys.stdout = stdout
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
    print(f"in-process replay under cProfile: {cpu * 1000:.0f} ms CPU")
    print(text.getvalue())


if __name__ == "__main__":
    main()
