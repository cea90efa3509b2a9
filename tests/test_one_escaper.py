"""One escaper: the same peer or file bytes are spelled the same way wherever they reach a terminal.

The REPL's raw and parsed views, ``http``'s output, replay's failure reports
and ``serve``'s mismatch messages all go through :mod:`netbench.core.escape`;
each sample below must come out as ``escape(sample)`` (one line) in every one.
"""

from __future__ import annotations

import socket

import pytest

from netbench.core.escape import escape, is_text, quote
from netbench.core.http import ResponseParser
from netbench.core.render import render_response
from netbench.recipe import report
from netbench.recipe.load import load_recipe
from netbench.recipe.serve import MockServer
from netbench.repl import view

SAMPLES = [
    b"hello \x1b[2J world \x1b]0;owned\x07",  # CSI and OSC sequences
    b"caf\xc3\xa9 and NEL \xc2\x85 and CSI \xc2\x9b",  # C1 controls as characters
    b"left \xe2\x80\xae right \xe2\x81\xa6 isolate \xe2\x80\x8b zero width",  # bidi, invisible
    b"bom \xef\xbb\xbf back\\slash over\rwrite del\x7f sep\xe2\x80\xa8 x",
]


def _response(body: bytes):  # type: ignore[no-untyped-def]
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    response = ResponseParser("GET").feed(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert response is not None
    return response


CALLERS = {
    "repl raw view": lambda data: view.plain(view.received(data)),
    "repl http view": lambda data: view.plain(view.response(_response(data))),
    "http output": lambda data: render_response(_response(data), color=False),
    "replay report": lambda data: "\n".join(report.compare(None, data)),
}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("data", SAMPLES)
def test_the_same_bytes_are_spelled_the_same_way_by_every_caller(caller: str, data: bytes) -> None:
    assert is_text(data)
    shown = CALLERS[caller](data)
    assert escape(data, keep_newlines=False, keep_tabs=False) in shown
    assert not any(ord(ch) < 0x20 and ch != "\n" for ch in shown)
    assert not any(0x7F <= ord(ch) < 0xA0 or ch in "\u202e\u2066\u200b\ufeff\u2028" for ch in shown)


@pytest.mark.parametrize("data", SAMPLES)
def test_serve_mismatch_messages_quote_the_same_way(data: bytes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    served = tmp_path / "served.recipe.yaml"
    expected = "x" * len(data)  # as long as the sample, so that the server reads all of it
    served.write_text(f'netbench: 1\nsteps:\n  - send: "{expected}"\n    reply: "ok"\n')
    server = MockServer(load_recipe(served), keep=True)
    with server.in_thread() as address:
        host, port = address.rsplit(":", 1)
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as client:
            client.sendall(data)
            client.shutdown(socket.SHUT_WR)
            client.settimeout(5)
            while client.recv(4096):
                pass
    assert server.mismatches, "the server saw no mismatch"
    assert quote(data) in server.mismatches[0]


# -- hostile peers: bidi and invisible characters never reach a terminal raw -------------------------

HIDDEN = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u200e\u200f\u2028\u2029\ufeff"
)
EVIL = ("user: admin" + "".join(f" {c}x" for c in HIDDEN) + " \x1b[2J\u0085 end\n").encode()


def _assert_terminal_safe(text: str) -> None:
    for char in HIDDEN + "\x1b\x85":
        assert char not in text, f"{char!r} reached the terminal raw"
    for char in HIDDEN:
        assert f"\\u{ord(char):04x}" in text


def test_connect_escapes_bidi_and_invisible_characters_on_a_terminal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io

    from netbench.cli import main
    from netbench.environment import Environment
    from tests.hostile.server import CLOSE, HostileServer

    out_path = tmp_path / "out"
    with HostileServer([EVIL, CLOSE], read_request=False) as server:
        for tty in (True, False):
            err = io.StringIO()
            with open(tmp_path / "in", "w+") as stdin, open(out_path, "w") as stdout:
                env = Environment(
                    stdin=stdin,
                    stdout=stdout,
                    stderr=err,
                    stdin_isatty=False,
                    stdout_isatty=tty,
                    stderr_isatty=tty,
                    environ={"NO_COLOR": "1"},
                )  # connect needs real file descriptors: run_main's StringIO will not do
                status = main(["connect", "127.0.0.1", str(server.port), "-w", "5"], env)
            assert status == 0, err.getvalue()
            shown = out_path.read_bytes()
            if tty:
                _assert_terminal_safe(shown.decode("utf-8"))
            else:
                assert shown == EVIL  # to a pipe or a file: byte for byte


def test_http_escapes_bidi_and_invisible_characters_on_a_terminal() -> None:
    from tests.hostile.server import CLOSE, HostileServer
    from tests.support.cli import run_main

    reason = "OK \u202eevil\u2066".encode()
    header = b"X-Note: " + "\u202etxt.exe\u200b".encode()
    answer = (
        b"HTTP/1.1 200 " + reason + b"\r\n" + header + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: %d\r\n\r\n" % len(EVIL) + EVIL
    )
    with HostileServer([answer, CLOSE]) as server:
        status, out, err = run_main(
            ["http", "-w", "5", server.url + "/"], tty=True, environ={"NO_COLOR": "1"}
        )
    assert status == 0, err
    _assert_terminal_safe(out)
    assert "\\u202eevil\\u2066" in out + err and "\\u202etxt.exe\\u200b" in out + err
    assert not any(char in err for char in HIDDEN)


def test_connect_escapes_a_hostile_certificate_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The peer's certificate names reach stderr through the escaper (``connect --tls -v``)."""
    import io
    import ssl

    trustme = pytest.importorskip("trustme")
    from netbench.cli import main
    from netbench.environment import Environment
    from tests.test_tls import TLSEchoServer

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    server = TLSEchoServer(ca)
    cert = ca.issue_cert("localhost", "127.0.0.1", common_name="evil\x1b[2J\u202eCN")
    server.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server.context)
    err = io.StringIO()
    try:
        with open(tmp_path / "in", "w+") as stdin, open(tmp_path / "out", "w") as stdout:
            stdin.write("hi\n")
            stdin.seek(0)
            env = Environment(
                stdin=stdin,
                stdout=stdout,
                stderr=err,
                stdin_isatty=False,
                stdout_isatty=True,
                stderr_isatty=True,
                environ={"NO_COLOR": "1"},
            )
            tls = ["--tls", "--cafile", str(tmp_path / "ca.pem"), "-v"]
            main(["connect", *tls, "127.0.0.1", str(server.port), "-w", "5"], env)
    finally:
        server.close()
    shown = err.getvalue()
    assert "certificate: evil\\x1b[2J\\u202eCN" in shown, shown
    assert "\x1b" not in shown and "\u202e" not in shown
