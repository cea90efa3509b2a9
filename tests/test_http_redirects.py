"""`netbench http --follow`: what a redirect keeps, against real servers on two loopback ports.

Two ports are two origins. Credentials given with -H (Authorization,
Cookie, Proxy-Authorization) go to the same origin only, as with curl -L;
a 301/302 after POST and a 303 become a GET without a body (RFC 9110 15.4).
"""

from __future__ import annotations

import pytest

from netbench.errors import ProtocolError
from netbench.net.redirect import Request, follow, origin
from tests.hostile.keepalive import ScriptServer, Seen, ok
from tests.test_http_hostile import run_http

SECRETS = [
    "-H",
    "Authorization: Bearer s3cret",
    "-H",
    "Cookie: session=abc",
    "-H",
    "Proxy-Authorization: Basic eHg=",
    "-H",
    "X-Trace: kept",
]


def redirect(status: int, location: str) -> bytes:
    return b"HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % (status, location.encode())


def landing(seen: Seen) -> list[bytes]:
    return [ok(b"landed")]


def test_a_redirect_to_another_port_drops_the_credentials_and_says_so():
    with ScriptServer(landing) as other:
        with ScriptServer(lambda seen: [redirect(302, other.url + "/landing")]) as first:
            status, out, err = run_http("--follow", *SECRETS, first.url + "/start", tty=False)
        assert status == 0 and out == b"landed"
        assert first.requests[0].header("Authorization") == "Bearer s3cret"
        arrived = other.requests[0]
        assert arrived.target == "/landing"
        for name in ("Authorization", "Cookie", "Proxy-Authorization"):
            assert arrived.header(name) is None
        assert arrived.header("X-Trace") == "kept"
    notes = [line for line in err.splitlines() if "not sent" in line]
    assert notes == [
        f"netbench: redirect to another origin (http://127.0.0.1:{other.port}): "
        "Authorization, Cookie, Proxy-Authorization not sent"
    ]


def test_a_same_origin_redirect_keeps_the_credentials_and_says_nothing():
    def answer(seen: Seen) -> list[bytes]:
        return [redirect(301, "/landing")] if seen.target == "/start" else [ok(b"landed")]

    with ScriptServer(answer) as server:
        status, out, err = run_http("--follow", *SECRETS, server.url + "/start", tty=False)
        assert status == 0 and out == b"landed"
        second = server.requests[1]
    assert second.target == "/landing"
    assert second.header("Authorization") == "Bearer s3cret"
    assert second.header("Cookie") == "session=abc"
    assert "not sent" not in err


def test_a_redirect_back_from_another_origin_does_not_bring_the_credentials_back():
    with ScriptServer(landing) as home:
        with ScriptServer(lambda seen: [redirect(302, home.url + "/back")]) as away:
            with ScriptServer(lambda seen: [redirect(302, away.url + "/")]) as start:
                status, _out, _err = run_http("--follow", *SECRETS, start.url + "/", tty=False)
            assert status == 0
        assert home.requests[0].header("Authorization") is None


@pytest.mark.parametrize("code", [301, 302, 303])
def test_post_becomes_a_get_without_a_body(code: int):
    def answer(seen: Seen) -> list[bytes]:
        return [redirect(code, "/done")] if seen.target == "/form" else [ok(seen.method.encode())]

    with ScriptServer(answer) as server:
        status, out, _err = run_http(
            "--follow",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"a": 1}',
            server.url + "/form",
            tty=False,
        )
        second = server.requests[1]
    assert status == 0 and out == b"GET"
    assert second.method == "GET" and second.body == b""
    assert second.header("Content-Type") is None and second.header("Content-Length") is None


@pytest.mark.parametrize("code", [307, 308])
def test_307_and_308_send_the_same_method_and_body_again(code: int):
    def answer(seen: Seen) -> list[bytes]:
        return [redirect(code, "/done")] if seen.target == "/f" else [ok(seen.method.encode() + seen.body)]

    with ScriptServer(answer) as server:
        status, out, _err = run_http(
            "--follow", "-X", "PUT", "-d", "payload", server.url + "/form", tty=False
        )
    assert status == 0 and out == b"PUTpayload"


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("ftp://127.0.0.1/file", "not http(s)"),
        ("http://127.0.0.1:99999/", "invalid URL"),
        ("/a\x1b[2Jb", "invalid URL: /a\\x1b[2Jb"),
    ],
)
def test_a_location_that_is_no_usable_url_is_a_protocol_error(location: str, words: str):
    with ScriptServer(lambda seen: [redirect(302, location)]) as server:
        status, _out, err = run_http("--follow", server.url + "/", tty=False)
    assert status == 6, err
    assert words in err.splitlines()[-1] and "\x1b" not in err


def test_origin_is_scheme_host_and_port():
    assert origin("http://LocalHost/a") == origin("localhost:80/b") == ("http", "localhost", 80)
    assert origin("https://127.0.0.1/") == ("https", "127.0.0.1", 443)
    assert origin("http://[::1]:8080/") == ("http", "::1", 8080)


@pytest.mark.parametrize(
    ("location", "dropped"),
    [
        ("https://127.0.0.1:8080/x", True),  # scheme
        ("http://localhost:8080/x", True),  # host
        ("http://127.0.0.1:8081/x", True),  # port
        ("http://127.0.0.1:8080/x", False),
        ("/x", False),
        ("//127.0.0.1:8080/x", False),
    ],
)
def test_follow_drops_credentials_on_any_change_of_origin(location: str, dropped: bool):
    request = Request(
        "http://127.0.0.1:8080/", "GET", (("Authorization", "a"), ("Host", "h"), ("Accept", "*/*"))
    )
    after = follow(request, 302, location)
    names = [name for name, _ in after.request.headers]
    assert ("Authorization" in names) is not dropped and ("Host" in names) is not dropped
    assert after.dropped == (("Authorization", "Host") if dropped else ())
    assert "Accept" in names


def test_head_stays_head_after_a_303_and_spaces_in_a_location_are_encoded():
    after = follow(Request("http://127.0.0.1/", "HEAD", ()), 303, "/a b/é")
    assert after.request.method == "HEAD"
    assert after.request.url == "http://127.0.0.1/a%20b/%E9"
    with pytest.raises(ProtocolError):
        follow(Request("http://127.0.0.1/", "GET", ()), 302, "https:///nohost")
