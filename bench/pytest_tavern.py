"""Benchmark: N small recipe files under pytest, against the same tests written for Tavern.

    python bench/pytest_tavern.py [--files 200] [--rounds 3] [--venv DIR] [--no-startup]

Tavern (the Python tool people use for YAML API tests) runs in its own venv,
created once with ``pip install tavern pytest`` under
``$XDG_CACHE_HOME/netbench-bench/tavern-venv`` (else ``~/.cache/...``) and
reused after; nothing is installed into this environment. netbench's side
runs with this interpreter (``sys.executable -m pytest``, the plugin its
entry point registers).

One lab http server (``netbench.lab.running("http")``, a kernel-chosen
port on 127.0.0.1) answers both. Each of the N files (3-5 http steps:
GET /index.html with status, Content-Type and body checks and the ETag
captured; GET /json with JSON checks; POST /echo of a JSON body checked in
the echoed JSON; GET of a missing page, 404; GET /index.html with
If-None-Match of the captured ETag, 304) is written as a netbench
``*.recipe.yaml`` to one temporary directory and as a Tavern
``test_*.tavern.yaml`` to another. Each side runs
``python -m pytest DIR -q -p no:cacheprovider`` (one untimed warm-up that
must pass, then the rounds, alternating); the min and median wall times,
the time per file and the ratio Tavern / netbench are printed, with the
goals of issue 10 (>= 10x) and issue 13 (>= 2x).

Also shown, not part of the ratio: netbench with ``-p no:hypothesispytest``
(a temporary directory has no ``pyproject.toml``, so the project's addopts
that keep the hypothesis plugin out do not apply there) and with the parsed
recipe cache off (``NETBENCH_RECIPE_CACHE=off``); and, unless
``--no-startup``, the start-up of ``python -m pytest --co -q`` on the recipe
directory with and without the hypothesis plugin.

Both sides' children get a private ``PYTHONPYCACHEPREFIX`` (with
``PYTHONDONTWRITEBYTECODE`` set every run would compile from source) and a
private ``XDG_CACHE_HOME`` (the recipe cache of the temporary files stays in
the scratch directory).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its http.py would shadow the standard library's http package

from netbench.core.h11_build import describe as h11_build  # noqa: E402
from netbench.lab import running  # noqa: E402

PYTEST = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
CHILD_TIMEOUT = 900.0  # seconds for one pytest run: a hung side ends the bench, not the session
Step = tuple[str, str]  # (netbench step YAML, Tavern stage YAML)
Times = tuple[float, float]  # (wall seconds, CPU seconds)


def cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def tavern_venv(venv: Path) -> Path:
    """The venv's python, after creating the venv and installing tavern + pytest when needed.

    The venv gets the pytest version this environment has (the same pytest on both sides;
    also, Tavern 3.7.1 does not import under pytest 9.2, which moved ``_pytest.python_api``).
    """
    pytest_version = version_of(sys.executable, "pytest")
    python = venv_python(venv)
    check = "import pytest, tavern._core.pytest; print(pytest.__version__)"
    if python.exists():
        found = subprocess.run([str(python), "-c", check], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip() == pytest_version:
            return python
    print(f"creating {venv} (pip install tavern pytest=={pytest_version}; once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "tavern", f"pytest=={pytest_version}"], check=True)
    return python


def version_of(python: Path | str, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    found = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return found.stdout.strip() or "?"


def q(text: str) -> str:
    """A YAML scalar for *text* (JSON strings are YAML flow scalars)."""
    return json.dumps(text)


def index_step(i: int, base: str) -> Step:
    nb = f"""  - http: {{method: GET, url: /index.html?{i}}}
    expect:
      status: 200
      headers: {{Content-Type: "text/html; charset=utf-8"}}
      body: {{contains: hello world}}
    capture: {{etag: {{header: ETag}}}}
"""
    tv = f"""  - name: index
    request:
      url: {base}/index.html?{i}
      method: GET
    response:
      status_code: 200
      headers:
        content-type: "text/html; charset=utf-8"
      verify_response_with:
        function: tavern.helpers:validate_regex
        extra_kwargs:
          expression: hello world
      save:
        headers:
          etag: ETag
"""
    return nb, tv


def json_step(i: int, base: str) -> Step:
    nb = f"""  - http: {{method: GET, url: /json?{i}}}
    expect:
      status: 200
      headers: {{Content-Type: application/json}}
      json: {{$.server: netbench-lab, $.hello: world}}
"""
    tv = f"""  - name: json
    request:
      url: {base}/json?{i}
      method: GET
    response:
      status_code: 200
      headers:
        content-type: application/json
      json:
        server: netbench-lab
        hello: world
"""
    return nb, tv


def echo_step(i: int, base: str, k: int) -> Step:
    body = json.dumps({"item": i, "step": k})  # what requests sends for Tavern's `json:`
    literal = body.replace("{", "{{").replace("}", "}}")  # Tavern formats "{name}" in strings
    nb = f"""  - http:
      method: POST
      url: /echo?{i}
      headers: {{Content-Type: application/json}}
      body: {q(body)}
    expect:
      status: 200
      json: {{$.method: POST, $.target: /echo?{i}, $.body: {q(body)}}}
"""
    tv = f"""  - name: echo
    request:
      url: {base}/echo?{i}
      method: POST
      json: {{item: {i}, step: {k}}}
    response:
      status_code: 200
      json:
        method: POST
        target: /echo?{i}
        body: {q(literal)}
"""
    return nb, tv


def missing_step(i: int, base: str) -> Step:
    nb = f"""  - http: {{method: GET, url: /missing-{i}}}
    expect:
      status: 404
      body: {{contains: "not found: /missing-{i}"}}
"""
    tv = f"""  - name: missing
    request:
      url: {base}/missing-{i}
      method: GET
    response:
      status_code: 404
      verify_response_with:
        function: tavern.helpers:validate_regex
        extra_kwargs:
          expression: "not found: /missing-{i}"
"""
    return nb, tv


def conditional_step(i: int, base: str) -> Step:
    nb = f"""  - http: {{method: GET, url: /index.html?{i}, headers: {{If-None-Match: "${{etag}}"}}}}
    expect: {{status: 304}}
"""
    tv = f"""  - name: conditional
    request:
      url: {base}/index.html?{i}
      method: GET
      headers:
        If-None-Match: "{{etag}}"
    response:
      status_code: 304
"""
    return nb, tv


def file_pair(i: int, port: int) -> tuple[str, str]:
    """File *i* as (netbench recipe, Tavern test): 3, 4 or 5 steps, the same requests and checks."""
    base = f"http://127.0.0.1:{port}"
    makers: list[Callable[[], Step]] = [
        lambda: index_step(i, base),
        lambda: json_step(i, base),
        lambda: echo_step(i, base, 3),
        lambda: missing_step(i, base),
        lambda: conditional_step(i, base),
    ]
    steps = [make() for make in makers[: 3 + i % 3]]
    name = f"recipe {i:03d}"
    recipe = f"netbench: 1\nname: {name}\ntarget: tcp://127.0.0.1:{port}\nsteps:\n"
    tavern = f"---\ntest_name: {name}\nstrict:\n  - json:off\nstages:\n"
    return recipe + "".join(nb for nb, _ in steps), tavern + "".join(tv for _, tv in steps)


def write_files(count: int, port: int, netbench_dir: Path, tavern_dir: Path) -> int:
    """Write the files; return the number of steps in all."""
    steps = 0
    for i in range(1, count + 1):
        recipe, tavern = file_pair(i, port)
        (netbench_dir / f"r{i:03d}.recipe.yaml").write_text(recipe)
        (tavern_dir / f"test_r{i:03d}.tavern.yaml").write_text(tavern)
        steps += 3 + i % 3
    return steps


def timed(argv: Sequence[str], env: dict[str, str], expect_passed: int | None = None) -> Times:
    """Wall and CPU (user + system) seconds of *argv*; exits with its output when it fails or
    does not pass them all. The lab server's CPU is not counted: it runs in this process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT, timeout=CHILD_TIMEOUT)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    passed = re.search(r"(\d+) passed", done.stdout)
    wanted = expect_passed is None or (passed is not None and int(passed.group(1)) == expect_passed)
    if done.returncode not in (0, 5) or not wanted:
        tail = (done.stdout + done.stderr)[-1500:]
        raise SystemExit(f"{' '.join(argv[:4])} ... failed ({done.returncode}):\n{tail}")
    return elapsed, cpu


def show(name: str, times: list[Times], files: int) -> None:
    walls, cpus = [wall for wall, _ in times], [cpu for _, cpu in times]
    low, mid, cpu = min(walls), statistics.median(walls), statistics.median(cpus)
    print(
        f"  {name:<42} wall min {low:6.2f} s  median {mid:6.2f} s  ({mid / files * 1000:5.1f} ms per file);"
        f"  CPU median {cpu:6.2f} s ({cpu / files * 1000:5.1f} ms per file)"
    )


def ratios(name: str, tavern: list[Times], ours: list[Times]) -> float:
    """Print Tavern / *name* (wall median, wall min, CPU median); return the wall-median ratio."""
    wall = statistics.median(t[0] for t in tavern) / statistics.median(t[0] for t in ours)
    low = min(t[0] for t in tavern) / min(t[0] for t in ours)
    cpu = statistics.median(t[1] for t in tavern) / statistics.median(t[1] for t in ours)
    print(f"  ratio Tavern / {name}: {wall:.1f}x (wall median), {low:.1f}x (wall min), {cpu:.1f}x (CPU)")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=cache_home() / "netbench-bench" / "tavern-venv")
    parser.add_argument("--no-startup", action="store_true", help="skip the pytest --co start-up figures")
    args = parser.parse_args()
    if args.files < 1 or args.rounds < 1:
        parser.error("--files and --rounds must be at least 1")
    tavern_python = tavern_venv(args.venv)

    with tempfile.TemporaryDirectory(prefix="netbench-bench-") as scratch_name:
        scratch = Path(scratch_name)
        netbench_dir, tavern_dir = scratch / "netbench", scratch / "tavern"
        netbench_dir.mkdir()
        tavern_dir.mkdir()
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("PYTEST_ADDOPTS", None)
        env.pop("NETBENCH_TARGET", None)
        env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        env["XDG_CACHE_HOME"] = str(scratch / "cache")
        no_cache = {**env, "NETBENCH_RECIPE_CACHE": "off"}

        netbench = [sys.executable, *PYTEST, str(netbench_dir)]
        lean = [*netbench, "-p", "no:hypothesispytest"]
        tavern = [str(tavern_python), *PYTEST, str(tavern_dir)]
        n = args.files
        runs: dict[str, tuple[list[str], dict[str, str]]] = {
            "netbench (this env's plugins)": (netbench, env),
            "Tavern": (tavern, env),
            "netbench -p no:hypothesispytest": (lean, env),
            "netbench, recipe cache off": (netbench, no_cache),
        }
        with running("http") as lab:
            port = lab["http"].port
            steps = write_files(n, port, netbench_dir, tavern_dir)
            print(
                f"{n} files, {steps} http steps in all, lab http on 127.0.0.1:{port}; "
                f"netbench {version_of(sys.executable, 'netbench')} with pytest "
                f"{version_of(sys.executable, 'pytest')} and {h11_build()}, "
                f"Tavern {version_of(tavern_python, 'tavern')} "
                f"with pytest {version_of(tavern_python, 'pytest')}; "
                f"load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            for argv, child_env in runs.values():  # warm-up: bytecode, the recipe cache; must all pass
                timed(argv, child_env, expect_passed=n)
            results: dict[str, list[Times]] = {name: [] for name in runs}
            for _ in range(args.rounds):
                for name, (argv, child_env) in runs.items():
                    results[name].append(timed(argv, child_env, expect_passed=n))
            startup: dict[str, list[Times]] = {}
            if not args.no_startup:
                collect = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
                startup = {"pytest --co -q DIR": [], "pytest --co -q -p no:hypothesispytest DIR": []}
                for _ in range(max(args.rounds, 5)):
                    startup["pytest --co -q DIR"].append(timed([*collect, str(netbench_dir)], env))
                    nohyp = [*collect, "-p", "no:hypothesispytest", str(netbench_dir)]
                    startup["pytest --co -q -p no:hypothesispytest DIR"].append(timed(nohyp, env))

        print(f"python -m pytest DIR -q -p no:cacheprovider, {args.rounds} rounds (after a warm-up):")
        for name, times in results.items():
            show(name, times, n)
        base = "netbench (this env's plugins)"
        ratio = ratios(base, results["Tavern"], results[base])
        ratios(
            "netbench -p no:hypothesispytest", results["Tavern"], results["netbench -p no:hypothesispytest"]
        )
        print(f"  issue 10 goal, netbench >= 10x faster than Tavern: {'met' if ratio >= 10 else 'NOT met'}")
        print(f"  issue 13 goal, netbench at most half Tavern's time: {'met' if ratio >= 2 else 'NOT met'}")
        if startup:
            print(
                f"start-up and collection of the {n} recipe files, {len(startup['pytest --co -q DIR'])} runs:"
            )
            for name, times in startup.items():
                show(name, times, n)
            names = list(startup)
            wall = [statistics.median(t[0] for t in startup[name]) for name in names]
            cpu = [statistics.median(t[1] for t in startup[name]) for name in names]
            print(
                f"  the hypothesis plugin costs {(wall[0] - wall[1]) * 1000:.0f} ms wall, "
                f"{(cpu[0] - cpu[1]) * 1000:.0f} ms CPU per pytest start (medians)"
            )


if __name__ == "__main__":
    main()
