"""Keep-alive desync in replay: a step never passes on bytes the server did not send for it.

Hostile servers from :mod:`tests.hostile.keepalive` answer the first request
with a response and something more (an unsolicited second response, a body
after 204/304/HEAD, bytes after a chunked body that also had
Content-Length). The next ``http`` step must get its own answer on a fresh
connection; leftover bytes are never parsed twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netbench import replay
from netbench.recipe.engine import Result
from tests.hostile.keepalive import ScriptServer, Seen, ok
from tests.hostile.server import HANG, Pause, Step

EVIL = ok(b"EVIL")
CHUNKED_WITH_LENGTH = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n"
)
FIRST_ANSWERS = {
    "second-unsolicited-response": ("GET", [ok(b"one") + EVIL]),
    "body-after-204": ("GET", [b"HTTP/1.1 204 No Content\r\n\r\n" + EVIL]),
    "body-after-304": ("GET", [b"HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n" + EVIL]),
    "body-after-head": ("HEAD", [b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n" + EVIL]),
    "after-chunked-with-length": ("GET", [CHUNKED_WITH_LENGTH + EVIL]),
    "chunked-with-length-alone": ("GET", [CHUNKED_WITH_LENGTH]),
    "stray-response-a-moment-later": ("GET", [ok(b"one"), Pause(0.1), EVIL]),
}


def honest(seen: Seen) -> list[Step]:
    return [ok(seen.target.encode(), b"X-Target: " + seen.target.encode())]


def first_then_honest(first: list[Step]):
    def answer(seen: Seen) -> list[Step]:
        return first if (seen.connection, seen.number) == (1, 1) else honest(seen)

    return answer


def run_recipe(tmp_path: Path, server: ScriptServer, steps: str) -> Result:
    path = tmp_path / "desync.recipe.yaml"
    path.write_text("netbench: 1\ntimeout: 2\nsteps:\n" + steps)
    return replay(path, target=f"127.0.0.1:{server.port}")


@pytest.mark.parametrize("name", list(FIRST_ANSWERS))
def test_leftover_bytes_never_answer_the_next_step(tmp_path: Path, name: str) -> None:
    method, first = FIRST_ANSWERS[name]
    steps = (
        f"  - http: {{method: {method}, url: /one}}\n"
        "  - sleep: 0.4\n"  # the late stray response has arrived by now
        "  - http: {url: /two}\n"
        "    expect: {status: 200, body: /two, headers: {X-Target: /two}}\n"
    )
    with ScriptServer(first_then_honest(first)) as server:
        result = run_recipe(tmp_path, server, steps)
        targets = [(seen.connection, seen.target) for seen in server.requests]
    assert result.ok, result.report()
    assert targets == [(1, "/one"), (2, "/two")]


def test_three_http_steps_never_pass_on_two_responses(tmp_path: Path) -> None:
    # The server only ever sends two responses, both at once for the first request.
    def answer(seen: Seen) -> list[Step]:
        return [ok(b"one") + ok(b"two")] if (seen.connection, seen.number) == (1, 1) else [HANG]

    steps = "".join(
        f"  - http: {{url: /{n}}}\n    expect: {{status: 200}}\n    timeout: 0.5\n" for n in (1, 2, 3)
    )
    with ScriptServer(answer) as server:
        result = run_recipe(tmp_path, server, steps)
    assert result.status == 1
    assert [step.ok for step in result.steps] == [True, False]
    assert "timed out after 0.5 s" in result.message


def test_a_clean_keep_alive_server_keeps_one_connection(tmp_path: Path) -> None:
    steps = "".join(f"  - http: {{url: /{n}}}\n    expect: {{body: /{n}}}\n" for n in range(5))
    with ScriptServer(honest) as server:
        result = run_recipe(tmp_path, server, steps)
        connections = server.connections
    assert result.ok, result.report()
    assert connections == 1


def test_raw_pipelined_requests_still_get_their_answers_in_order(tmp_path: Path) -> None:
    # Bytes sent by a raw send step are asked for: their answers stay for the next expect.
    steps = (
        '  - send: "GET /a HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /b HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n'
        "    expect: {status: 200, body: /a}\n"
        "  - expect: {status: 200, body: /b}\n"
    )
    with ScriptServer(honest) as server:
        result = run_recipe(tmp_path, server, steps)
        connections = server.connections
    assert result.ok, result.report()
    assert connections == 1


RAW_GET = '  - send: "GET /one HTTP/1.1\\r\\nHost: x\\r\\n{extra}\\r\\n"\n    expect: {{status: 200}}\n'


@pytest.mark.parametrize(
    ("extra", "first", "connections"),
    [
        ("", ok(b"one"), 1),  # the raw exchange left the connection open: the http step goes on it
        ("Connection: close\\r\\n", ok(b"one", b"Connection: close"), 2),  # it ended it: a new one
    ],
)
def test_an_http_step_after_a_raw_http_exchange_goes_on_its_connection_when_it_may(
    tmp_path: Path, extra: str, first: bytes, connections: int
) -> None:
    def answer(seen: Seen) -> list[Step]:
        return [first] if (seen.connection, seen.number) == (1, 1) else honest(seen)

    with ScriptServer(answer) as server:
        steps = RAW_GET.format(extra=extra) + "  - http: {url: /two}\n    expect: {status: 200, body: /two}\n"
        result = run_recipe(tmp_path, server, steps)
        seen = server.connections
    assert result.status == 0, result
    assert seen == connections
