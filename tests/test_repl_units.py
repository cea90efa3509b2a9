"""Sans-IO parts of the REPL: HTTP tracking at every byte split, views, /explain, args, completion."""

from __future__ import annotations

import gzip

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from netbench.core.escape import unescape
from netbench.errors import UsageError
from netbench.repl import explain, view
from netbench.repl.args import expand, headers_and_rest, on_off
from netbench.repl.commands import TABLE
from netbench.repl.completion import ReplCompleter
from netbench.repl.context import PlainPrinter, Repl, Settings
from netbench.repl.httpview import HttpMessage, HttpTracker, Note, RawData, request_method
from netbench.repl.registry import find, unknown
from netbench.repl.sessions import Sessions
from netbench.repl.toolbar import prompt, size, toolbar

RESPONSE = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nETag: "x"\r\n\r\nhello'
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"


def feed_split(tracker: HttpTracker, data: bytes, cut: int) -> list[object]:
    return (
        [*tracker.on_received(data[:cut]), *tracker.on_received(data[cut:])]
        if cut
        else [*tracker.on_received(data)]
    )


@pytest.mark.parametrize("response", [RESPONSE, CHUNKED])
def test_a_response_is_shown_parsed_whatever_the_byte_split(response: bytes) -> None:
    for cut in range(len(response) + 1):
        tracker = HttpTracker()
        tracker.on_sent(b"GET / HTTP/1.1\r\n")
        tracker.on_sent(b"Host: x\r\n\r\n")
        assert tracker.waiting
        shown = [
            item for item in feed_split(tracker, response, cut) if not isinstance(item, RawData) or item.data
        ]
        assert len(shown) == 1, (cut, shown)
        message = shown[0]
        assert isinstance(message, HttpMessage)
        assert message.response.status == 200
        assert message.raw == response
        assert not tracker.waiting


def test_two_pipelined_responses_and_leftover_bytes() -> None:
    tracker = HttpTracker()
    tracker.on_sent(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    tracker.on_sent(b"HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    shown = tracker.on_received(RESPONSE + head + b"extra")
    kinds = [type(item).__name__ for item in shown]
    assert kinds == ["HttpMessage", "HttpMessage", "Note", "RawData"]
    assert shown[1].method == "HEAD"  # type: ignore[union-attr]
    assert [shown[0].raw, shown[1].raw] == [RESPONSE, head]  # type: ignore[union-attr]  # each its own bytes
    assert "5 bytes came after the response that no request asked for" in shown[2].text  # type: ignore[union-attr]
    assert shown[3] == RawData(b"extra")
    assert tracker.out_of_step


def test_without_a_request_line_data_is_raw_at_once() -> None:
    tracker = HttpTracker()
    tracker.on_sent(b"PING\r\n")
    assert tracker.on_received(b"+PONG\r\n") == [RawData(b"+PONG\r\n")]


def test_a_non_http_answer_to_a_request_is_shown_raw_with_a_note() -> None:
    tracker = HttpTracker()
    tracker.on_sent(b"GET / HTTP/1.1\r\n")
    shown = tracker.on_received(b"SSH-2.0-OpenSSH_9.6\r\n")
    assert isinstance(shown[0], Note)
    assert shown[-1] == RawData(b"SSH-2.0-OpenSSH_9.6\r\n")
    assert not tracker.waiting


def test_a_body_until_eof_completes_at_eof_and_a_cut_one_is_shown_raw() -> None:
    tracker = HttpTracker()
    tracker.on_sent(b"GET / HTTP/1.0\r\n\r\n")
    assert tracker.on_received(b"HTTP/1.0 200 OK\r\n\r\nuntil the end") == []
    (message,) = tracker.on_eof()
    assert isinstance(message, HttpMessage) and message.response.body == b"until the end"
    tracker = HttpTracker()
    tracker.on_sent(b"GET / HTTP/1.1\r\n\r\n")
    tracker.on_received(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    note, raw = tracker.on_eof()
    assert isinstance(note, Note) and raw == RawData(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")


def test_give_up_returns_what_arrived() -> None:
    tracker = HttpTracker()
    tracker.on_sent(b"GET / HTTP/1.1\r\n\r\n")
    tracker.on_received(b"HTTP/1.1 200 OK\r\n")
    note, raw = tracker.give_up("quiet")
    assert isinstance(note, Note) and "quiet" in note.text
    assert raw == RawData(b"HTTP/1.1 200 OK\r\n")
    assert tracker.give_up("again") == []


def test_request_method() -> None:
    assert request_method(b"GET /x HTTP/1.1\r\n") == "GET"
    assert request_method(b"M-SEARCH * HTTP/1.1\r\n") == "M-SEARCH"
    assert request_method(b"get /x HTTP/1.1\r\n") is None
    assert request_method(b"GET /x\r\n") is None


def test_views_escape_terminal_controls_and_mark_direction() -> None:
    evil = b"\x1b]0;title\x07\x1b[2Jhi\r\n"
    text = view.plain(view.received(evil))
    assert "\x1b" not in text and "\x07" not in text
    assert text == "<- \\x1b]0;title\\x07\\x1b[2Jhi\n"
    assert unescape(text[3:-1]) + b"\r\n" == evil
    assert view.plain(view.sent(b"GET / HTTP/1.1\r\nHost: x\r\n")) == (
        "-> GET / HTTP/1.1\\r\\n\n-> Host: x\\r\\n\n"
    )
    binary = bytes(range(256))
    dump = view.plain(view.received(binary, offset=16))
    assert dump.startswith("<- 00000010 ") and "\x1b" not in dump and "\x9b" not in dump
    assert view.plain(view.received(b"AB", hex_mode=True)).startswith("<- 00000000  41 42")
    assert view.plain(view.received(b"x", stamp="12:00:00.000")).startswith("12:00:00.000 <- x")


def test_response_view_is_safe_and_parsed() -> None:
    from netbench.core.http import parse_response

    data = b"HTTP/1.1 200 OK\r\nX-Evil: \x1b[31m\r\nContent-Encoding: gzip\r\nContent-Length: "
    body = gzip.compress(b"hello \x1b[2J world")
    data += str(len(body)).encode() + b"\r\n\r\n" + body
    text = view.plain(view.response(parse_response(data), raw=True))
    assert text.startswith("<- HTTP/1.1 200 OK\n")
    assert "hello" in text and "world" in text
    assert "\x1b" not in text


def test_explain_table() -> None:
    assert explain.status(404).startswith("404 Not Found:") and "RFC 9110 §15.5.5" in explain.status(404)
    assert "class 2xx" in explain.status(299) and "class 4xx" in explain.status(499)
    assert "not a valid" in explain.status(42)
    assert "RFC 9111 §5.2" in (explain.header("cache-control") or "")
    assert explain.header("X-Unknown-Thing") is None
    lines = explain.explain(304, [("ETag", "x"), ("etag", "y"), ("X-Mine", "1")])
    assert lines[0].startswith("304 Not Modified")
    assert sum("ETag:" in line for line in lines) == 1
    assert lines[-1].endswith("X-Mine")
    for code, entry in explain.table()["statuses"].items():
        assert 100 <= int(code) <= 599 and len(entry) == 3 and entry[2].startswith(("RFC", "WHATWG"))
    for name, entry in explain.table()["headers"].items():
        assert name == entry[0].lower() and len(entry) == 3


def make_repl() -> Repl:
    import io

    settings = Settings()
    printer = PlainPrinter(io.StringIO())
    return Repl(
        printer=printer, settings=settings, sessions=Sessions(printer, settings), environ={"HOME": "/h"}
    )


def test_args_helpers() -> None:
    repl = make_repl()
    repl.variables["path"] = "/index.html"
    assert expand(repl, "GET ${path} ${env:HOME}") == "GET /index.html /h"
    with pytest.raises(UsageError, match=r"undefined variable \$\{nope\}"):
        expand(repl, "${nope}")
    assert on_off("ON", "hex") is True and on_off("off", "hex") is False
    with pytest.raises(UsageError):
        on_off("maybe", "hex")
    headers, rest = headers_and_rest(["/x", "Host:", "localhost:8080", "Accept: text/html", "X-A:", "b", "c"])
    assert rest == ["/x"]
    assert headers == [("Host", "localhost:8080"), ("Accept", "text/html"), ("X-A", "b c")]


def test_command_table_and_prefixes() -> None:
    names = "open close sessions use send eol get http wait hex raw set vars save lab ports scan services"
    for name in [*names.split(), "explain", "help", "quit"]:
        assert name in TABLE and TABLE[name].summary, name
    assert find("q") is TABLE["quit"] and find("exit") is TABLE["quit"]
    assert find("sess") is TABLE["sessions"]
    assert find("s") is None  # ambiguous
    assert find("r") is None and find("ra") is TABLE["raw"] and find("res") is TABLE["resp"]
    assert unknown("r") == "ambiguous command /r: /raw, /resp"  # both named, neither run


def completions(text: str, repl: Repl | None = None) -> list[str]:
    completer = ReplCompleter(repl or make_repl())
    return [
        c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    ]


def test_completion() -> None:
    assert "/sessions" in completions("/ses")
    assert completions("/eol c") == ["crlf"]
    assert completions("/http P") == ["POST ", "PUT ", "PATCH "]
    assert "Content-Type: " in completions("/get /x Content-T")
    assert "Host: " in completions("Ho")
    assert "GET " in completions("G")
    assert completions("GET / HT") == ["HTTP/1.1", "HTTP/1.0"]
    assert completions("/help exp") == ["explain"]


def test_prompt_and_toolbar_without_a_session() -> None:
    repl = make_repl()
    assert view.plain(prompt(repl)) == "netbench> "
    assert "no session" in view.plain(toolbar(repl))
    assert size(512) == "512 B" and size(2048) == "2.0 KiB"


def test_a_bug_in_a_command_is_reported_and_debug_shows_the_traceback() -> None:
    import asyncio
    import io

    from netbench.repl.commands import run_line
    from netbench.repl.registry import command

    @command("boom-test", "", "raises")
    async def _boom(repl: Repl, rest: str) -> None:
        raise ZeroDivisionError("kaboom")

    try:
        for debug in (False, True):
            out = io.StringIO()
            repl = make_repl()
            repl.printer = PlainPrinter(out)
            repl.debug = debug
            asyncio.run(run_line(repl, "/boom-test"))
            text = out.getvalue()
            assert "internal error in this command: ZeroDivisionError: kaboom" in text
            assert ("Traceback (most recent call last)" in text) is debug
            assert "--debug" in text or debug
    finally:
        TABLE.pop("boom-test", None)


def test_toolbar_shows_connecting_and_a_running_command() -> None:
    repl = make_repl()
    repl.sessions.connecting = "tcp://127.0.0.1:9"
    repl.busy = "/wait PONG 30"
    bar = view.plain(toolbar(repl))
    assert "connecting to tcp://127.0.0.1:9" in bar
    assert "running /wait PONG 30 (Ctrl-C stops it)" in bar


def test_input_highlighting() -> None:
    from netbench.repl.commands import TABLE as _loaded  # noqa: F401  (fills the command table)
    from netbench.repl.lexer import style_line

    assert style_line("/get ${p}") == [
        ("class:input.command", "/get "),
        ("class:input.variable", "${p}"),
    ]
    assert style_line("/nope x")[0] == ("class:input.unknown", "/nope ")
    assert style_line("/save! x")[0] == ("class:input.command", "/save! ")  # /save! replaces a file
    assert style_line("/open! x")[0] == ("class:input.unknown", "/open! ")
    assert style_line("Host: x")[0] == ("class:input.header", "Host:")
    assert "".join(text for _s, text in style_line("GET / HTTP/1.1")) == "GET / HTTP/1.1"


def test_readme_names_every_repl_command() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    listed = readme.split("Commands start with `/`:", 1)[1].split("See `docs/repl.md`", 1)[0]
    missing = [name for name in TABLE if f"`/{name}`" not in listed and f"`/{name} " not in listed]
    assert not missing, f"README's REPL command list lacks {missing}"
