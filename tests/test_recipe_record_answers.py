"""A recording's expectation consumes exactly the answer it was made from (issue 12 item 8).

Each test records a conversation (sans-IO, from a Transcript, or a real
session), dumps it, loads it back and replays it against the same server in
the same state: it must pass. Dates and times are generalised so a recording
made today replays tomorrow.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from netbench import replay
from netbench.core.transcript import Eof, Received, Sent, Transcript
from netbench.lab import running
from netbench.recipe.dump import dumps
from netbench.recipe.load import loads
from netbench.recipe.record import answer_expect, record, save
from netbench.recipe.volatile import generalise
from tests.support.peers import RedisServer

from .test_recipe_language_run import sends
from .test_recipe_record import converse


def transcript_of(*events: tuple[str, bytes]) -> Transcript:
    transcript = Transcript()
    for moment, (kind, data) in enumerate(events):
        if kind == "sent":
            transcript.append(Sent(moment / 10, data))
        elif kind == "received":
            transcript.append(Received(moment / 10, data))
        else:
            transcript.append(Eof(moment / 10))
    return transcript


def same(data: bytes) -> bytes:
    return data


def consumed(pattern: str, data: bytes) -> int | None:
    found = re.compile(pattern.encode()).search(data)
    return found.end() if found else None


def test_resp_bulk_string_is_expected_whole_not_by_its_tail() -> None:
    expect = answer_expect(b"$1\r\n1\r\n", same, banner=False, datagram=False)
    assert expect.exact == b"$1\r\n1\r\n"  # contains "1\r\n" would stop after "$1\r\n"


@pytest.mark.parametrize(
    "answer",
    [
        b"+PONG\r\n",
        b"$1\r\n1\r\n",
        b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
        b"".join(b"line %d of a long answer\r\n" % n for n in range(40)),
        b"same\r\n" * 300,  # no unique end: exact
        b"\x00\x01\x02" * 1000,  # long binary: its head and its length
        b"Sunday, November 29, 2026 23:59:01-UTC\r\n",
    ],
)
def test_every_expectation_reads_exactly_the_recorded_answer(answer: bytes) -> None:
    expect = answer_expect(answer, same, banner=False, datagram=False)
    stream = answer + b"NEXT ANSWER\r\n"
    if expect.exact is not None:
        assert stream[: len(expect.exact)] == expect.exact == answer
    elif expect.line is not None:
        assert stream.index(b"\n") + 1 == len(answer)
    elif expect.contains is not None:
        assert stream.index(expect.contains) + len(expect.contains) == len(answer)
    elif expect.regex is not None:
        assert consumed(expect.regex, stream) == len(answer)
    else:
        assert expect.count == len(answer)


def test_the_redis_session_of_the_issue_replays_green_after_flushall(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    redis_server.flushall()
    target = f"tcp://{redis_server.target}"
    from netbench.core.address import parse_target

    transcript = asyncio.run(converse(parse_target(target), b"PING\r\n", b"SET a 1\r\n", b"GET a\r\n"))
    recorded = record(transcript, target, name="redis")
    path = tmp_path / "redis.recipe.yaml"
    save(recorded, path)
    assert loads(path.read_text(), str(path)) == recorded.recipe
    assert [s.expect and s.expect.raw_kind for s in recorded.recipe.steps] == ["line", "line", "exact"]
    redis_server.flushall()
    result = replay(path)
    assert result.ok, result.report()
    redis_server.flushall()
    again = replay(path)  # the same state again: still green
    assert again.ok, again.report()


def test_a_hand_built_redis_transcript_in_pieces_replays_green(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    transcript = transcript_of(
        ("sent", b"SET k hello\r\n"),
        ("received", b"+OK\r\n"),
        ("sent", b"GET k\r\n"),
        ("received", b"$5\r\n"),  # the answer arrived in two reads
        ("received", b"hello\r\n"),
        ("sent", b"LRANGE nothing 0 -1\r\n"),
        ("received", b"*0\r\n"),
    )
    recipe = loads(dumps(record(transcript, f"tcp://{redis_server.target}").recipe))
    path = tmp_path / "pieces.recipe.yaml"
    save(recipe, path)
    redis_server.flushall()
    result = replay(path)
    assert result.ok, result.report()


def test_a_banner_with_numbers_is_consumed_whole_and_generalised() -> None:
    banner = b"220 mail.example ESMTP 4711 ready\r\n220-more 1\r\n"
    expect = answer_expect(banner, same, banner=True, datagram=False)
    assert expect.regex is not None
    other = b"220 mail.example ESMTP 99 ready\r\n220-more 2\r\n"
    assert consumed(expect.regex, other + b"EHLO") == len(other)


@pytest.mark.parametrize(
    ("recorded", "another_day"),
    [
        (b"Sunday, November 29, 2026 23:59:01-UTC\r\n", b"Wednesday, May 06, 2027 04:05:06-UTC\r\n"),
        (b"Thu Nov  5 01:02:03 2026\n", b"Sat Dec 25 11:12:13 2027\n"),
        (b"Date: Sun, 29 Nov 2026 23:59:01 GMT\r\nok\r\n", b"Date: Mon, 1 Feb 2027 00:00:00 GMT\r\nok\r\n"),
        (b"2026-11-29T23:59:01Z\n", b"2027-01-02T03:04:05Z\n"),
        (b"it is 9:05 AM on Tuesday\n", b"it is 11:45 PM on Saturday\n"),
    ],
)
def test_dates_and_times_are_generalised_fully(recorded: bytes, another_day: bytes) -> None:
    expect = answer_expect(recorded, same, banner=False, datagram=False)
    assert expect.regex is not None, expect
    assert consumed(expect.regex, another_day + b"tail") == len(another_day)
    assert consumed(expect.regex, recorded.replace(b":", b".")) is None  # the rest is still checked


def test_text_without_a_date_keeps_its_numbers() -> None:
    assert generalise(b"$1\r\n1\r\n") is None
    assert answer_expect(b"count: 3\r\n", same, banner=False, datagram=False).line == b"count: 3"


def test_a_recorded_daytime_recipe_passes_on_another_day(tmp_path: Path) -> None:
    with running("daytime") as lab:
        session_target = lab["daytime"].target

        async def listen() -> Transcript:
            from netbench.net.session import open_session

            session = await open_session(session_target, timeout=5)
            await session.receive_until_eof(5)
            await session.close()
            return session.transcript

        transcript = asyncio.run(listen())
        recorded = record(transcript, session_target, name="daytime", lab="daytime")
        path = tmp_path / "daytime.recipe.yaml"
        save(recorded, path)
        assert replay(path).ok
    with sends(b"Wednesday, February 03, 2027 04:05:06-UTC\r\n", then_close=True) as port:
        result = replay(path, target=f"127.0.0.1:{port}")
    assert result.ok, result.report()
    with sends(b"the time is not known\r\n", then_close=True) as port:
        assert replay(path, target=f"127.0.0.1:{port}").status == 1


def test_a_dated_http_body_is_generalised_and_other_bodies_stay_exact() -> None:
    body = b"now: Sun, 29 Nov 2026 23:59:01 GMT"
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    transcript = transcript_of(("sent", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ("received", response))
    expect = record(transcript, "tcp://127.0.0.1:1").recipe.steps[0].expect
    assert expect is not None and expect.body is not None and expect.body.kind == "regex"
    assert re.search(expect.body.value.encode(), b"now: Tue, 2 Mar 2027 01:02:03 GMT")


def test_udp_datagrams_are_checked_whole() -> None:
    expect = answer_expect(b"\x00" * 40, same, banner=False, datagram=True)
    assert expect.exact == b"\x00" * 40
    dated = answer_expect(b"12:00:01 ok", same, banner=False, datagram=True)
    assert dated.regex is not None and dated.regex.endswith(r"\Z")


def test_a_json_answer_is_expected_value_by_value() -> None:
    """Issue 13: the recorder writes expect.json for a JSON body (stable values equal, others by type)."""
    body = b'{"user": "ann", "count": 3, "items": [1, 2], "at": "2026-11-29T23:59:01Z", "token": "t0k3n"}'
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    transcript = transcript_of(("sent", b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n"), ("received", response))
    recipe = loads(dumps(record(transcript, "tcp://127.0.0.1:1").recipe))
    expect = recipe.steps[0].expect
    assert expect is not None and expect.body is None
    assert {check.path: check.checks for check in expect.json} == {
        "$.user": (("equal", "ann"),),
        "$.count": (("equal", 3),),
        "$.items": (("type", "array"), ("length", 2)),
        "$.at": (("type", "string"),),
        "$.token": (("type", "string"),),
    }
    assert b"t0k3n" not in dumps(recipe).encode().split(b"reply")[0]


def test_a_recorded_json_session_with_the_lab_replays_green(tmp_path: Path) -> None:
    with running("http") as lab:
        transcript = asyncio.run(converse(lab["http"].target, b"GET /json HTTP/1.1\r\nHost: lab\r\n\r\n"))
        recorded = record(transcript, lab["http"].target, name="json")
        expect = recorded.recipe.steps[0].expect
        assert expect is not None and any(check.path == "$.server" for check in expect.json)
        path = tmp_path / "json.recipe.yaml"
        save(recorded, path)
        result = replay(path)
    assert result.ok, result.report()
