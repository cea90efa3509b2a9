"""Real peer programs for tests: nginx, OpenBSD netcat, socat, nmap.

A missing peer skips its tests on a developer's machine but fails them in
CI (``CI`` set), where ``.ci/run`` installs every peer.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

HELLO = b"<html><body>hello world</body></html>\n"


def require_binary(name: str) -> str:
    """Return the path of *name*, or skip (fail under CI) when it is missing."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run should have installed it")
        pytest.skip(f"{name} is not installed")
    return path


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port that is free on *host* right now (for TCP and UDP alike when possible)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    """Wait until something accepts TCP connections on *host*:*port*."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    default_type application/octet-stream;
    types {{ text/html html; application/json json; text/plain txt; }}
    keepalive_requests 100000;
    gzip on;
    gzip_min_length 20;
    gzip_types text/plain application/json;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {prefix}/www;
        location = /redirect {{ return 301 /index.html; }}
        location = /teapot {{ return 418 "short and stout\\n"; }}
    }}
}}
"""


class Daemon:
    """A peer program serving on ``self.port`` until :meth:`stop`: one launch, one wait, one stop."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    def launch(self, argv: list[str], *, stderr: int = subprocess.DEVNULL) -> None:
        """Start *argv* and wait until it accepts on ``self.port``; stop it and raise if it never does."""
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class Nginx(Daemon):
    """A private nginx on a free loopback port, serving files from ``root``."""

    def __init__(self, directory: Path) -> None:
        self.binary = require_binary("nginx")
        self.prefix = directory
        self.root = directory / "www"
        self.port = free_port()

    def start(self) -> Nginx:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "index.html").write_bytes(HELLO)
        (self.root / "big.txt").write_bytes(b"all work and no play\n" * 5000)
        (self.root / "data.json").write_bytes(b'{"name": "netbench", "ports": [80, 443]}\n')
        conf = self.prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=self.prefix, port=self.port))
        self.launch([self.binary, "-c", str(conf), "-p", str(self.prefix)], stderr=subprocess.PIPE)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class RedisServer(Daemon):
    """A private redis-server on a free loopback port, with no persistence.

    ``redis-server --port P --bind 127.0.0.1 --save '' --appendonly no``,
    stopped by :meth:`stop`. Missing redis-server skips (fails under CI).
    """

    def __init__(self, directory: Path) -> None:
        self.binary = require_binary("redis-server")
        self.directory = directory
        self.port = free_port()

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        no_persistence = ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.launch([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *no_persistence])
        return self

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def flushall(self) -> None:
        """Empty every database (a raw RESP command over a fresh connection)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
            assert conn.recv(64).startswith(b"+OK")
