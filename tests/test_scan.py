"""netbench scan against real sockets on loopback (and, as root, across namespaces).

Scans only cover small ranges around ports the test itself holds: a bound
but not listening socket keeps a port closed (the kernel answers RST) and
out of everyone else's hands, a listening one makes it open.
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from netbench.errors import Refused
from netbench.tools.banner import read_banner
from netbench.tools.scan import scan
from netbench.tools.scanmodel import (
    CLOSED,
    FILTERED,
    OPEN,
    OPEN_FILTERED,
    ScanReport,
    summarize_banner,
)
from tests.support import slowlink
from tests.support.cli import run_main
from tests.support.peers import require_binary

# ---------------------------------------------------------------- real sockets


class PortBlock:
    """A contiguous block of loopback ports held by this test: some listening."""

    def __init__(self, size: int, listening: set[int], host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for _ in range(200):
            base = random.randrange(20000, 32000 - size)  # below the ephemeral range
            socks = []
            try:
                for offset in range(size):
                    sock = socket.socket(family, socket.SOCK_STREAM)
                    socks.append(sock)
                    sock.bind((host, base + offset))
            except OSError:
                for sock in socks:
                    sock.close()
                continue
            self.socks = socks
            self.ports = list(range(base, base + size))
            self.open = {base + i for i in listening}
            for offset in listening:
                socks[offset].listen(16)
            return
        raise RuntimeError("no free block of ports")

    def expected(self) -> dict[int, str]:
        return {p: OPEN if p in self.open else CLOSED for p in self.ports}

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


@pytest.fixture
def block() -> Iterator[PortBlock]:
    held = PortBlock(12, {2, 3, 9})
    yield held
    held.close()


def _states(report: ScanReport) -> dict[int, str]:
    return {r.port: r.state for r in report.results}


def test_scan_finds_exactly_the_open_ports(block: PortBlock) -> None:
    report = scan("127.0.0.1", block.ports, timeout=2.0)
    assert _states(report) == block.expected()
    assert report.open_ports() == sorted(block.open)
    assert not report.interrupted and report.total == len(block.ports)


@pytest.mark.peers
def test_scan_agrees_with_nmap(block: PortBlock) -> None:
    nmap = require_binary("nmap")
    spec = f"{block.ports[0]}-{block.ports[-1]}"
    out = subprocess.run(
        [nmap, "-n", "-sT", "-Pn", "-p", spec, "-oG", "-", "127.0.0.1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    listed = re.search(r"Ports: (.*?)(\t|$)", out, re.M)
    assert listed, out
    theirs = {}
    for item in listed.group(1).split(", "):
        port, state = item.split("/")[:2]
        theirs[int(port)] = state
    ours = _states(scan("127.0.0.1", block.ports, timeout=2.0))
    # nmap folds the majority state into "Ignored State"; compare what it lists.
    ignored = re.search(r"Ignored State: (\w+)", out)
    for port in block.ports:
        assert ours[port] == theirs.get(port, ignored.group(1) if ignored else None), port


def test_scan_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        held = PortBlock(6, {1, 4}, host="::1")
    except RuntimeError:
        pytest.skip("::1 not usable here")
    try:
        report = scan("::1", held.ports, timeout=2.0)
        assert report.address == "::1"
        assert _states(report) == held.expected()
    finally:
        held.close()


def test_localhost_prefers_ipv4(block: PortBlock) -> None:
    report = scan("localhost", block.ports[:3], timeout=2.0)
    assert report.address == "127.0.0.1"


def test_unresolvable_host_is_refused() -> None:
    with pytest.raises(Refused):
        scan("no-such-host.invalid", [80])


def test_self_connect_is_never_open() -> None:
    # A socket bound to P and connected to P on loopback connects to itself.
    from netbench.tools.engine import is_self_connect

    for _ in range(20):
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                assert is_self_connect(sock)
                return
        finally:
            sock.close()
    pytest.skip("the kernel did not self-connect")


def test_connected_socket_is_not_a_self_connect(block: PortBlock) -> None:
    from netbench.tools.engine import is_self_connect

    port = min(block.open)
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        assert not is_self_connect(sock)


@contextmanager
def _serving(sock: socket.socket, serve: Callable[[socket.socket], None]) -> Iterator[int]:
    """Run ``serve(sock)`` in a thread; yield sock's port; close it and join the thread on exit."""
    sock.settimeout(5)
    thread = threading.Thread(target=serve, args=(sock,), daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()
        thread.join(5)


def _loopback(kind: int = socket.SOCK_STREAM) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(("127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        sock.listen(4)
    return sock


def _pong(sock: socket.socket) -> None:
    """Answer one datagram with ``pong `` + its data."""
    try:
        data, peer = sock.recvfrom(2048)
        sock.sendto(b"pong " + data, peer)
    except OSError:
        pass


def test_udp_probe_states() -> None:
    silent = _loopback(socket.SOCK_DGRAM)
    spare = _loopback(socket.SOCK_DGRAM)
    closed = spare.getsockname()[1]
    spare.close()
    try:
        with _serving(_loopback(socket.SOCK_DGRAM), _pong) as answering:
            ports = [answering, silent.getsockname()[1], closed]
            report = scan("127.0.0.1", ports, protocol="udp", timeout=0.5, retries=0)
        assert _states(report) == {ports[0]: OPEN, ports[1]: OPEN_FILTERED, ports[2]: CLOSED}
    finally:
        silent.close()


def _greeter(greeting: bytes) -> Callable[[socket.socket], None]:
    """A server that sends *greeting* on each of two connections."""

    def serve(server: socket.socket) -> None:
        for _ in range(2):  # the scan's probe, then the banner's connection
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                try:  # the probe may be gone already (reset): go on to the next
                    conn.sendall(greeting)
                    conn.settimeout(2)
                    conn.recv(100)
                except OSError:
                    pass

    return serve


def test_banner_is_read_and_made_safe() -> None:
    with _serving(_loopback(), _greeter(b"SSH-2.0-Test\x1b[31m red\r\n")) as port:
        report = scan("127.0.0.1", [port], banner=True, banner_timeout=2.0)
        assert report.results[0].state == OPEN
        assert report.results[0].banner == "SSH-2.0-Test\\x1b[31m red"


@pytest.mark.nginx
def test_banner_on_http_port_sends_head(nginx) -> None:  # type: ignore[no-untyped-def]
    data = read_banner(socket.AF_INET, ("127.0.0.1", 0), nginx.port, http=True, timeout=3.0, host="127.0.0.1")
    assert data.startswith(b"HTTP/1.1 200")
    assert "Server: nginx" in summarize_banner(data)


# ---------------------------------------------------------------- the command


def _run(*argv: str, tty: bool = False) -> tuple[int, str, str]:
    return run_main(argv, tty=tty)


def test_command_rows_and_hint(block: PortBlock) -> None:
    spec = f"{block.ports[0]}-{block.ports[-1]}"
    status, out, err = _run("scan", "127.0.0.1", "-p", spec, tty=True)
    assert status == 0
    for port in block.ports:
        state = "open" if port in block.open else "closed"
        assert re.search(rf"^{port}/tcp\s+{state}\s", out, re.M), out
    assert f"talk to it: netbench connect 127.0.0.1 {min(block.open)}" in err


def test_scan_that_finds_nothing_suggests_p(block: PortBlock) -> None:
    closed = [p for p in block.ports if p not in block.open]
    status, out, err = _run("scan", "localhost", "-4", "-p", ",".join(map(str, closed[:3])), tty=True)
    assert status == 0
    assert " open " not in out
    assert "nothing open in the 3 tcp ports scanned; name other ports with -p" in err
    assert "netbench scan localhost -p-" in err


def test_progress_line_on_a_terminal(block: PortBlock) -> None:
    # 12 ports at 8 per second: long enough (> 1 s) for the progress line.
    spec = f"{block.ports[0]}-{block.ports[-1]}"
    status, out, err = _run("scan", "127.0.0.1", "-p", spec, "--rate", "8", tty=True)
    assert status == 0
    assert re.search(r"\r\x1b\[Kscanning 127\.0\.0\.1: \d+/12 ports, \d open", err), repr(err)
    assert "\x1b" not in out
    quiet = _run("scan", "127.0.0.1", "-p", spec)[2]
    assert quiet == ""  # no progress, no hint when stderr is not a terminal


def test_command_json_parses(block: PortBlock) -> None:
    status, out, err = _run("scan", "127.0.0.1", "-p", ",".join(map(str, block.ports)), "--json")
    assert status == 0, err
    data = json.loads(out)
    assert data["open"] == sorted(block.open)
    assert {p["port"]: p["state"] for p in data["ports"]} == block.expected()


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "127.0.0.1", "-p", "70000"],
        ["scan", "127.0.0.1", "-p", "5-1"],
        ["scan", "127.0.0.1", "-w", "0"],
        ["scan", "127.0.0.1", "-p", "80", "--top", "5"],
        ["scan", "127.0.0.1:8080"],
        ["scan", "http://127.0.0.1/"],
        ["scan"],
    ],
)
def test_command_bad_input_is_one_line_exit_2(argv: list[str]) -> None:
    status, _out, err = _run(*argv)
    assert status == 2
    assert err.startswith("netbench: ") and err.count("\n") == 1


def test_command_unresolvable_host_exit_3() -> None:
    status, _out, err = _run("scan", "no-such-host.invalid", "-p", "80")
    assert status == 3 and "cannot resolve" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_prints_what_was_found(block: PortBlock, workers: str) -> None:
    # A rate-limited scan of our block, many times over through a slow rate:
    # interrupt it and expect the partial report and status 130.
    spec = f"{block.ports[0]}-{block.ports[-1]}"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netbench",
            "scan",
            "127.0.0.1",
            "-p",
            f"{spec},1-1000",
            "--rate",
            "20",
            "--workers",
            workers,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt once every open port of the block has been probed (its
    # listener has a connection waiting), while ports 1-1000 remain.
    waiting = {block.socks[port - block.ports[0]] for port in block.open}
    deadline = time.monotonic() + 30
    while waiting and time.monotonic() < deadline and child.poll() is None:
        ready, _, _ = select.select(list(waiting), [], [], 0.1)
        waiting -= set(ready)
    assert not waiting, "the scan never reached the open ports"
    time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)
    assert child.returncode == 130, (out, err)
    assert "interrupted:" in out and "netbench: interrupted" in err
    assert re.search(rf"^{min(block.open)}/tcp\s+open", out, re.M), out


# ---------------------------------------------------------------- filtered, in namespaces


@pytest.mark.root
def test_filtered_through_a_dropping_link() -> None:
    why = slowlink.unavailable()
    if why:
        pytest.skip(f"filtered test: {why}")
    try:
        link = slowlink.SlowLink(drop_ports=[4003]).__enter__()
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot build namespaces here: {error}")
    try:
        listeners = link.start_listeners([4001])
        try:
            argv = [
                sys.executable,
                "-m",
                "netbench",
                "scan",
                link.addr_b,
                "-p",
                "4000-4004",
                "-w",
                "0.5",
                "--retries",
                "1",
                "--json",
            ]
            env = dict(os.environ, PYTHONPATH=os.getcwd())
            done = subprocess.run(
                link.command("A", argv), capture_output=True, text=True, timeout=30, env=env
            )
            assert done.returncode == 0, done.stderr
            states = {p["port"]: p["state"] for p in json.loads(done.stdout)["ports"]}
            assert states == {4000: CLOSED, 4001: OPEN, 4002: CLOSED, 4003: FILTERED, 4004: CLOSED}
            assert link.dropped >= 2  # the probe and its retry
            nmap = require_binary("nmap")
            theirs = subprocess.run(
                link.command("A", [nmap, "-n", "-sT", "-Pn", "-p", "4000-4004", link.addr_b]),
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            assert re.search(r"^4003/tcp\s+filtered", theirs, re.M), theirs
            assert re.search(r"^4001/tcp\s+open", theirs, re.M), theirs
        finally:
            listeners.kill()
            listeners.wait()
    finally:
        link.close()


# ---------------------------------------------------------------- forked workers


def test_forked_workers_give_the_same_verdicts(block: PortBlock) -> None:
    from netbench.tools.workers import probe_tcp_forked

    outcome = probe_tcp_forked(socket.AF_INET, ("127.0.0.1", 0), block.ports, workers=3, timeout=2.0)
    assert not outcome.interrupted
    assert {p: v[0] for p, v in outcome.verdicts.items()} == block.expected()
