"""`netbench connect --tls` against a local TLS server with a trustme certificate."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipe_helpers import netbench

trustme = pytest.importorskip("trustme")


class TLSEchoServer:
    """Accepts TLS connections on 127.0.0.1 in a thread; answers ``echo: <first read>`` and closes."""

    def __init__(self, ca: object) -> None:
        cert = ca.issue_cert("localhost", "127.0.0.1")  # type: ignore[attr-defined]
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.context)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"echo: " + tls.recv(65536))
        except (OSError, ssl.SSLError):
            pass  # a client that refused our certificate, for instance
        finally:
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture(scope="module")
def ca() -> object:
    return trustme.CA()


@pytest.fixture(scope="module")
def cafile(ca: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))  # type: ignore[attr-defined]
    return path


@pytest.fixture(scope="module")
def server(ca: object) -> Iterator[TLSEchoServer]:
    running = TLSEchoServer(ca)
    yield running
    running.close()


def test_verified_with_cafile(server: TLSEchoServer, cafile: Path) -> None:
    result = netbench(
        "connect", "--tls", "--cafile", str(cafile), "localhost", str(server.port), input=b"over tls\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"echo: over tls\n"
    assert result.stderr == b""  # the certificate summary only with -v or on a terminal


def test_tls_url_and_verbose_summary(server: TLSEchoServer, cafile: Path) -> None:
    result = netbench("connect", "-v", "--cafile", str(cafile), f"tls://127.0.0.1:{server.port}", input=b"x")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"echo: x"
    err = result.stderr.decode()
    assert "* TLS TLSv1." in err
    assert "names: localhost, 127.0.0.1" in err


def test_verification_failure_exits_7(server: TLSEchoServer) -> None:
    result = netbench("connect", "--tls", "localhost", str(server.port), input=b"x")
    assert result.returncode == 7, result.stderr
    err = result.stderr.decode()
    assert err.startswith("netbench: TLS certificate of") and err.count("\n") == 1
    assert result.stdout == b""


def test_wrong_server_name_exits_7(server: TLSEchoServer, cafile: Path) -> None:
    result = netbench(
        "connect", "--tls", "--cafile", str(cafile), "--sni", "other.example", f"127.0.0.1:{server.port}"
    )
    assert result.returncode == 7, result.stderr


def test_insecure_skips_verification(server: TLSEchoServer) -> None:
    result = netbench("connect", "--insecure", "-v", f"tls://localhost:{server.port}", input=b"anyway\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"echo: anyway\n"
    assert b"NOT verified" in result.stderr


def test_zero_io_checks_the_handshake(server: TLSEchoServer, cafile: Path) -> None:
    good = netbench("connect", "-z", "--tls", "--cafile", str(cafile), "localhost", str(server.port))
    bad = netbench("connect", "-z", "--tls", "localhost", str(server.port))
    assert (good.returncode, bad.returncode) == (0, 7)


def test_tls_to_a_plain_server_exits_7() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)

        def plain() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(1000)
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nthis is not TLS\n" * 4)

        thread = threading.Thread(target=plain, daemon=True)
        thread.start()
        result = netbench("connect", "--tls", "-w", "5", "127.0.0.1", str(listener.getsockname()[1]))
        thread.join(10)
    assert result.returncode == 7, result.stderr


class TLSKeepAliveHttp:
    """A TLS 1.3 HTTP/1.1 server on 127.0.0.1 that answers every request on a connection with 200 "ok".

    TLS 1.3 servers send session tickets after the handshake: bytes on the socket that are
    no application data. ``connections`` counts the connections accepted.
    """

    def __init__(self, ca: object) -> None:
        cert = ca.issue_cert("localhost", "127.0.0.1")  # type: ignore[attr-defined]
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.context)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
                    while b"\r\n\r\n" in data:
                        _head, data = data.split(b"\r\n\r\n", 1)
                        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.listener.close()


def test_replay_keeps_one_tls_connection_across_http_steps(ca: object, cafile: Path, tmp_path: Path) -> None:
    # A session ticket makes the idle socket readable; it is not data nobody asked for,
    # so the next http step goes on the same connection.
    from netbench import replay

    server = TLSKeepAliveHttp(ca)
    try:
        path = tmp_path / "tls.recipe.yaml"
        steps = "".join(f"  - http: {{url: /{n}}}\n    expect: {{status: 200, body: ok}}\n" for n in range(3))
        path.write_text(
            f"netbench: 1\ntarget: tls://localhost:{server.port}\ntls: {{cafile: {cafile}}}\nsteps:\n{steps}"
        )
        result = replay(path)
        connections = server.connections
    finally:
        server.close()
    assert result.ok, result.report()
    assert connections == 1
