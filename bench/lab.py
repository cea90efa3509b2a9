"""Benchmark the embedded lab's servers against peer servers, in the same run.

1. http: sequential GETs of /index.html over one keep-alive connection, the
   lab's h11 server (`netbench lab http`) against a private nginx, with the
   same raw-socket client; requests per second and the ratio lab/nginx.
2. echo: MiB through `nc -N` into the lab's echo and back, against socat's
   echo (`socat TCP-LISTEN:PORT,fork EXEC:cat`; socat's own PIPE address
   deadlocks once a large transfer fills its pipe); MB/s and the ratio lab/socat.
3. chargen: MiB read by `nc -d` from the lab's chargen, against socat
   streaming /dev/zero (an endless stream server, the nearest peer); MB/s.

Rounds alternate lab and peer; medians are printed. The machine's load
average is printed too: figures from a loaded machine are noisy.

    python bench/lab.py [--rounds 3] [--requests 3000] [--mib 256]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.peers import HELLO, Nginx, free_port, wait_for_port  # noqa: E402

REQUEST = b"GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n"


@contextmanager
def lab(*services: str) -> Iterator[dict[str, int]]:
    """`netbench lab --json SERVICES` as a separate process; yields name -> port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "netbench", "lab", "--json", *services],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        document = json.loads(process.stdout.readline())
        yield {entry["service"]: entry["port"] for entry in document["services"]}
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)


@contextmanager
def socat(address: str) -> Iterator[int]:
    """A socat server on 127.0.0.1 answering every connection with *address*."""
    port = free_port()
    process = subprocess.Popen(
        ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", address],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so its forked children go with it
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def http_rate(port: int, count: int) -> float:
    """Requests per second for *count* sequential keep-alive GETs of the hello page."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        start = time.perf_counter()
        for _ in range(count):
            sock.sendall(REQUEST)
            data = b""
            while not data.endswith(HELLO):
                chunk = sock.recv(65536)
                if not chunk:
                    raise SystemExit("the server closed the connection")
                data += chunk
        return count / (time.perf_counter() - start)


PEER_TIMEOUT = 120  # seconds for one transfer; every wait in a benchmark is bounded


def echo_rate(port: int, source: Path) -> float:
    """MB/s for the file *source* through `nc -N` to an echo server and back."""
    size = source.stat().st_size
    with source.open("rb") as stdin:
        start = time.perf_counter()
        try:
            result = subprocess.run(
                ["nc", "-N", "127.0.0.1", str(port)],
                stdin=stdin,
                stdout=subprocess.PIPE,
                check=True,
                timeout=PEER_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise SystemExit(f"echo on port {port} did not finish within {PEER_TIMEOUT} s") from None
        elapsed = time.perf_counter() - start
    if len(result.stdout) != size:
        raise SystemExit(f"echo returned {len(result.stdout)} of {size} bytes")
    return size / elapsed / 1e6


def stream_rate(port: int, size: int) -> float:
    """MB/s reading *size* bytes from a stream server with `nc -d`."""
    start = time.perf_counter()
    with subprocess.Popen(["nc", "-d", "127.0.0.1", str(port)], stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        watchdog = threading.Timer(PEER_TIMEOUT, process.kill)  # a stalled stream ends, not hangs
        watchdog.start()
        left = size
        while left > 0:
            chunk = process.stdout.read1(min(left, 1 << 20))  # type: ignore[attr-defined]
            if not chunk:
                watchdog.cancel()
                raise SystemExit("the stream ended early (or stalled past the time limit)")
            left -= len(chunk)
        elapsed = time.perf_counter() - start
        watchdog.cancel()
        process.kill()
    return size / elapsed / 1e6


def compare(
    title: str, unit: str, rounds: int, ours: Callable[[], float], theirs: Callable[[], float], peer: str
) -> None:
    lab_figures: list[float] = []
    peer_figures: list[float] = []
    for _ in range(rounds):
        lab_figures.append(ours())
        peer_figures.append(theirs())
    a, b = statistics.median(lab_figures), statistics.median(peer_figures)
    print(title)
    print(f"  lab   : {a:10.1f} {unit}  (rounds: {', '.join(f'{x:.1f}' for x in lab_figures)})")
    print(f"  {peer:<6}: {b:10.1f} {unit}  (rounds: {', '.join(f'{x:.1f}' for x in peer_figures)})")
    print(f"  ratio lab/{peer}: {a / b:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    for tool in ("nc", "socat"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (apt-get install netcat-openbsd socat)")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory() as scratch:
        nginx = Nginx(Path(scratch)).start()
        try:
            with lab("http") as ports:
                compare(
                    f"http: {args.requests} sequential keep-alive GETs of /index.html, {args.rounds} rounds",
                    "req/s",
                    args.rounds,
                    lambda: http_rate(ports["http"], args.requests),
                    lambda: http_rate(nginx.port, args.requests),
                    "nginx",
                )
        finally:
            nginx.stop()

    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    source = shm / f"netbench-bench-lab-{os.getpid()}"
    try:
        with source.open("wb") as handle:
            block = os.urandom(1 << 20)
            for _ in range(args.mib):
                handle.write(block)
        with lab("echo", "chargen") as ports, socat("EXEC:cat") as echo_port, socat("OPEN:/dev/zero") as zero:
            compare(
                f"echo: {args.mib} MiB through nc -N and back, {args.rounds} rounds",
                "MB/s",
                args.rounds,
                lambda: echo_rate(ports["echo"], source),
                lambda: echo_rate(echo_port, source),
                "socat",
            )
            compare(
                f"chargen: {args.mib} MiB read with nc -d (peer: socat streaming /dev/zero)",
                "MB/s",
                args.rounds,
                lambda: stream_rate(ports["chargen"], args.mib << 20),
                lambda: stream_rate(zero, args.mib << 20),
                "socat",
            )
    finally:
        source.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
