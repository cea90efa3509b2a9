"""Benchmark `netbench http` against curl, on a private nginx on 127.0.0.1.

1. Requests per second: 1000 sequential GETs of the 38-byte page over one
   keep-alive connection: one `netbench http` call with 1000 URLs (and the
   same with `--pipeline`) against
   `curl -s -o /dev/null "http://127.0.0.1:PORT/index.html?[1-1000]"`,
   alternated, the median of each and the ratio netbench/curl.
   Both send the same kind of request (netbench's default Accept-Encoding is
   removed with -H 'Accept-Encoding:', since curl sends none).
2. Memory: a 1 GiB body streamed to a file and to /dev/null, speed and peak RSS.
3. A gzip bomb (1 MiB on the wire, 1 GiB decoded) to /dev/null: peak RSS.

    python bench/http.py [--rounds 5] [--requests 1000] [--big-mib 1024] [--no-bomb]

Which h11 build was used is printed (h11_mypyc when importable).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.peers import Nginx

CPU: list[float] = []  # CPU seconds (user + system) of each _run, in order


def _run(argv: list[str], stdout: object = subprocess.DEVNULL, rss: bool = False) -> tuple[float, int, int]:
    """Run *argv*; return (seconds, exit status, peak RSS in KiB or 0); CPU seconds go to CPU[-1].

    The peak RSS is measured by GNU time (a forked child's own ru_maxrss
    would count the memory of this Python process it was forked from).
    """
    prefix: list[str] = []
    report = None
    if rss and shutil.which("time") is None and not os.path.exists("/usr/bin/time"):
        raise SystemExit("GNU time (/usr/bin/time) is needed for the memory run")
    if rss:
        handle, name = tempfile.mkstemp(prefix="netbench-rss-")
        os.close(handle)
        report = Path(name)
        prefix = ["/usr/bin/time", "-f", "%M", "-o", name]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    status = subprocess.run([*prefix, *argv], stdout=stdout, stderr=subprocess.DEVNULL).returncode
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    peak = 0
    if report is not None:
        text = report.read_text().split()
        peak = int(text[-1]) if text else 0
        report.unlink()
    return elapsed, status, peak


def _h11_build(env: dict[str, str]) -> str:
    code = "import importlib.util as u; print('h11_mypyc' if u.find_spec('h11_mypyc') else 'h11')"
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return found.stdout.strip()


def bench_requests(nginx: Nginx, rounds: int, count: int, curl: str) -> None:
    base = f"http://127.0.0.1:{nginx.port}/index.html"
    urls = [f"{base}?{i}" for i in range(1, count + 1)]
    netbench = [sys.executable, "-m", "netbench", "http", "-H", "Accept-Encoding:", *urls]
    pipelined = [sys.executable, "-m", "netbench", "http", "-H", "Accept-Encoding:", "--pipeline", *urls]
    curl_argv = [curl, "-s", "-o", "/dev/null", f"{base}?[1-{count}]"]
    print(f"h11 build: {_h11_build(dict(os.environ))}; load average {os.getloadavg()[0]:.2f}")
    print(f"{count} sequential GETs of a 38-byte page, one keep-alive connection, {rounds} rounds")
    recipe = nginx.prefix / "bench.recipe.yaml"
    steps = "".join(
        f"  - http: {{method: GET, url: /index.html?{i}}}\n    expect: {{status: 200}}\n"
        for i in range(1, count + 1)
    )
    recipe.write_text(f"netbench: 1\nname: bench\ntarget: tcp://127.0.0.1:{nginx.port}\nsteps:\n{steps}")
    replay = [sys.executable, "-m", "netbench", "replay", str(recipe)]
    _run(netbench), _run(curl_argv)  # warm up caches
    ours: list[float] = []
    theirs: list[float] = []
    recipes: list[float] = []
    piped: list[float] = []
    cpu: dict[int, list[float]] = {id(ours): [], id(theirs): [], id(recipes): [], id(piped): []}
    for _ in range(rounds):
        for argv, results in ((netbench, ours), (curl_argv, theirs), (replay, recipes), (pipelined, piped)):
            seconds, status, _rss = _run(argv)
            if status != 0:
                raise SystemExit(f"{' '.join(argv[:5])} exited {status}")
            results.append(count / seconds)
            cpu[id(results)].append(CPU[-1])
    one_ours = statistics.median(_run(netbench[:6] + urls[:1])[0] for _ in range(rounds))
    one_curl = statistics.median(_run([curl, "-s", "-o", "/dev/null", base])[0] for _ in range(rounds))
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"  netbench http : {ours_median:8.0f} req/s  (rounds: {', '.join(f'{r:.0f}' for r in ours)})")
    print(f"  curl          : {theirs_median:8.0f} req/s  (rounds: {', '.join(f'{r:.0f}' for r in theirs)})")
    print(f"  ratio netbench/curl: {ours_median / theirs_median:.2f}x")
    piped_median = statistics.median(piped)
    print(
        f"  netbench http --pipeline: {piped_median:.0f} req/s "
        f"(rounds: {', '.join(f'{r:.0f}' for r in piped)}), ratio {piped_median / theirs_median:.2f}x curl"
    )
    recipe_median = statistics.median(recipes)
    print(
        f"  netbench replay (recipe of {count} http steps): {recipe_median:.0f} req/s, "
        f"ratio {recipe_median / theirs_median:.2f}x curl"
    )
    cpu_ours, cpu_curl = statistics.median(cpu[id(ours)]), statistics.median(cpu[id(theirs)])
    print(
        f"  CPU time (user+sys, less sensitive to other load): netbench {cpu_ours * 1000:.0f} ms, "
        f"curl {cpu_curl * 1000:.0f} ms, ratio curl/netbench {cpu_curl / cpu_ours:.2f}x"
    )
    cpu_piped = statistics.median(cpu[id(piped)])
    print(f"  CPU time of netbench http --pipeline: {cpu_piped * 1000:.0f} ms")
    # Start-up (one request) apart from the per-request cost, to show where the time goes.
    steady_ours = (count - 1) / max(count / ours_median - one_ours, 1e-9)
    steady_curl = (count - 1) / max(count / theirs_median - one_curl, 1e-9)
    print(f"  one request (start-up): netbench {one_ours * 1000:.0f} ms, curl {one_curl * 1000:.0f} ms")
    print(
        f"  without start-up: netbench {steady_ours:.0f} req/s, curl {steady_curl:.0f} req/s, "
        f"ratio {steady_ours / steady_curl:.2f}x"
    )


def bench_memory(nginx: Nginx, mebibytes: int, curl: str, scratch: Path) -> None:
    big = nginx.root / "big.bin"
    with open(big, "wb") as handle:
        handle.truncate(mebibytes << 20)  # sparse: zeros, served as application/octet-stream
    url = f"http://127.0.0.1:{nginx.port}/big.bin"
    out = scratch / "body.out"
    # Warm up: nginx's first read of the new file costs about a second, which the first
    # program measured would pay alone.
    _run([curl, "-s", "-o", "/dev/null", url])
    for where in ("a file", "/dev/null"):
        print(f"{mebibytes} MiB body streamed to {where}")
        speeds = []
        for name, argv in (
            ("netbench http", [sys.executable, "-m", "netbench", "http", url]),
            ("curl", [curl, "-s", "-o", "-", url]),
        ):
            with open(out if where == "a file" else os.devnull, "wb") as handle:
                seconds, status, rss = _run(argv, stdout=handle, rss=True)
            size = out.stat().st_size if where == "a file" else mebibytes << 20
            if where == "a file":
                out.unlink()
            speeds.append((size >> 20) / seconds)
            print(
                f"  {name:<14}: exit {status}, {size >> 20} MiB in {seconds:.2f} s "
                f"({speeds[-1]:.0f} MiB/s), peak RSS {rss / 1024:.1f} MiB"
            )
        print(f"  ratio netbench/curl: {speeds[0] / speeds[1]:.2f}x")
    big.unlink()


def bench_bomb(curl: str, scratch: Path) -> None:
    """1 MiB of gzip that decodes to 1 GiB, decoded to /dev/null: peak RSS stays flat."""
    import zlib

    from tests.hostile.server import CLOSE, HostileServer

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = b"".join(packer.compress(bytes(64 << 20)) for _ in range(16)) + packer.flush()
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
    print(f"gzip bomb: {len(body) >> 10} KiB on the wire, 1024 MiB decoded, to /dev/null")
    with HostileServer([head + body, CLOSE]) as server:
        for name, argv in (
            ("netbench http", [sys.executable, "-m", "netbench", "http", server.url + "/"]),
            ("curl --compressed", [curl, "-s", "--compressed", "-o", "-", server.url + "/"]),
        ):
            with open(os.devnull, "wb") as sink:
                seconds, status, rss = _run(argv, stdout=sink, rss=True)
            print(f"  {name:<18}: exit {status} in {seconds:.2f} s, peak RSS {rss / 1024:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--big-mib", type=int, default=1024, help="0 skips the memory run")
    parser.add_argument("--no-bomb", action="store_true", help="skip the gzip bomb run")
    args = parser.parse_args()
    curl = shutil.which("curl")
    if curl is None:
        raise SystemExit("curl is not installed")
    with tempfile.TemporaryDirectory(prefix="netbench-bench-") as tmp:
        # An installed netbench has its .pyc files; with PYTHONDONTWRITEBYTECODE set (as here
        # and on some CI machines) every run would compile netbench from source, a cost curl
        # never pays. Let the children cache bytecode in a private directory, not in the tree.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        nginx = Nginx(Path(tmp) / "nginx").start()
        try:
            bench_requests(nginx, args.rounds, args.requests, curl)
            if args.big_mib:
                bench_memory(nginx, args.big_mib, curl, Path(tmp))
            if not args.no_bomb:
                bench_bomb(curl, Path(tmp))
        finally:
            nginx.stop()


if __name__ == "__main__":
    main()
