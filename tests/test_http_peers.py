"""`netbench http` against real servers: nginx, the lab http service, a TLS server."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from netbench.core.address import Target
from netbench.core.http import build_request
from netbench.net.http_client import HttpClient
from tests.hostile.server import CLOSE, HostileServer, read_request_head
from tests.support.peers import HELLO
from tests.test_http_hostile import run_http

pytestmark = pytest.mark.nginx


def test_body_alone_on_stdout_head_on_stderr(nginx):
    status, out, err = run_http(f"{nginx.url}/index.html", tty=False)
    assert status == 0 and out == HELLO
    assert err.startswith("HTTP/1.1 200 OK\n") and "Server: nginx" in err


def test_gzip_is_undone_on_stdout_and_reported_in_the_view(nginx):
    big = (nginx.root / "big.txt").read_bytes()
    status, out, err = run_http(f"{nginx.url}/big.txt", tty=False)
    assert status == 0 and out == big
    assert "Content-Encoding: gzip" in err
    status, view, _ = run_http(f"{nginx.url}/big.txt", tty=True)
    assert status == 0 and "body: gzip, " in view.decode() and f" -> {len(big)} bytes" in view.decode()


def test_json_view_is_pretty(nginx):
    status, view, _ = run_http(f"{nginx.url}/data.json", tty=True)
    assert status == 0
    assert '"ports": [\n    80,\n    443\n  ]' in view.decode()


def test_no_accept_encoding_gives_the_identity_body(nginx):
    status, out, err = run_http(f"{nginx.url}/data.json", "-H", "Accept-Encoding:", tty=False)
    assert status == 0 and out == (nginx.root / "data.json").read_bytes()
    assert "Content-Encoding" not in err


def test_404_is_a_response_not_an_error_unless_checked(nginx):
    status, _out, err = run_http(f"{nginx.url}/missing", tty=False)
    assert status == 0 and err.startswith("HTTP/1.1 404 Not Found")
    status, _out, _err = run_http(f"{nginx.url}/missing", "--check-status", tty=False)
    assert status == 1


def test_redirect_is_shown_not_followed_unless_asked(nginx):
    status, out, err = run_http(f"{nginx.url}/redirect", tty=False)
    assert status == 0 and "301 Moved Permanently" in err and "not followed" in err
    status, out, err = run_http(f"{nginx.url}/redirect", "--follow", tty=False)
    assert status == 0 and out == HELLO
    assert err.index("301 Moved") < err.index("200 OK")


def test_head_has_no_body(nginx):
    status, out, err = run_http(f"{nginx.url}/index.html", "-X", "HEAD", "-H", "Accept-Encoding:", tty=False)
    assert status == 0 and out == b"" and f"Content-Length: {len(HELLO)}" in err


def test_etag_then_if_none_match_gives_304(nginx):
    client = HttpClient(Target("tcp", "127.0.0.1", nginx.port), timeout=5)
    with client:
        first = client.exchange(client.request("GET", "/index.html", []))
        etag = first.response.header("ETag")
        assert etag
        second = client.exchange(client.request("GET", "/index.html", [("If-None-Match", etag)]))
    assert second.response.status == 304 and second.response.body == b""
    assert second.timings.reused and client.connections == 1


def test_chunked_gzip_response_decodes(nginx):
    client = HttpClient(Target("tcp", "127.0.0.1", nginx.port), timeout=5)
    with client:
        exchange = client.exchange(client.request("GET", "/big.txt", [("Accept-Encoding", "gzip")]))
    response = exchange.response
    assert response.header("Transfer-Encoding") == "chunked" and response.decoded
    assert response.body == (nginx.root / "big.txt").read_bytes()
    assert response.encoded_size < response.body_size


def test_several_urls_share_one_keep_alive_connection(nginx):
    urls = [f"{nginx.url}/index.html?{i}" for i in range(5)]
    client = HttpClient(Target("tcp", "127.0.0.1", nginx.port), timeout=5)
    with client:
        for url in urls:
            path = url.split(str(nginx.port), 1)[1]
            assert client.exchange(client.request("GET", path, [])).response.body == HELLO
    assert client.connections == 1
    status, out, _ = run_http(urls[0], *urls[1:], tty=False)
    assert status == 0 and out == HELLO * 5


class CountingServer:
    """A keep-alive server on 127.0.0.1 that counts connections and answers every request."""

    def __init__(self) -> None:
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        with conn:
            while True:
                received = read_request_head(conn, data)
                if received is None:
                    return
                head, data = received.split(b"\r\n\r\n", 1)
                target = head.split(b" ")[1]
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s\n" % (len(target) + 1, target))


@pytest.fixture
def counting() -> Iterator[CountingServer]:
    server = CountingServer()
    server.thread.start()
    yield server
    server.stop.set()
    server.thread.join(5)
    server.listener.close()


def test_command_uses_one_connection_per_host_port(counting):
    base = f"http://127.0.0.1:{counting.port}"
    status, out, _ = run_http(f"{base}/a", f"{base}/b", f"{base}/c", tty=False)
    assert status == 0 and out == b"/a\n/b\n/c\n"
    assert counting.connections == 1


def test_post_data_and_file(tmp_path):
    echo = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    with HostileServer([echo, CLOSE]) as server:
        status, _out, _err = run_http(
            server.url, "-d", "name=value", "-H", "Content-Type: text/plain", tty=False
        )
        body_file = tmp_path / "body.bin"
        body_file.write_bytes(b"\x00\x01binary")
        status_file, _, _ = run_http(server.url, "-X", "PUT", "-d", f"@{body_file}", tty=False)
    assert status == 0 and status_file == 0
    first, second = server.requests
    assert first.startswith(b"POST / HTTP/1.1\r\n") and b"Content-Length: 10\r\n" in first
    assert b"Content-Type: text/plain\r\n" in first
    assert second.startswith(b"PUT / HTTP/1.1\r\n") and b"Content-Length: 8\r\n" in second


def test_usage_errors_exit_2():
    assert run_http("ftp://127.0.0.1", tty=False)[0] == 2
    assert run_http("http://127.0.0.1:99999", tty=False)[0] == 2
    assert run_http("http://127.0.0.1:1", "-H", "no colon", tty=False)[0] == 2
    assert run_http("https://127.0.0.1:1", "--cacert", "/nonexistent.pem", tty=False)[0] == 2
    assert run_http("http://127.0.0.1:1", "-d", "@/nonexistent.body", tty=False)[0] == 2


def test_refused_exits_3():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, _out, err = run_http(f"http://127.0.0.1:{port}", tty=False)
    assert status == 3 and "refused" in err


def test_lab_http_service():
    lab_module = pytest.importorskip("netbench.lab")
    with lab_module.running("http") as lab:
        server = lab["http"]
        base = f"http://127.0.0.1:{server.port}"
        status, out, err = run_http(f"{base}/index.html", tty=False)
        assert status == 0 and out == HELLO
        etag = next(line.split(": ", 1)[1] for line in err.splitlines() if line.lower().startswith("etag:"))
        status, out, err = run_http(f"{base}/index.html", "-H", f"If-None-Match: {etag}", tty=False)
        assert status == 0 and err.startswith("HTTP/1.1 304") and out == b""
        status, out, _ = run_http(f"{base}/chunked", tty=False)
        assert status == 0 and out
        status, out, _ = run_http(f"{base}/echo", "-d", "hello", tty=False)
        assert status == 0
        echoed = json.loads(out)
        assert echoed["method"] == "POST" and echoed["body"] == "hello"
        status, _, err = run_http(f"{base}/slow?delay=3", tty=False)  # -w 0.5 in run_http
        assert status == 4 and "timed out" in err


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[int, str]]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    body = gzip.compress(b"secret hello\n", mtime=0)

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.settimeout(5)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(4096)
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body) + body
                    )
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ca_file = ca.cert_pem.bytes()
    yield listener.getsockname()[1], ca_file.decode()
    stop.set()
    thread.join(5)
    listener.close()


def test_https_insecure_works_and_unverified_fails_with_7(tls_server):
    port, _ca = tls_server
    status, out, err = run_http(f"https://127.0.0.1:{port}/", "--insecure", tty=False)
    assert status == 0 and out == b"secret hello\n"
    status, _out, err = run_http(f"https://127.0.0.1:{port}/", tty=False)
    assert status == 7 and "TLS" in err


def test_build_request_matches_what_the_client_sends(nginx):
    expected = build_request("GET", "/index.html", [("Accept", "*/*")], host=f"127.0.0.1:{nginx.port}")
    client = HttpClient(Target("tcp", "127.0.0.1", nginx.port), timeout=5)
    with client:
        assert client.exchange(client.request("GET", "/index.html", [("Accept", "*/*")])).request == expected


def test_terminal_view_keeps_only_the_start_of_a_huge_body():
    body = b"a" * (3 << 19)  # 1.5 MiB of text
    with HostileServer(
        [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body, CLOSE]
    ) as server:
        status, view, _ = run_http(server.url + "/", tty=True)
    assert status == 0
    assert f"showing the first {1 << 20} of {len(body)} body bytes" in view.decode()


def test_raw_view_on_a_terminal_shows_both_directions(nginx):
    status, view, _ = run_http(f"{nginx.url}/index.html", "--raw", "-H", "Accept-Encoding:", tty=True)
    text = view.decode()
    assert status == 0
    assert "--- sent (" in text and "GET /index.html HTTP/1.1\\r\\n" in text
    assert "--- received (" in text and "HTTP/1.1 200 OK\\r\\n" in text


def test_https_verified_with_a_ca_file_shows_the_certificate(tls_server, tmp_path):
    port, ca = tls_server
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(ca)
    status, view, err = run_http(f"https://127.0.0.1:{port}/", "--cacert", str(ca_file), tty=True)
    assert status == 0, err
    text = view.decode()
    assert "secret hello" in text and "TLS TLSv1." in text and "certificate:" in text


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",  # closes without saying so
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok\n",  # says so, body until the close
        b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n",  # HTTP/1.0: no keep-alive
    ],
    ids=["silent-close", "connection-close", "http-1.0"],
)
def test_a_server_that_ends_keep_alive_gets_a_new_connection(reply):
    with HostileServer([reply, CLOSE]) as server:
        urls = [f"{server.url}/{i}" for i in range(3)]
        status, out, err = run_http(*urls, tty=False)
    assert status == 0, err
    assert out == b"ok\n" * 3
    assert [request.split(b" ")[1] for request in server.requests] == [b"/0", b"/1", b"/2"]


def test_ipv6_loopback_and_host_header():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = HostileServer([b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nv6\n", CLOSE], host="::1")
    except OSError:
        pytest.skip("::1 is not available here")
    with server:
        status, out, err = run_http(server.url + "/six", "-6", tty=False)
        assert status == 0, err
        assert out == b"v6\n"
        assert f"Host: [::1]:{server.port}\r\n".encode() in server.requests[0]


def test_chunked_request_body():
    with HostileServer([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", CLOSE]) as server:
        status, _out, err = run_http(server.url + "/up", "-d", "hello", "--chunked", tty=False)
    assert status == 0, err
    assert b"Transfer-Encoding: chunked\r\n" in server.requests[0]
    assert b"Content-Length" not in server.requests[0]
