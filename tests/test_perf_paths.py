"""The shortcuts taken on the per-request path give exactly what the general path gives.

Each test pits a fast path (validated request headers reused on a keep-alive
connection, the head-size check skipped when the bytes received bound it,
header lines rendered without escaping when all are plain) against the
general code it stands for.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from netbench.core.escape import escape
from netbench.core.http import HttpConnection, ResponseParser, build_request, parse_response
from netbench.core.render import render_head
from netbench.errors import ProtocolError, UsageError
from netbench.net.resolve import host_argument
from tests.pipe_helpers import ENV

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

# (method, target, headers, body, host, chunked): one keep-alive connection in this order.
SEQUENCE = [
    ("GET", "/a", [("User-Agent", "nb"), ("Accept", "*/*")], None, "h:1", False),
    ("GET", "/b?x=1", [("User-Agent", "nb"), ("Accept", "*/*")], None, "h:1", False),
    ("HEAD", "/c", [("User-Agent", "nb"), ("Accept", "*/*")], None, "h:1", False),
    ("GET", "/d", [("User-Agent", "nb"), ("Accept", "*/*")], None, "other:2", False),
    ("GET", "/e", [("User-Agent", "nb"), ("Accept", "text/html")], None, "other:2", False),
    ("POST", "/f", [("User-Agent", "nb"), ("Accept", "text/html")], b"abc", "other:2", False),
    ("POST", "/g", [("User-Agent", "nb"), ("Accept", "text/html")], b"abcdef", "other:2", False),
    ("PUT", "/h", [("User-Agent", "nb"), ("Accept", "text/html")], b"xy", "other:2", True),
    ("GET", "/i", [("User-Agent", "nb"), ("Accept", "text/html")], None, "other:2", False),
    ("GET", "/j", (("Host", "mine"), ("Accept", "text/html")), None, "other:2", False),
    ("GET", "/k", [(b"Host", b"mine"), (b"Accept", b"text/html")], None, "other:2", False),
]


def _answer(connection: HttpConnection) -> None:
    assert connection.parser().feed(OK) is not None


def test_requests_on_one_connection_match_fresh_builds():
    connection = HttpConnection()
    for method, target, headers, body, host, chunked in SEQUENCE:
        sent = connection.request(method, target, headers, body, host=host, chunked=chunked)
        assert sent == build_request(method, target, headers, body, host=host, chunked=chunked)
        _answer(connection)


def test_a_header_iterator_is_read_once_and_still_remembered():
    connection = HttpConnection()
    for target in ("/1", "/2"):
        sent = connection.request("GET", target, iter([("Accept", "*/*")]), host="h")
        assert sent == build_request("GET", target, [("Accept", "*/*")], host="h")
        _answer(connection)


def test_an_invalid_method_or_target_is_refused_with_remembered_headers():
    connection = HttpConnection()
    headers = [("Accept", "*/*")]
    connection.request("GET", "/", headers, host="h")
    _answer(connection)
    with pytest.raises(UsageError, match="invalid request"):
        connection.request("GET", "/a b", headers, host="h")
    fresh = HttpConnection()
    fresh.request("GET", "/", headers, host="h")
    _answer(fresh)
    with pytest.raises(UsageError, match="invalid request"):
        fresh.request("GE T", "/", headers, host="h")


def test_an_invalid_header_is_refused_every_time():
    connection = HttpConnection()
    for _ in range(2):
        with pytest.raises(UsageError, match="invalid request"):
            connection.request("GET", "/", [("Bad Name", "x")], host="h")


def _head_size(wire: bytes) -> int:
    """The size the parser counts: name + value + 4 for each header (its documented rule)."""
    return sum(len(name) + len(value) + 4 for name, value in parse_response(wire).headers)


@pytest.mark.parametrize(
    "wire",
    [
        b"HTTP/1.1 200 OK\r\nX-Tight:" + b"v" * 200 + b"\r\nY:z\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nX-Loose:    " + b"v" * 200 + b"   \r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"A:b\r\n" * 40 + b"Content-Length:0\r\n\r\n",
    ],
)
@pytest.mark.parametrize("pieces", [1, 7])
def test_the_head_size_limit_holds_at_its_boundary(wire, pieces):
    size = _head_size(wire)
    for limit in range(size - 3, size + 45):
        parser = ResponseParser("GET", max_header_size=limit)
        if limit >= size:
            chunks = [wire] if pieces == 1 else [wire[i : i + pieces] for i in range(0, len(wire), pieces)]
            try:
                for chunk in chunks:
                    parser.feed(chunk)
            except ProtocolError as error:
                # h11's own limit on an incomplete head (fed in pieces) may stop it first,
                # but never the head-size check for a head within the limit.
                assert "response head too big" not in str(error)
            else:
                assert parser.response is not None
        else:
            with pytest.raises(ProtocolError, match="response head too big"):
                parser.feed(wire)


def test_plain_headers_render_as_they_are_and_others_escaped():
    plain = parse_response(b'HTTP/1.1 200 OK\r\nServer: nginx\r\nETag: "a-1"\r\nContent-Length: 0\r\n\r\n')
    assert render_head(plain) == 'HTTP/1.1 200 OK\nServer: nginx\nETag: "a-1"\nContent-Length: 0'
    mixed = parse_response(b"HTTP/1.1 200 OK\r\nServer: nginx\r\nX-Path: C:\\dir\r\nX-T: a\tb\xff\r\n\r\n")
    lines = render_head(mixed).split("\n")
    assert lines[1] == "Server: nginx"
    assert lines[2] == "X-Path: " + escape(b"C:\\dir", keep_newlines=False, keep_tabs=False)
    assert lines[3] == "X-T: " + escape(b"a\tb\xff", keep_newlines=False, keep_tabs=False)
    assert "\t" not in render_head(mixed)
    coloured = render_head(plain, color=True)
    assert "\x1b[34mServer\x1b[0m: nginx" in coloured


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "::1", "fe80::1%lo", "localhost", "example.com.", "a..b", "", ".", "a" * 64, "é.test"],
)
def test_getaddrinfo_gets_the_bytes_the_idna_codec_would_make(host):
    argument = host_argument(host)
    if isinstance(argument, bytes):
        assert argument == host.encode("idna")
    else:
        assert argument == host  # anything else still goes through the codec, errors and all


PROBE = r"""
import io, sys
from netbench.cli import main
from netbench.environment import Environment

def env():
    return Environment(stdin=open("/dev/null"), stdout=open("/dev/null", "w"), stderr=io.StringIO())

statuses = [main(["http", sys.argv[1]], env()), main(["replay", "-q", sys.argv[2]], env())]
modules = sorted(sys.modules)
import json
print(json.dumps({"statuses": statuses, "modules": modules}))
"""


def test_http_and_replay_leave_out_what_only_other_paths_need(nginx, tmp_path):
    recipe = tmp_path / "one.recipe.yaml"
    recipe.write_text(
        f"netbench: 1\ntarget: tcp://127.0.0.1:{nginx.port}\nsteps:\n"
        "  - http: {method: GET, url: /index.html}\n    expect: {status: 200}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, f"http://127.0.0.1:{nginx.port}/index.html", str(recipe)],
        capture_output=True,
        timeout=60,
        env=ENV,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["statuses"] == [0, 0]
    # json (a JSON view, --json, a json capture), difflib (error hints and diffs) and the
    # idna codec (non-ASCII host names) cost milliseconds of start-up each.
    assert not {"json", "difflib", "encodings.idna"} & set(report["modules"])


def test_target_behaves_as_the_frozen_dataclass_it_was():
    import copy
    import pickle

    from netbench.core.address import Target

    target = Target("tcp", "127.0.0.1", 80)
    assert target == Target("tcp", host="127.0.0.1", port=80, path="")
    assert target != Target("udp", "127.0.0.1", 80) and target != ("tcp", "127.0.0.1", 80, "")
    assert len({target, Target("tcp", "127.0.0.1", 80), Target("tls", "127.0.0.1", 80)}) == 2
    assert repr(target) == "Target(transport='tcp', host='127.0.0.1', port=80, path='')"
    assert (target.transport, target.host, target.port, target.path) == ("tcp", "127.0.0.1", 80, "")
    with pytest.raises(AttributeError):
        target.port = 81  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del target.host
    assert copy.copy(target) == target and pickle.loads(pickle.dumps(target)) == target
    assert target.with_transport("tls") == Target("tls", "127.0.0.1", 80)
    assert target.replace(port=81) == Target("tcp", "127.0.0.1", 81) and target.port == 80
    match Target("unix", path="/tmp/s"):
        case Target("unix", _, _, path):
            assert path == "/tmp/s"
        case _:
            pytest.fail("no match")


def test_environment_defaults_and_overrides(tmp_path, monkeypatch):
    import io
    import os

    from netbench.environment import Environment

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    env = Environment()
    assert env.stdin is sys.stdin and env.stdout is sys.stdout and env.stderr is sys.stderr
    assert env.state_dir == tmp_path / "netbench"
    assert env.environ == dict(os.environ) and env.environ is not os.environ
    out = io.StringIO()
    custom = Environment(stdout=out, stdout_isatty=True, environ={"NO_COLOR": "1"}, state_dir=tmp_path)
    assert custom.stdout is out and custom.stdout_isatty is True and custom.stdin_isatty is False
    assert custom.color is False and custom.environ == {"NO_COLOR": "1"}
    none_stream = Environment(stdin=None)  # type: ignore[arg-type]
    assert none_stream.stdin is None and none_stream.stdin_isatty is False
    assert Environment(stdout=out, environ={}) == Environment(stdout=out, environ={})
    assert "stdout_isatty=False" in repr(Environment(stdout=out))


def test_connect_does_not_import_dataclasses():
    probe = (
        "import io, sys, socket, threading\n"
        "from netbench.cli import main\nfrom netbench.environment import Environment\n"
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(1)\n"
        "def peer():\n    conn, _ = server.accept(); conn.sendall(b'hi'); conn.close()\n"
        "threading.Thread(target=peer, daemon=True).start()\n"
        "import tempfile\nout = tempfile.TemporaryFile('w+')\n"
        "env = Environment(stdin=open('/dev/null'), stdout=out, stderr=io.StringIO())\n"
        "status = main(['connect', '-w', '5', '127.0.0.1', str(server.getsockname()[1])], env)\n"
        "out.seek(0)\n"
        "print(status, out.read(), 'dataclasses' in sys.modules, 'inspect' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30, env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [b"0", b"hi", b"False", b"False"]


def test_status_only_and_templated_http_expectations_both_hold_and_fail(nginx, tmp_path):
    from netbench import replay

    recipe = tmp_path / "checks.recipe.yaml"
    recipe.write_text(
        "netbench: 1\nvars: {kind: html, teapot: stout}\nsteps:\n"
        "  - http: {url: /index.html}\n    expect: {status: 200}\n"
        "  - http: {url: /index.html}\n"
        "    expect: {status: 200, headers: {Content-Type: {contains: '${kind}'}}}\n"
        "  - http: {url: /teapot}\n    expect: {status: 418, body: {contains: '${teapot}'}}\n"
        "  - http: {url: /index.html}\n    expect: {status: 404}\n"
    )
    result = replay(recipe, target=f"127.0.0.1:{nginx.port}")
    assert not result.ok and [step.ok for step in result.steps] == [True, True, True, False]
    assert 'expected status 404, received "HTTP/1.1 200 OK"' in result.steps[-1].message
    wrong = tmp_path / "wrong.recipe.yaml"
    wrong.write_text(recipe.read_text().replace("teapot: stout", "teapot: grande"))
    failed = replay(wrong, target=f"127.0.0.1:{nginx.port}")
    assert [step.ok for step in failed.steps] == [True, True, False]
    assert "grande" in failed.steps[-1].message


@pytest.mark.parametrize(
    "urls",
    [
        ["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b?x=1", "http://127.0.0.1:8080/"],
        ["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b#frag", "http://127.0.0.1:80801/c"],
        ["127.0.0.1:8080/a", "127.0.0.1:8080/b", "https://h/x", "https://h/y", "http://h/z"],
        ["http://[::1]:81/a", "http://[::1]:81/b", "http://[::1]:8/c"],
    ],
)
def test_the_pool_remembers_the_last_origin_only_where_parsing_agrees(urls):
    from netbench.errors import UsageError
    from netbench.net.http_pool import ClientPool, parse_url

    pool = ClientPool()
    for url in urls:
        try:
            expected = parse_url(url)
        except UsageError:
            with pytest.raises(UsageError):
                pool.locate(url)
            continue
        assert pool.locate(url) == expected


def test_the_recipe_model_behaves_as_the_frozen_dataclasses_it_was():
    import copy
    import pickle

    from netbench.recipe.model import Expect, HttpRequest, Recipe, Step, TextMatch

    step = Step(
        http=HttpRequest("GET", "/"), expect=Expect(status=200, body=TextMatch("contains", "hi")), line=3
    )
    recipe = Recipe("r", (step,), target="tcp://127.0.0.1:80", path="a.recipe.yaml")
    same = Recipe("r", (step.replace(line=9),), "tcp://127.0.0.1:80", path="b.recipe.yaml")
    assert recipe == same and hash(recipe) == hash(same)  # line and path take no part
    assert recipe != recipe.replace(timeout=1.0) and recipe != ("r", (step,))
    assert len({TextMatch("exact", "a"), TextMatch("exact", "a"), TextMatch("regex", "a")}) == 2
    assert repr(TextMatch("exact", "a")) == "TextMatch(kind='exact', value='a')"
    assert repr(Expect(status=200)).startswith("Expect(exact=None, contains=None, regex=None, line=None,")
    with pytest.raises(AttributeError):
        recipe.name = "s"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del step.send
    with pytest.raises(TypeError):
        recipe.replace(nonsense=1)
    moved = recipe.replace(timeout=1.0)
    assert (moved.timeout, recipe.timeout, moved.path, moved.steps[0].line) == (1.0, 5.0, "a.recipe.yaml", 3)
    assert copy.copy(recipe) == recipe and pickle.loads(pickle.dumps(recipe)) == recipe
    assert copy.deepcopy(recipe).steps[0].line == 3
    match Step(send=b"x"):
        case Step(send, None):
            assert send == b"x"
        case _:
            pytest.fail("no match")


class _CannedPeer:
    """A loopback peer that reads until it has seen b"GO", then sends *answer* and waits for the close."""

    def __init__(self, answer: bytes) -> None:
        import socket
        import threading

        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(10)
            seen = b""
            while b"GO" not in seen:
                data = conn.recv(4096)
                if not data:
                    return
                seen += data
            conn.sendall(self.answer)
            while conn.recv(4096):
                pass

    def close(self) -> None:
        self.listener.close()
        self.thread.join(10)


HEAD_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"  # no body: the answer to a HEAD


@pytest.mark.parametrize("fillers", [0, 1, 100])  # 100: more raw sends than are kept unlooked-at
def test_the_method_of_raw_sends_is_looked_at_late_but_as_if_at_once(tmp_path, fillers):
    """A raw send's request method is looked at only when an answer is read as HTTP; the last
    send that starts like a request still decides it (a HEAD's answer has no body)."""
    from netbench import replay

    steps = '  - send: "HEAD / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n'
    steps += "  - send: 'y'\n" * fillers  # not requests: the method stays HEAD
    steps += "  - send: GO\n    expect: {status: 200, body: {exact: ''}}\n"
    recipe = tmp_path / "head.recipe.yaml"
    recipe.write_text("netbench: 1\ntimeout: 2\nsteps:\n" + steps)
    peer = _CannedPeer(HEAD_ANSWER)
    try:
        result = replay(recipe, target=f"127.0.0.1:{peer.port}")
    finally:
        peer.close()
    assert result.ok, result.report()


def test_a_later_raw_request_decides_the_method_not_an_earlier_one(tmp_path):
    from netbench import replay

    steps = (
        '  - send: "HEAD / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n'
        '  - send: "GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n'
        "  - send: GO\n    expect: {status: 200, body: {exact: hello}}\n"
    )
    recipe = tmp_path / "get.recipe.yaml"
    recipe.write_text("netbench: 1\ntimeout: 2\nsteps:\n" + steps)
    peer = _CannedPeer(HEAD_ANSWER + b"hello")
    try:
        result = replay(recipe, target=f"127.0.0.1:{peer.port}")
    finally:
        peer.close()
    assert result.ok, result.report()


def test_a_step_that_held_is_described_when_read_as_it_would_be_at_once():
    from netbench.recipe.describe import describe_step
    from netbench.recipe.model import Expect, Step
    from netbench.recipe.result import StepResult

    step = Step(send=b"hi\x1b[2J\n", expect=Expect(line=b"hi"), line=4)
    late = StepResult.held(2, step, 3, 0.5)
    eager = StepResult(2, 4, describe_step(step) + " (3 attempts)", True, duration=0.5)
    assert late == eager and hash(late) == hash(eager) and repr(late) == repr(eager)
    assert late.summary == eager.summary and "\\x1b" in late.summary
    assert StepResult.held(1, step, 1, 0.0).summary == describe_step(step)
    assert late.replace(ok=False).summary == eager.summary
    with pytest.raises(AttributeError):
        late.summary = "x"  # type: ignore[misc]
