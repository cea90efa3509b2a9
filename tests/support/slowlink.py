"""A private two-host network for scan tests and benchmarks (root only).

:class:`SlowLink` creates two network namespaces, ``A`` (the scanner) and
``B`` (the target), joined by a pair of tun devices whose packets pass
through a thread of this process. That thread can delay packets (a slow
path, like ``tc netem delay`` on A's link, which this kernel may lack: the
delay applies from A to B, so it is the round-trip time) and drop TCP
packets to chosen ports of B (a firewall that drops, so the ports are
"filtered" as nmap defines it, without iptables or nft).

Addresses are 10.x.y.1 (A) and 10.x.y.2 (B), private to the namespaces: no
packet ever leaves them. Everything is torn down on exit, even on errors.
"""

from __future__ import annotations

import fcntl
import heapq
import os
import select
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType

_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000


def unavailable() -> str | None:
    """Why a SlowLink cannot be built here (None when it can)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root (network namespaces and tun devices)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing"
    return None


def _open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    try:
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd


def _tcp_dport(packet: bytes) -> int | None:
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 6:
        return None
    offset = (packet[0] & 0x0F) * 4
    if len(packet) < offset + 4:
        return None
    return int.from_bytes(packet[offset + 2 : offset + 4], "big")


class SlowLink:
    """Namespaces A and B joined through this process; see the module docstring."""

    def __init__(self, *, delay: float = 0.0, drop_ports: Iterable[int] = ()) -> None:
        tag = f"{os.getpid() % 100000:05d}{threading.get_ident() % 97:02d}"
        self.ns_a, self.ns_b = f"nbscanA{tag}", f"nbscanB{tag}"
        self.dev_a, self.dev_b = f"nbtA{tag}", f"nbtB{tag}"
        net = os.getpid() % 250 + 1
        sub = threading.get_ident() % 250 + 1
        self.addr_a, self.addr_b = f"10.{net}.{sub}.1", f"10.{net}.{sub}.2"
        self.delay = delay
        self.drop_ports = frozenset(drop_ports)
        self._fds: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.forwarded = 0
        self.dropped = 0

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    def __enter__(self) -> SlowLink:
        try:
            self._ip("netns", "add", self.ns_a)
            self._ip("netns", "add", self.ns_b)
            fd_a, fd_b = _open_tun(self.dev_a), _open_tun(self.dev_b)
            self._fds = [fd_a, fd_b]
            for dev, ns, mine, peer in (
                (self.dev_a, self.ns_a, self.addr_a, self.addr_b),
                (self.dev_b, self.ns_b, self.addr_b, self.addr_a),
            ):
                self._ip("link", "set", dev, "netns", ns)
                self._ip("-n", ns, "addr", "add", mine, "peer", peer, "dev", dev)
                self._ip("-n", ns, "link", "set", dev, "up")
                self._ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        self._thread = threading.Thread(target=self._forward, name="slowlink", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop forwarding and delete both namespaces (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []
        for ns in (self.ns_a, self.ns_b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)

    def _forward(self) -> None:
        fd_a, fd_b = self._fds
        peer = {fd_a: fd_b, fd_b: fd_a}
        poller = select.epoll()
        poller.register(fd_a, select.EPOLLIN)
        poller.register(fd_b, select.EPOLLIN)
        queue: list[tuple[float, int, int, bytes]] = []
        serial = 0
        try:
            while not self._stop.is_set():
                wait = 0.05
                if queue:
                    wait = max(0.0, min(wait, queue[0][0] - time.monotonic()))
                for fd, _events in poller.poll(wait):
                    while True:
                        try:
                            packet = os.read(fd, 65535)
                        except BlockingIOError:
                            break
                        except OSError:
                            return
                        if fd == fd_a and _tcp_dport(packet) in self.drop_ports:
                            self.dropped += 1
                            continue
                        serial += 1
                        delay = self.delay if fd == fd_a else 0.0
                        heapq.heappush(queue, (time.monotonic() + delay, serial, peer[fd], packet))
                now = time.monotonic()
                while queue and queue[0][0] <= now:
                    _when, _serial, out, packet = heapq.heappop(queue)
                    try:
                        os.write(out, packet)
                        self.forwarded += 1
                    except OSError:
                        pass
        finally:
            poller.close()

    def command(self, side: str, argv: Sequence[str]) -> list[str]:
        """*argv* wrapped to run inside namespace ``"A"`` or ``"B"``."""
        return ["ip", "netns", "exec", self.ns_a if side == "A" else self.ns_b, *argv]

    def start_listeners(self, ports: Sequence[int]) -> subprocess.Popen[bytes]:
        """Listen on *ports* at B's address (a child in namespace B); stop it with ``.kill()``."""
        return start_listeners(self.ns_b, self.addr_b, ports)


def start_listeners(namespace: str, host: str, ports: Sequence[int]) -> subprocess.Popen[bytes]:
    """A child in *namespace* listening on *host*:*ports*; returns once every port listens."""
    code = (
        "import socket,sys\n"
        "ss=[]\n"
        f"for p in {list(ports)!r}:\n"
        "    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
        f"    s.bind(({host!r},p)); s.listen(64); ss.append(s)\n"
        "print('ready',flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != b"ready":
        child.kill()
        child.wait()
        raise RuntimeError(f"listeners in namespace {namespace} did not start")
    return child


class PrivateLoopback:
    """A network namespace with only its own loopback: 127.0.0.1 with no other
    program's ports on it (so two scanners' open sets can be compared exactly)."""

    def __init__(self) -> None:
        self.namespace = f"nbscanL{os.getpid() % 100000:05d}"

    def __enter__(self) -> PrivateLoopback:
        subprocess.run(["ip", "netns", "add", self.namespace], check=True, capture_output=True, timeout=10)
        try:
            subprocess.run(
                ["ip", "-n", self.namespace, "link", "set", "lo", "up"],
                check=True, capture_output=True, timeout=10,
            )
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True, timeout=10)

    def command(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]
