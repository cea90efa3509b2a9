"""Record by typing in a pty, /save, then replay green (issue 12, item 10): the REPL's side of the
recording matrix, against the lab (echo, daytime, http), nginx and redis-server.

Each conversation is typed as a person would, in a real pseudo-terminal that
answers cursor-position requests; lines are synchronised with ``/wait`` and
a following ``/eol`` (commands run in the order typed, so its answer means
the wait is over). The recording is then replayed with ``netbench replay``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import run_main
from tests.test_repl_pty import Terminal

pytest.importorskip("pexpect")


Exchange = tuple[str | None, str | None]


def converse(t: Terminal, exchanges: list[Exchange]) -> None:
    """Type each line (None: none), then wait for its answer (a regex; None: no wait), in order."""
    for line, answer in exchanges:
        if line is not None:
            t.line(line)
        if answer is not None:
            t.line(f"/wait {answer} 10")
            t.line("/eol")
            t.expect("line ending: crlf")


def record_and_replay(t: Terminal, exchanges: list[Exchange], path: Path) -> str:
    converse(t, exchanges)
    t.line(f"/save {path.with_suffix('')}")
    t.expect(f"saved {path}")
    t.keys("\x04")
    assert t.exit_status() == 0
    status, out, err = run_main(["replay", str(path)], state_dir=Path("/nonexistent-netbench-state"))
    assert status == 0, f"{path.read_text()}\n{out}{err}"
    return path.read_text()


LAB_CONVERSATIONS: dict[str, list[Exchange]] = {
    "echo": [("hello", "hello"), ("second line", "second")],
    "daytime": [(None, "[0-9]+:[0-9]+:[0-9]+-")],  # the server speaks first and closes (any time zone)
    "http": [
        ("/get /index.html", "hello world"),
        ("GET /json HTTP/1.1", None),  # typed by hand: nothing comes before the empty line ...
        ("Host: localhost", None),
        ("", "netbench-lab"),  # ... which ends the head
        ("/get /chunked", "0\\r\\n\\r\\n"),
    ],
}


@pytest.mark.parametrize("service", list(LAB_CONVERSATIONS))
def test_a_conversation_typed_against_the_lab_replays_green(
    term: Callable[..., Terminal], tmp_path: Path, service: str
) -> None:
    t = term("--lab", service)
    t.expect("] connected to")
    text = record_and_replay(t, LAB_CONVERSATIONS[service], tmp_path / f"{service}.recipe.yaml")
    assert f"lab: {service}" in text


@pytest.mark.nginx
def test_a_conversation_typed_against_nginx_replays_green(
    term: Callable[..., Terminal], tmp_path: Path, nginx: object
) -> None:
    t = term(f"127.0.0.1:{nginx.port}")  # type: ignore[attr-defined]
    t.expect("] connected to")
    record_and_replay(
        t, [("/get /index.html", "hello"), ("/get /teapot", "stout")], tmp_path / "nginx.recipe.yaml"
    )


def test_a_conversation_typed_against_redis_replays_green_after_flushall(
    term: Callable[..., Terminal], tmp_path: Path, redis_server: object
) -> None:
    redis_server.flushall()  # type: ignore[attr-defined]
    t = term(f"127.0.0.1:{redis_server.port}")  # type: ignore[attr-defined]
    t.expect("] connected to")
    exchanges: list[Exchange] = [
        ("PING", "PONG"),
        ("SET a 1", "OK"),
        ("GET a", "\\$1\\r\\n1\\r\\n"),
        ("INCR n", ":1"),
    ]
    converse(t, exchanges)
    path = tmp_path / "redis.recipe.yaml"
    t.line(f"/save {path}")
    t.expect(f"saved {path}")
    t.keys("\x04")
    assert t.exit_status() == 0
    redis_server.flushall()  # type: ignore[attr-defined]  # the same server in the same state
    status, out, err = run_main(["replay", str(path)], state_dir=Path("/nonexistent-netbench-state"))
    assert status == 0, f"{path.read_text()}\n{out}{err}"
