"""The lab's HTTP server: every endpoint over a real loopback socket.

Responses are read with h11's client side (an independent parser) or, where
the exact wire matters (HEAD, chunked, 400), with a plain socket.
"""

from __future__ import annotations

import json
import re
import select
import socket
from collections.abc import Iterator

import h11
import pytest

from netbench.lab import Lab, accounts, running
from netbench.lab.pages import MAX_DELAY, route, slow
from tests.support.peers import HELLO
from tests.support.sockets import read_until_eof

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("http") as servers:
        yield servers


class Client:
    """A keep-alive HTTP/1.1 client on one connection, parsing with h11."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.conn = h11.Connection(h11.CLIENT)

    def request(
        self, method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b""
    ) -> tuple[h11.Response, bytes, list[bytes]]:
        """Send one request; return the response, its body and the body's pieces as h11 saw them."""
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        fields = [("Host", "lab"), *(headers or [])]
        if body:
            fields.append(("Content-Length", str(len(body))))
        out = self.conn.send(h11.Request(method=method, target=target, headers=fields))
        if body:
            out += self.conn.send(h11.Data(data=body))
        out += self.conn.send(h11.EndOfMessage())
        self.sock.sendall(out)
        response = None
        pieces: list[bytes] = []
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(65536))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                pieces.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert response is not None
                return response, b"".join(pieces), pieces
            elif isinstance(event, h11.InformationalResponse):
                continue
            else:
                raise AssertionError(f"unexpected {event!r}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client(lab: Lab) -> Iterator[Client]:
    c = Client(lab["http"].port)
    yield c
    c.close()


def header(response: h11.Response, name: str) -> str | None:
    for key, value in response.headers:
        if key.decode().lower() == name.lower():
            return value.decode()
    return None


def raw_exchange(port: int, data: bytes, *, half_close: bool = False) -> bytes:
    """Send *data* as is and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_until_eof(sock)


def test_index_page(client: Client) -> None:
    response, body, _ = client.request("GET", "/index.html")
    assert response.status_code == 200
    assert response.reason == b"OK"
    assert body == HELLO
    assert header(response, "Content-Type") == "text/html; charset=utf-8"
    assert header(response, "Content-Length") == str(len(HELLO))
    assert (header(response, "ETag") or "").startswith('"')
    assert (header(response, "Last-Modified") or "").endswith(" GMT")
    assert header(response, "Server") == "netbench-lab"
    assert (header(response, "Date") or "").endswith(" GMT")


def test_root_serves_the_same_page(client: Client) -> None:
    response, body, _ = client.request("GET", "/")
    assert (response.status_code, body) == (200, HELLO)


def test_keep_alive_serves_many_requests_on_one_connection(client: Client) -> None:
    for target in ("/index.html", "/json", "/index.html", "/nope", "/chunked"):
        response, _, _ = client.request("GET", target)
        assert response.status_code in (200, 404)
    assert client.conn.our_state is h11.DONE  # still open: no Connection: close seen


def test_pipelined_requests_are_answered_in_order(lab: Lab) -> None:
    requests = b"".join(
        f"GET {path} HTTP/1.1\r\nHost: lab\r\n\r\n".encode() for path in ["/index.html", "/nope"] * 20
    )
    last = b"GET /json HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n"
    data = raw_exchange(lab["http"].port, requests + last)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"200", b"404"] * 20 + [b"200"]
    assert data.count(HELLO) == 20


def test_a_pipelining_client_cannot_make_the_server_buffer_while_a_reply_is_pending(lab: Lab) -> None:
    """Flow control: behind /slow the server stops reading, so the client's sending blocks."""
    server = lab["http"]
    pending = b"GET /slow?delay=30 HTTP/1.1\r\nHost: lab\r\n\r\n"
    more = b"GET /json HTTP/1.1\r\nHost: lab\r\n\r\n" * 2000
    # The kernel buffers on the way hold under 1 MiB here (the server's socket buffer does not
    # grow while nobody reads it): a client that pushes 8 MiB found the server reading on.
    ceiling = 8 * 1024 * 1024
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        sock.settimeout(TIMEOUT)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(pending)
        sock.setblocking(False)
        pushed = 0
        while pushed < ceiling:
            _, writable, _ = select.select([], [sock], [], 2.0)
            if not writable:
                break  # the send blocks: nobody reads on the other side
            try:
                pushed += sock.send(more)
            except BlockingIOError:
                continue
        buffered = [len(t.get_protocol().conn.trailing_data[0]) for t in list(server.connections)]
    assert pushed < ceiling, "the server kept reading while its reply was pending"
    assert max(buffered) < 1024 * 1024


def test_a_request_trickled_byte_by_byte(lab: Lab) -> None:
    with socket.create_connection(("127.0.0.1", lab["http"].port), timeout=TIMEOUT) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in b"GET /index.html HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n":
            sock.send(bytes([byte]))
        data = read_until_eof(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(HELLO)


def test_an_upgrade_request_is_answered_normally_and_the_connection_goes_on(lab: Lab) -> None:
    data = raw_exchange(
        lab["http"].port,
        b"GET /index.html HTTP/1.1\r\nHost: lab\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        b"GET /json HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n",
    )
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", data) == [b"200", b"200"]


def test_head_has_the_get_headers_and_no_body(lab: Lab) -> None:
    # The GET pipelined after the HEAD must follow the HEAD's headers directly.
    data = raw_exchange(
        lab["http"].port,
        b"HEAD /index.html HTTP/1.1\r\nHost: lab\r\n\r\n"
        b"GET /json HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n",
    )
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"Content-Length: {len(HELLO)}".encode() in head
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
    assert HELLO not in data


def test_if_none_match_gives_304(client: Client) -> None:
    first, _, _ = client.request("GET", "/index.html")
    etag = header(first, "ETag")
    assert etag
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response, body, _ = client.request("GET", "/index.html", [("If-None-Match", value)])
        assert (response.status_code, body) == (304, b""), value
        assert header(response, "ETag") == etag
    response, body, _ = client.request("GET", "/index.html", [("If-None-Match", '"stale"')])
    assert (response.status_code, body) == (200, HELLO)


def test_if_modified_since_gives_304(client: Client) -> None:
    first, _, _ = client.request("GET", "/index.html")
    last_modified = header(first, "Last-Modified")
    assert last_modified
    response, body, _ = client.request("GET", "/index.html", [("If-Modified-Since", last_modified)])
    assert (response.status_code, body) == (304, b"")
    response, _, _ = client.request("GET", "/", [("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")])
    assert response.status_code == 200


def test_json(client: Client) -> None:
    response, body, _ = client.request("GET", "/json")
    assert response.status_code == 200
    assert header(response, "Content-Type") == "application/json"
    assert json.loads(body)["hello"] == "world"


def test_chunked_sends_several_chunks(lab: Lab, client: Client) -> None:
    response, body, pieces = client.request("GET", "/chunked")
    assert response.status_code == 200
    assert header(response, "Transfer-Encoding") == "chunked"
    assert header(response, "Content-Length") is None
    assert len(pieces) >= 3
    assert body.startswith(b"chunk 1 of 5")
    wire = raw_exchange(lab["http"].port, b"GET /chunked HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    assert wire.endswith(b"\r\n0\r\n\r\n")


def test_slow_waits_then_answers(client: Client) -> None:
    response, body, _ = client.request("GET", "/slow?delay=0.05")
    assert (response.status_code, body) == (200, b"waited 0.05 s\n")
    # the connection goes on after a slow answer
    response, body, _ = client.request("GET", "/index.html")
    assert body == HELLO


@pytest.mark.parametrize("query", ["delay=abc", "delay=-1", "delay=nan", "delay=inf"])
def test_slow_rejects_bad_delays(client: Client, query: str) -> None:
    response, _, _ = client.request("GET", f"/slow?{query}")
    assert response.status_code == 400


def test_slow_caps_the_delay() -> None:
    assert slow("delay=1000").delay == MAX_DELAY
    assert slow("").delay == 1.0
    assert slow("delay=2.5").delay == 2.5


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_echo_returns_the_request(client: Client, method: str) -> None:
    body = b'{"x": 1}' if method not in ("GET", "DELETE") else b""
    response, data, _ = client.request(method, "/echo?q=1", [("X-Custom-Header", "Value 1")], body)
    assert response.status_code == 200
    assert header(response, "Content-Type") == "application/json"
    echoed = json.loads(data)
    assert echoed["method"] == method
    assert echoed["target"] == "/echo?q=1"
    assert echoed["http_version"] == "1.1"
    assert ["X-Custom-Header", "Value 1"] in echoed["headers"]  # original case kept
    assert echoed["body"] == body.decode()


def test_echo_takes_a_chunked_request_body(lab: Lab) -> None:
    data = raw_exchange(
        lab["http"].port,
        b"POST /echo HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    _, _, body = data.partition(b"\r\n\r\n")
    assert json.loads(body)["body"] == "hello world"


def test_echo_gives_a_binary_body_as_hex(client: Client) -> None:
    _, data, _ = client.request("POST", "/echo", body=b"\xff\x00\xfe")
    echoed = json.loads(data)
    assert echoed["body_hex"] == "ff00fe" and "body" not in echoed


def test_unknown_path_is_404(client: Client) -> None:
    response, body, _ = client.request("GET", "/no/such/page")
    assert response.status_code == 404
    assert b"/no/such/page" in body


def test_other_methods_on_a_page_are_405(client: Client) -> None:
    response, _, _ = client.request("POST", "/index.html", body=b"x")
    assert response.status_code == 405
    assert header(response, "Allow") == "GET, HEAD"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /index.html HTTP/1.1\r\nHost lab\r\n\r\n",
        b"GET /index.html HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
        b"GET /index.html HTTP/1.1\r\nHost: lab\r\nContent-Length: x\r\n\r\n",
    ],
)
def test_malformed_requests_get_400_and_close(lab: Lab, request_bytes: bytes) -> None:
    data = raw_exchange(lab["http"].port, request_bytes)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nConnection: close\r\n" in data
    assert b"\r\nServer: netbench-lab\r\n" in data


@pytest.mark.parametrize(
    ("request_bytes", "words"),
    [
        (b"GARBAGE\r\n\r\n", b'bad request: the request line "GARBAGE" is not METHOD /path HTTP/1.1\n'),
        (b"GET /a HTTP/1.1\r\nHost lab\r\n\r\n", b"the header line \"Host lab\" is not 'Name: value'"),
        (
            b"GET /a HTTP/1.1\r\n\r\n",
            b"an HTTP/1.1 request needs a Host header (for example 'Host: localhost')",
        ),
        (b"GET /a\x1b[2J HTTP/1.1\r\n\r\n", b'the request line "GET /a\\x1b[2J HTTP/1.1" is not'),
        (
            b"POST /echo HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b'the chunk size line "zz\\r\\n" is not a size in hexadecimal digits',
        ),
        (b"\x16\x03\x01\x02\x00\x01\r\n\r\n", b"this is a TLS handshake, and this port speaks plain HTTP"),
        (b"\x16\x03\x01\x02\x00\x01\x00", b"the first byte is not the start of a request line"),
    ],
    ids=["request-line", "header-line", "no-host", "escape-in-line", "chunk-size", "tls", "binary"],
)
def test_a_400_says_what_is_wrong_in_words(lab: Lab, request_bytes: bytes, words: bytes) -> None:
    data = raw_exchange(lab["http"].port, request_bytes)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert words in data
    assert b"bytearray" not in data and b"\x1b" not in data


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r\n\r\n"])
def test_http_0_9_get_is_answered_at_once_in_words(lab: Lab, ending: bytes) -> None:
    # No empty line needed: an HTTP/0.9 request is one line; the answer comes and the server closes.
    with socket.create_connection(("127.0.0.1", lab["http"].port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /" + ending)
        data = read_until_eof(sock)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert data.endswith(
        b'"GET /" is an HTTP/0.9 request: a request line with no version, as in the first web of 1991.'
        b" This server speaks HTTP/1.1: send 'GET / HTTP/1.1', then 'Host: localhost', then an empty line.\n"
    )


def test_an_http_0_9_line_after_a_request_is_explained_too(lab: Lab) -> None:
    data = raw_exchange(lab["http"].port, b"GET /json HTTP/1.1\r\nHost: lab\r\n\r\nGET /index.html\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"HTTP/1.1 400 Bad Request\r\n" in data
    assert b'"GET /index.html" is an HTTP/0.9 request' in data


def test_a_400_survives_the_client_sending_more(lab: Lab) -> None:
    # Unread input at close would make the kernel reset the connection.
    data = raw_exchange(lab["http"].port, b"GARBAGE\r\n\r\n" + b"junk" * 50000)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert data.endswith(b"\n") and b"bad request" in data


def test_oversized_headers_get_431(lab: Lab) -> None:
    data = raw_exchange(lab["http"].port, b"GET / HTTP/1.1\r\nHost: lab\r\nX-Big: " + b"a" * 70000)
    assert data.startswith(b"HTTP/1.1 431 ")


def test_oversized_body_gets_413(lab: Lab) -> None:
    size = 2 * 1024 * 1024
    head = f"POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: {size}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", lab["http"].port), timeout=TIMEOUT) as sock:
        sock.sendall(head)
        try:
            sock.sendall(b"x" * size)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading it all
        data = sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 413 ")


def test_a_half_closed_client_still_gets_its_answer(lab: Lab) -> None:
    # nc -N / netbench connect: send the request, shut the write side, read.
    data = raw_exchange(lab["http"].port, b"GET /index.html HTTP/1.1\r\nHost: lab\r\n\r\n", half_close=True)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(HELLO)


def test_http_1_0_gets_an_answer_and_a_close(lab: Lab) -> None:
    data = raw_exchange(lab["http"].port, b"GET /index.html HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(HELLO)


def test_http_1_0_chunked_endpoint_falls_back_to_close_delimited(lab: Lab) -> None:
    data = raw_exchange(lab["http"].port, b"GET /chunked HTTP/1.0\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head
    assert body.startswith(b"chunk 1 of 5")


def test_expect_100_continue(lab: Lab) -> None:
    with socket.create_connection(("127.0.0.1", lab["http"].port), timeout=TIMEOUT) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"hello")
        data = b""
        while b'"body": "hello"' not in data:
            chunk = sock.recv(65536)
            assert chunk
            data += chunk
        assert b"HTTP/1.1 200 OK" in data


def test_absolute_form_targets_are_routed_by_path() -> None:
    reply = route(b"GET", b"http://lab/json", [(b"Host", b"lab")])
    assert reply.status == 200 and b"application/json" in dict(reply.headers)[b"Content-Type"]


# --- pages that remember: /login, /me, /ready-after ---------------------------------


def session_of(response: h11.Response) -> str:
    cookie = header(response, "set-cookie")
    assert cookie is not None
    match = re.fullmatch(r"session=([0-9a-f]{32}); Path=/; HttpOnly; SameSite=Lax", cookie)
    assert match, cookie
    return match.group(1)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/x-www-form-urlencoded", b"user=ann&password=x"), ("application/json", b'{"user": "ann"}')],
    ids=["form", "json"],
)
def test_login_sets_a_session_cookie_that_me_knows(lab: Lab, content_type: str, body: bytes) -> None:
    client = Client(lab["http"].port)
    try:
        response, data, _ = client.request("POST", "/login", [("Content-Type", content_type)], body)
        assert response.status_code == 200
        assert json.loads(data) == {"user": "ann", "logged_in": True}
        token = session_of(response)
        response, data, _ = client.request("GET", "/me", [("Cookie", f"theme=dark; session={token}")])
        assert (response.status_code, json.loads(data)) == (200, {"user": "ann"})
    finally:
        client.close()
    other = Client(lab["http"].port)  # the session is the server's, not the connection's
    try:
        response, data, _ = other.request("GET", "/me", [("Cookie", f"session={token}")])
        assert (response.status_code, json.loads(data)) == (200, {"user": "ann"})
    finally:
        other.close()


@pytest.mark.parametrize(
    ("cookie", "why"),
    [
        (None, b"no session cookie was sent"),
        ("session=0123abcd", b"the session cookie is unknown (or forgotten)"),
    ],
)
def test_me_without_a_known_session_is_401_saying_how_to_log_in(
    client: Client, cookie: str | None, why: bytes
) -> None:
    response, data, _ = client.request("GET", "/me", [("Cookie", cookie)] if cookie else [])
    assert response.status_code == 401
    assert data == b"not logged in: " + why + b"; POST /login with user=NAME, then send its cookie\n"


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [("GET", b"", 405), ("POST", b"", 400), ("POST", b"user=" + b"a" * 65, 400), ("POST", b"{", 400)],
    ids=["get", "no-user", "long-user", "bad-json"],
)
def test_login_needs_post_and_a_user(client: Client, method: str, body: bytes, status: int) -> None:
    response, _, _ = client.request(method, "/login", [], body)
    assert response.status_code == status
    assert header(response, "set-cookie") is None


def test_ready_after_answers_503_until_the_nth_request_per_key(lab: Lab) -> None:
    client = Client(lab["http"].port)
    try:
        statuses = [client.request("GET", "/ready-after?n=3&key=a")[0].status_code for _ in range(4)]
        assert statuses == [503, 503, 200, 200]
        response, data, _ = client.request("GET", "/ready-after?n=3&key=b")  # another key counts apart
        assert (response.status_code, data) == (503, b"not ready yet: request 1 of 3\n")
        assert header(response, "retry-after") == "0"
        response, data, _ = client.request("GET", "/ready-after?n=1&key=c")
        assert (response.status_code, data) == (200, b"ready: request 1, ready from request 1\n")
    finally:
        client.close()
    again = Client(lab["http"].port)  # counted per client address, not per connection
    try:
        assert again.request("GET", "/ready-after?n=3&key=b")[0].status_code == 503
        assert again.request("GET", "/ready-after?n=3&key=b")[0].status_code == 200
    finally:
        again.close()


@pytest.mark.parametrize("query", ["n=0", "n=x", "n=1001", "n=-1"])
def test_ready_after_rejects_a_bad_n(client: Client, query: str) -> None:
    assert client.request("GET", f"/ready-after?{query}")[0].status_code == 400


def test_the_lab_forgets_the_oldest_sessions_past_its_bound() -> None:
    state = accounts.SiteState()
    first = state.log_in("ann")
    for number in range(accounts.MAX_ENTRIES):
        state.log_in(f"user{number}")
    assert state.user(first) is None and len(state.sessions) == accounts.MAX_ENTRIES
    for number in range(accounts.MAX_ENTRIES + 5):
        state.count("127.0.0.1", str(number))
    assert len(state.counters) == accounts.MAX_ENTRIES
