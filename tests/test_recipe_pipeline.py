"""``replay --pipeline``: runs of plain GET/HEAD http steps written ahead, with the same results.

Against the lab's http server and nginx the results (every step's outcome,
message and bytes; the report) are the same with and without pipelining. A
server that only answers once it has seen several requests proves they were
written ahead; a server that closes after two answers gets the unanswered
requests again on a fresh connection; an answer that sets a cookie makes the
rest of the run go one step at a time, so the next request carries it.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench.cli import main
from netbench.recipe.cache import load_cached
from netbench.recipe.engine import Result, run
from tests.hostile.keepalive import ScriptServer, Seen, ok
from tests.hostile.server import CLOSE, Step

pytest_plugins = ["pytester"]

LAB_STEPS = """\
  - http: {url: /}
    expect: {status: 200, headers: {Content-Type: {contains: text/html}}}
  - http: {url: /json}
    expect: {status: 200, json: {"$.server": {equal: netbench-lab}}}
  - http: {method: HEAD, url: /index.html}
    expect: {status: 200, body: ""}
  - http: {url: /chunked}
    expect: {status: 200, body: {contains: "chunk 5 of 5"}}
  - http: {url: /index.html, headers: {X-Step: "${word}"}}
    expect: {status: 200}
"""


def _write(tmp_path: Path, steps: str, head: str = "lab: http\n", name: str = "p") -> Path:
    path = tmp_path / f"{name}.recipe.yaml"
    path.write_text("netbench: 1\ntimeout: 3\nvars: {word: hello}\n" + head + "steps:\n" + steps)
    return path


def _outcome(result: Result) -> list[tuple[object, ...]]:
    """Everything a step result says but its duration (and the Date of a received answer)."""

    def scrub(data: bytes | None) -> bytes | None:
        return None if data is None else re.sub(rb"Date: [^\r\n]*", b"Date: -", data)

    return [
        (s.index, s.line, s.summary, s.ok, s.status, s.message, scrub(s.expected), scrub(s.received))
        for s in result.steps
    ]


def _report(result: Result) -> str:
    text = re.sub(r"\d+(\.\d+)? m?s\b", "(time)", result.report())
    return re.sub(r"Date: [^\n]*", "Date: -", re.sub(r"127\.0\.0\.1:\d+", "HOST", text))


def _both(path: Path, target: str | None = None, depth: int = 16) -> tuple[Result, Result]:
    recipe = load_cached(str(path))
    return run(recipe, target=target), run(recipe, target=target, pipeline=depth)


def _json_check_fits_the_lab(tmp_path: Path) -> None:
    plain = run(load_cached(str(_write(tmp_path, LAB_STEPS, name="probe"))))
    assert plain.ok, plain.report()


def test_the_lab_gives_the_same_results_with_and_without(tmp_path: Path) -> None:
    _json_check_fits_the_lab(tmp_path)
    steps = LAB_STEPS * 3  # fifteen steps in one run
    for depth in (2, 16):
        plain, piped = _both(_write(tmp_path, steps), depth=depth)
        assert plain.ok and piped.ok, piped.report()
        assert _outcome(piped) == _outcome(plain)
        assert _report(piped) == _report(plain)


def test_a_failing_expect_in_the_middle_reports_the_right_step(tmp_path: Path) -> None:
    steps = LAB_STEPS + "  - http: {url: /missing}\n    expect: {status: 200}\n" + LAB_STEPS
    plain, piped = _both(_write(tmp_path, steps))
    assert not piped.ok and piped.status == 1
    assert [s.ok for s in piped.steps] == [True] * 5 + [False]
    assert piped.steps[-1].message.startswith('expected status 200, received "HTTP/1.1 404 Not Found"')
    assert _outcome(piped) == _outcome(plain)
    assert _report(piped) == _report(plain)


def test_runs_are_split_by_captures_and_other_steps(tmp_path: Path) -> None:
    steps = (
        "  - http: {url: /json}\n    capture: {name: {json: server}}\n"
        "  - http: {url: '/echo?n=${name}'}\n    expect: {status: 200, body: {contains: netbench-lab}}\n"
        "  - http: {url: /}\n"
        "  - http: {method: POST, url: /echo, body: x}\n    expect: {status: 200}\n"
        "  - http: {url: /}\n    expect: {status: 200}\n"
        "  - http: {url: /json}\n    expect: {status: 200}\n"
    )
    plain, piped = _both(_write(tmp_path, steps))
    assert plain.ok and piped.ok, piped.report()
    assert _outcome(piped) == _outcome(plain)


@pytest.fixture
def nginx_recipe(nginx, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    steps = (
        "  - http: {url: /}\n    expect: {status: 200, body: {contains: hello}}\n"
        "  - http: {url: /data.json}\n    expect: {status: 200}\n"
        "  - http: {method: HEAD, url: /big.txt}\n    expect: {status: 200}\n"
    ) * 10
    steps += "  - http: {url: /nothing-here}\n    expect: {status: 200}\n" + steps
    yield _write(tmp_path, steps, head=""), f"127.0.0.1:{nginx.port}"


def test_nginx_gives_the_same_results_with_and_without(nginx_recipe: tuple[Path, str]) -> None:
    path, target = nginx_recipe
    plain, piped = _both(path, target)
    assert [s.ok for s in piped.steps] == [True] * 30 + [False]
    assert _outcome(piped) == _outcome(plain)
    assert _report(piped) == _report(plain)


def test_the_cli_option(nginx_recipe: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    path, target = nginx_recipe
    outputs = []
    for options in ([], ["--pipeline"], ["--pipeline", "4"]):
        status = main(["replay", *options, str(path), "-t", target, "-q"])
        outputs.append((status, _report_text(capsys.readouterr().out)))
    assert outputs[0][0] == 1 and outputs[0] == outputs[1] == outputs[2]
    for bad in (["--pipeline", "0", str(path)], ["--pipeline=-3", str(path)]):
        status = main(["replay", *bad])
        assert status == 2 and "--pipeline: N must be 1 or more" in capsys.readouterr().err
    status = main(["replay", "--pipeline"])
    assert status == 2 and "give at least one recipe" in capsys.readouterr().err


def _report_text(text: str) -> str:
    text = re.sub(r"\d+(\.\d+)? m?s\b", "(time)", text)
    return re.sub(r"Date: [^\n]*", "Date: -", text)


class AfterSeeing:
    """A server that answers nothing until it has read *count* requests on one connection."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.seen = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> AfterSeeing:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        self.thread.join(5)

    def _serve(self) -> None:
        self.listener.settimeout(5)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while data.count(b"\r\n\r\n") < self.count:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self.seen = data.count(b"\r\n\r\n")
                conn.sendall(ok(b"one") * self.seen)
                conn.recv(1)  # until the client closes
            except OSError:
                return


def test_requests_are_written_before_the_first_answer(tmp_path: Path) -> None:
    steps = "  - http: {url: /}\n    expect: {status: 200, body: one}\n    timeout: 1\n" * 4
    path = _write(tmp_path, steps, head="")
    with AfterSeeing(4) as server:
        piped = run(load_cached(str(path)), target=f"127.0.0.1:{server.port}", pipeline=4)
    assert piped.ok, piped.report()
    assert server.seen == 4
    with AfterSeeing(4) as server:  # one at a time, the first answer never comes
        plain = run(load_cached(str(path)), target=f"127.0.0.1:{server.port}")
    assert not plain.ok and "timed out after 1 s" in plain.steps[0].message


def _numbered(count: int) -> str:
    """Steps GET /1 ... /count, each expecting its own path as the body."""
    step = "  - http: {{url: /{n}}}\n    expect: {{status: 200, body: /{n}}}\n"
    return "".join(step.format(n=n) for n in range(1, count + 1))


def test_a_server_closing_after_two_answers_gets_the_rest_again(tmp_path: Path) -> None:
    def answer(seen: Seen) -> list[Step]:
        body = ok(seen.target.encode())
        return [body, CLOSE] if (seen.connection, seen.number) == (1, 2) else [body]

    steps = _numbered(6)
    path = _write(tmp_path, steps, head="")
    with ScriptServer(answer) as server:
        piped = run(load_cached(str(path)), target=f"127.0.0.1:{server.port}", pipeline=16)
        seen = [(s.connection, s.target) for s in server.requests]
    assert piped.ok, piped.report()
    assert seen[:2] == [(1, "/1"), (1, "/2")]
    assert [target for connection, target in seen if connection == 2] == ["/3", "/4", "/5", "/6"]
    assert {connection for connection, _ in seen} == {1, 2}


def test_an_answer_closing_keep_alive_sends_the_rest_on_a_new_connection(tmp_path: Path) -> None:
    def answer(seen: Seen) -> list[Step]:
        if (seen.connection, seen.number) == (1, 2):
            return [ok(seen.target.encode(), b"Connection: close"), CLOSE]
        return [ok(seen.target.encode())]

    steps = _numbered(4)
    path = _write(tmp_path, steps, head="")
    with ScriptServer(answer) as server:
        plain, piped = _both(path, f"127.0.0.1:{server.port}")
    assert plain.ok and piped.ok, piped.report()
    assert _outcome(piped) == _outcome(plain)


def test_a_request_that_never_gets_an_answer_fails_its_step_as_without(tmp_path: Path) -> None:
    def answer(seen: Seen) -> list[Step]:
        return [CLOSE] if seen.target == "/3" else [ok(seen.target.encode())]

    steps = "".join(f"  - http: {{url: /{n}}}\n    expect: {{status: 200}}\n" for n in range(1, 6))
    path = _write(tmp_path, steps, head="")
    with ScriptServer(answer) as server:
        plain, piped = _both(path, f"127.0.0.1:{server.port}")
        threes = sum(1 for seen in server.requests if seen.target == "/3")
    assert [s.ok for s in piped.steps] == [True, True, False]
    assert "connection closed before any response" in piped.steps[2].message
    assert _outcome(piped) == _outcome(plain)
    assert threes == 1 + 2  # once without --pipeline; with it, written at most twice


def test_a_cookie_set_by_one_answer_is_sent_with_the_next_request(tmp_path: Path) -> None:
    def answer(seen: Seen) -> list[Step]:
        if seen.target == "/set":
            return [ok(b"set", b"Set-Cookie: flavour=oat; Path=/")]
        return [ok((seen.header("cookie") or "no cookie").encode())]

    steps = (
        "  - http: {url: /set}\n    expect: {status: 200}\n"
        "  - http: {url: /check}\n    expect: {status: 200, body: flavour=oat}\n"
        "  - http: {url: /check}\n    expect: {status: 200, body: flavour=oat}\n"
    )
    path = _write(tmp_path, steps, head="")
    with ScriptServer(answer) as server:
        plain, piped = _both(path, f"127.0.0.1:{server.port}")
    assert plain.ok and piped.ok, piped.report()
    assert _outcome(piped) == _outcome(plain)


def test_the_pytest_option(pytester: pytest.Pytester) -> None:
    pytester.makefile(".recipe.yaml", piped="netbench: 1\nlab: http\nvars: {word: hi}\nsteps:\n" + LAB_STEPS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--netbench-pipeline", "4")
    result.assert_outcomes(passed=1)


def test_a_cookie_header_in_any_case_starts_the_jar(tmp_path: Path) -> None:
    # The runner skips the empty jar for answers without Set-Cookie: a shortcut that must
    # still see the header whatever its case, one at a time and pipelined.
    def answer(seen: Seen) -> list[Step]:
        if seen.target == "/set":
            return [ok(b"set", b"SET-COOKIE: flavour=rye; Path=/")]
        return [ok((seen.header("cookie") or "no cookie").encode())]

    steps = (
        "  - http: {url: /set}\n"
        "  - http: {url: /check}\n"
        "    expect: {status: 200, body: flavour=rye, cookies: {flavour: {equal: rye}}}\n"
    )
    path = _write(tmp_path, steps, head="")
    with ScriptServer(answer) as server:
        plain, piped = _both(path, f"127.0.0.1:{server.port}")
    assert plain.ok and piped.ok, plain.report()


def test_a_step_after_a_run_whose_last_answer_ended_keep_alive_goes_on_a_new_connection(
    tmp_path: Path,
) -> None:
    # The last answer of the run says Connection: close but the server keeps the connection
    # open (and would answer on it): the next step must not use it, with or without --pipeline.
    def answer(seen: Seen) -> list[Step]:
        if seen.target == "/2":
            return [ok(b"/2", b"Connection: close")]
        return [ok(seen.target.encode())]

    steps = _numbered(2) + "  - http: {method: POST, url: /3, body: x}\n    expect: {status: 200, body: /3}\n"
    path = _write(tmp_path, steps, head="")
    connections = []
    for depth in (0, 16):
        with ScriptServer(answer) as server:
            result = run(load_cached(str(path)), target=f"127.0.0.1:{server.port}", pipeline=depth)
            connections.append([(seen.connection, seen.target) for seen in server.requests])
        assert result.ok, result.report()
    assert connections[0] == connections[1] == [(1, "/1"), (1, "/2"), (2, "/3")]
