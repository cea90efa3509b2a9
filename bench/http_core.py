"""CPU per request of netbench's sans-IO HTTP core, no network: one at a time vs pipelined.

Builds a GET and parses a canned nginx answer N times, with HttpConnection
(one request at a time) and with HttpPipeline (requests written ahead), and
prints the CPU time per request (min and median of the rounds) and which h11
build was used. No server, no socket: the steadiest figure on a busy machine.

    python bench/http_core.py [--requests 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netbench.core.h11_build import describe
from netbench.core.http import HttpConnection, HttpPipeline

ANSWER = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 00:25:40 GMT\r\n"
    b"Content-Type: text/html\r\nContent-Length: 38\r\nLast-Modified: Mon, 30 Nov 2026 00:25:38 GMT\r\n"
    b'Connection: keep-alive\r\nETag: "6b0cc282-26"\r\nAccept-Ranges: bytes\r\n\r\n'
    b"<html><body>hello world</body></html>\n"
)
HEADERS = (("User-Agent", "netbench/bench"), ("Accept", "*/*"))


def one_at_a_time(count: int) -> None:
    connection = HttpConnection()
    for i in range(count):
        connection.request("GET", f"/index.html?{i}", HEADERS, host="127.0.0.1:8080")
        assert connection.parser(keep_raw=False, sink=len).feed(ANSWER) is not None


def pipelined(count: int) -> None:
    pipeline = HttpPipeline()
    for i in range(count):
        pipeline.request("GET", f"/index.html?{i}", HEADERS, host="127.0.0.1:8080")
        assert pipeline.parser(keep_raw=False, sink=len).feed(ANSWER) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"{describe()}; {args.requests} requests, {args.rounds} rounds, CPU time per request")
    results: dict[str, list[float]] = {"one at a time": [], "pipelined": []}
    for _ in range(args.rounds):
        for name, run in (("one at a time", one_at_a_time), ("pipelined", pipelined)):
            start = time.process_time()
            run(args.requests)
            results[name].append((time.process_time() - start) / args.requests * 1e6)
    for name, values in results.items():
        print(f"  {name:<14}: min {min(values):6.1f} us, median {statistics.median(values):6.1f} us")


if __name__ == "__main__":
    main()
