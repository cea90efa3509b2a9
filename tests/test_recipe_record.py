"""Recording: a real session becomes a recipe that replays green; secrets never written."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from netbench import replay
from netbench.core.address import Target, parse_target
from netbench.core.transcript import Eof, Received, Sent, Transcript
from netbench.lab import running
from netbench.net.session import open_session
from netbench.recipe.load import load_recipe
from netbench.recipe.record import record, save
from tests.support.peers import Nginx, free_port, require_binary, wait_for_port

TOKEN = "tok-0123456789abcdef"
COOKIE = "sid=cafebabe42deadbeef"


async def converse(target: Target, *messages: bytes, half_close: bool = False) -> Transcript:
    """Send each message (a list of pieces sent back to back) and take what comes back."""
    session = await open_session(target, timeout=5)
    for message in messages:
        for piece in message.split(b"|"):
            await session.send(piece)
        await asyncio.sleep(0.15)
        await session.receive_some(5)
    if half_close:
        await session.send_eof()
        await session.receive_until_eof(5)
    await session.close()
    return session.transcript


def test_recorded_lab_session_replays_green(tmp_path: Path) -> None:
    with running("http", "echo") as lab:
        http = asyncio.run(
            converse(
                lab["http"].target,
                b"GET /index.html HTTP/1.1\r\n|Host: localhost\r\n|\r\n",
                b"GET /json HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                + TOKEN.encode()
                + b"\r\n\r\n",
            )
        )
        echo = asyncio.run(converse(lab["echo"].target, b"hello|, world\r\n", b"bye\n", half_close=True))
        recorded = record(http, lab["http"].target, name="lab http")
        assert [step.expect.status for step in recorded.recipe.steps if step.expect] == [200, 200]
        assert recorded.secrets == ("AUTHORIZATION",)
        assert "NETBENCH_SECRET_AUTHORIZATION" in recorded.notice()
        path = tmp_path / "http.recipe.yaml"
        save(recorded, path)
        text = path.read_text()
        assert TOKEN not in text and "${secret:AUTHORIZATION}" in text
        assert "Date" not in text.split("reply")[0]  # volatile headers stay out of expect
        result = replay(path, environ={"NETBENCH_SECRET_AUTHORIZATION": TOKEN})
        assert result.ok, result.report()

        echo_recipe = record(echo, lab["echo"].target, name="lab echo").recipe
        assert echo_recipe.steps[0].send == b"hello, world\r\n"  # consecutive sends merged
        assert [step.action for step in echo_recipe.steps] == ["send", "send", "close", "expect"]
        save(echo_recipe, tmp_path / "echo.recipe.yaml")
        assert replay(tmp_path / "echo.recipe.yaml").ok


def test_recorded_nginx_session_replays_green_and_a_changed_server_fails_readably(
    tmp_path: Path, nginx: Nginx
) -> None:
    target = parse_target(f"127.0.0.1:{nginx.port}")
    transcript = asyncio.run(converse(target, b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"))
    path = tmp_path / "nginx.recipe.yaml"
    save(record(transcript, target, name="nginx index"), path)
    assert "nginx/" not in path.read_text().split("reply")[0]  # the Server version is not expected
    assert replay(path).ok
    with running("http") as lab:  # another server: same page, other Content-Type
        changed = replay(path, target=lab["http"].address)
    assert changed.status == 1
    report = changed.report()
    assert f"{path}:" in report and "step 1 of 1 failed" in report
    assert 'header Content-Type: expected equal to "text/html", received "text/html; charset=utf-8"' in report


def test_changed_raw_server_fails_with_a_diff(tmp_path: Path) -> None:
    socat = require_binary("socat")
    with running("echo") as lab:
        transcript = asyncio.run(converse(lab["echo"].target, b"hello\n"))
    path = tmp_path / "echo.recipe.yaml"
    save(record(transcript, lab["echo"].target), path)
    port = free_port()
    listen = f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"
    server = subprocess.Popen([socat, listen, "EXEC:sed -u s/e/a/"])  # a changed echo
    try:
        wait_for_port(port)
        result = replay(path, target=f"127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(5)
    assert result.status == 1
    assert "-hello" in result.report() and "+hallo" in result.report()


def test_secrets_in_headers_are_never_written(tmp_path: Path) -> None:
    transcript = Transcript()
    request = (
        b"GET /private HTTP/1.1\r\nHost: x\r\nCookie: " + COOKIE.encode() + b"\r\n"
        b"X-Api-Key: k3y-9f8e7d6c5b\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n"
    )
    body = b'{"echo": "' + COOKIE.encode() + b'"}'
    response = (
        b"HTTP/1.1 200 OK\r\nSet-Cookie: session=feedface99887766; HttpOnly\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    for event in (Sent(0.0, request), Received(0.1, response), Eof(0.2)):
        transcript.append(event)
    result = record(transcript, "tcp://127.0.0.1:8080", name="secrets")
    assert set(result.secrets) == {"COOKIE", "X_API_KEY", "PROXY_AUTHORIZATION", "SET_COOKIE"}
    path = tmp_path / "secrets.recipe.yaml"
    save(result, path)
    written = path.read_bytes()
    for secret in (COOKIE, "k3y-9f8e7d6c5b", "dXNlcjpwYXNz", "session=feedface99887766"):
        assert secret.encode() not in written
    recipe = load_recipe(path)
    assert recipe.steps[0].expect is not None and recipe.steps[0].expect.closed
    assert b"${secret:COOKIE}" in (recipe.steps[0].reply or b"")  # reflected values too


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (b"220 mail.example ESMTP ready\r\n", "regex"),
        (b"+OK ready\r\n", "line"),
        (b"\x00\xff\x10", "exact"),
    ],
)
def test_banner_expectations_are_stable(answer: bytes, kind: str) -> None:
    transcript = Transcript()
    transcript.append(Received(0.0, answer))
    step = record(transcript, "tcp://127.0.0.1:25").recipe.steps[0]
    assert step.send is None and step.reply == answer
    assert step.expect is not None and step.expect.raw_kind == kind


def test_udp_datagrams_are_never_merged(tmp_path: Path) -> None:
    with running("echo") as lab:
        target = lab["echo"].target.with_transport("udp")
        transcript = asyncio.run(converse(target, b"one|two", b"three"))
        recipe = record(transcript, target, name="udp").recipe
        # converse() reads one datagram per message: "two" is read after "three" went out
        assert [(step.send, step.expect and step.expect.exact) for step in recipe.steps] == [
            (b"one", None),
            (b"two", b"one"),
            (b"three", b"two"),
        ]
        path = tmp_path / "udp.recipe.yaml"
        save(recipe, path)
        assert replay(path).ok


def test_secret_query_parameters_and_json_fields_are_never_written(tmp_path: Path) -> None:
    """Issue 11 item 11: password/token/api_key in a query or a JSON body get ${secret:NAME}."""
    body = b'{"user": "ann", "password": "hunter2-long", "pin": {"api_key": "k1"}}'
    request = (
        b"POST /login?user=ann&access_token=AT-5566778899&apikey=x9 HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    form = b"user=ann&passwd=pw&secret=s3cr3t-value"
    with running("echo") as lab:  # the echo server answers with the same bytes: reflected secrets too
        transcript = asyncio.run(converse(lab["echo"].target, request, form + b"\n"))
        result = record(transcript, lab["echo"].target, name="secret fields")
        path = tmp_path / "fields.recipe.yaml"
        save(result, path)
        written = path.read_text()
        for secret in ("hunter2-long", "AT-5566778899", "x9", "k1", "pw&", "s3cr3t-value"):
            assert secret not in written, secret
        assert set(result.secrets) == {"PASSWORD", "ACCESS_TOKEN", "APIKEY", "API_KEY", "PASSWD", "SECRET"}
        sent = load_recipe(path).steps[0].send or b""
        assert b"user=ann" in sent and b'"user": "ann"' in sent  # other fields stay readable
        environ = {
            "NETBENCH_SECRET_PASSWORD": "hunter2-long",
            "NETBENCH_SECRET_ACCESS_TOKEN": "AT-5566778899",
            "NETBENCH_SECRET_APIKEY": "x9",
            "NETBENCH_SECRET_API_KEY": "k1",
            "NETBENCH_SECRET_PASSWD": "pw",
            "NETBENCH_SECRET_SECRET": "s3cr3t-value",
        }
        replayed = replay(path, environ=environ)
        assert replayed.ok, replayed.report()
        assert "hunter2-long" not in replayed.report()


def test_a_cookie_the_server_set_is_captured_not_made_a_secret(tmp_path: Path) -> None:
    """Issue 13: a Cookie header an earlier Set-Cookie explains becomes a cookie capture and a variable."""
    with running("http") as lab:
        target = lab["http"].target

        async def log_in_then_me() -> Transcript:
            session = await open_session(target, timeout=5)
            await session.send(b"POST /login HTTP/1.1\r\nHost: lab\r\nContent-Length: 8\r\n\r\nuser=ann")
            answer = await session.receive_some(5)
            token = answer.split(b"session=", 1)[1].split(b";", 1)[0]
            await session.send(b"GET /me HTTP/1.1\r\nHost: lab\r\nCookie: session=" + token + b"\r\n\r\n")
            await asyncio.sleep(0.15)
            await session.receive_some(5)
            await session.close()
            return session.transcript

        recorded = record(asyncio.run(log_in_then_me()), target, name="login")
        login, me = recorded.recipe.steps
        assert [(c.name, c.kind, c.arg) for c in login.capture] == [("cookie_session", "cookie", "session")]
        assert me.send is not None and b"Cookie: session=${cookie_session}\r\n" in me.send
        assert "COOKIE" not in recorded.secrets
        path = tmp_path / "login.recipe.yaml"
        save(recorded, path)
        result = replay(path)  # a new session token this time: the capture carries it
        assert result.ok, result.report()


def test_a_cookie_the_server_did_not_set_stays_a_secret() -> None:
    transcript = Transcript()
    ok = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 0\r\n\r\n"
    for event in (
        Sent(0.0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Received(0.1, ok),
        Sent(0.2, b"GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; b=mine-0123456\r\n\r\n"),
        Received(0.3, ok),
    ):
        transcript.append(event)
    recorded = record(transcript, "tcp://127.0.0.1:1")
    assert "COOKIE" in recorded.secrets and not recorded.recipe.steps[0].capture
    assert b"mine-0123456" not in (recorded.recipe.steps[1].send or b"")
