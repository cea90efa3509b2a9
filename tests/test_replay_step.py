"""``netbench replay --step``: walk a recipe step by step, typed answers on stdin, against the lab."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbench.core.dns import build_query, frame_tcp
from netbench.core.escape import is_unsafe
from netbench.recipe import stepview as view

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"
PROMPT = view.PROMPT.strip()
HOSTILE = [
    b"+\x1b[2J\r\n",
    b"*1\r\n$4\r\n\x1b]0;\x07\r\n",
    b"250-\x1b[31m\r\n250 \x9b2J\r\n",
    b"\xff\xfa\x18\x1b[2J\xff\xf0",
    b"GET /\x1b[2J HTTP/1.1\r\nX: \x1b\xe2\x80\xae\r\n\r\n",
    b"\x00\x10" + bytes(16) + b"\x1b[2J",
    frame_tcp(build_query("a\x1b[2J.lab.test", "TXT")),
]


def step(recipe: Path, answers: str, *extra: str, **environ: str) -> tuple[int, str, str]:
    """``netbench replay --step RECIPE`` with *answers* on stdin (a pipe); (status, stdout, stderr)."""
    env = dict(os.environ, NO_COLOR="1", NETBENCH_RECIPE_CACHE="off", **environ)
    done = subprocess.run(
        [sys.executable, "-m", "netbench", "replay", "--step", str(recipe), *extra],
        input=answers.encode(),
        capture_output=True,
        timeout=60,
        env=env,
        cwd=str(ROOT),
    )
    return done.returncode, done.stdout.decode("utf-8", "surrogateescape"), done.stderr.decode()


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / f"{name}.recipe.yaml"
    shutil.copy(RECIPES / f"{name}.recipe.yaml", target)
    return target


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "walk.recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


ECHO = """netbench: 1
name: three lines
lab: echo
steps:
  - send: "one\\r\\n"
    expect: {line: one}
  - send: "two\\r\\n"
    expect: {line: two}
  - send: "three\\r\\n"
    expect: {line: three}
"""


# -- the choices ---------------------------------------------------------------------------------------


def test_enter_runs_every_step(tmp_path: Path) -> None:
    status, out, err = step(write(tmp_path, ECHO), "\n\n\n")
    assert status == 0, out + err
    assert out.count(PROMPT) == 3
    assert out.count(": held") == 3
    assert "PASS three lines (3 steps" in out
    assert "received (3 bytes):\n    two\n" in out


def test_s_skips_a_step_and_says_so(tmp_path: Path) -> None:
    status, out, err = step(write(tmp_path, ECHO), "\ns\n\n")
    assert status == 0, out + err
    assert 'skip     2/3  send "two\\r\\n" -> expect line "two" (skipped: not sent, not checked)' in out
    assert "    two\n" not in out.split("skip     2/3")[1].split("step 3/3")[0]  # nothing sent, nothing read
    assert out.count(": held") == 2
    assert "1 skipped" in out


def test_skipping_a_step_the_next_one_needs_fails_it(tmp_path: Path) -> None:
    """A confused learner skips an INCR: the counter is then 1 where the recipe expects 2, status 1."""
    recipe = copy(tmp_path, "redis-session")
    status, out, _ = step(recipe, "\n\ns\n\n\n\n")
    assert status == 1
    assert "step 4 of 13 failed: the line differs" in out
    assert "-:2\n  +:1" in out
    assert "step 5/13" not in out  # a failed step ends the walk, as it ends a replay


def test_q_stops_before_the_step_with_status_0(tmp_path: Path) -> None:
    status, out, err = step(write(tmp_path, ECHO), "\nq\n\n")
    assert status == 0, out + err
    assert "stopped before step 2 of 3" in out
    assert "every step run held (1 of 3)" in out
    assert out.count(": held") == 1
    assert "step 3/3" not in out


def test_c_runs_the_rest_without_asking_again(tmp_path: Path) -> None:
    status, out, err = step(write(tmp_path, ECHO), "c\n")
    assert status == 0, out + err
    assert out.count(PROMPT) == 1
    assert out.count(": held") == 3
    assert "step 3/3" in out and "received (5 bytes):\n    three" in out


def test_end_of_input_stops_as_q_does(tmp_path: Path) -> None:
    status, out, err = step(write(tmp_path, ECHO), "")
    assert status == 0, out + err
    assert "(end of input: stopping)" in out
    assert "stopped before step 1 of 3" in out
    assert ": held" not in out


def test_end_of_input_after_some_steps(tmp_path: Path) -> None:
    status, out, _ = step(write(tmp_path, ECHO), "\n\n")
    assert status == 0
    assert out.count(": held") == 2 and "stopped before step 3 of 3" in out


def test_an_unknown_answer_is_explained_and_asked_again(tmp_path: Path) -> None:
    status, out, _ = step(write(tmp_path, ECHO), "yes please\n?\nc\n")
    assert status == 0
    assert "type Enter, s, q, c or ?: Enter runs this step" in out
    assert out.count(PROMPT) == 3  # the same step asked three times, then c
    assert out.count(": held") == 3


def test_a_failing_expect_reports_and_exits_1(tmp_path: Path) -> None:
    recipe = write(tmp_path, ECHO.replace("{line: two}", "{line: deux}"))
    status, out, _ = step(recipe, "c\n")
    assert status == 1
    assert "FAIL" in out and ": did not hold" in out
    assert "walk.recipe.yaml:7: step 2 of 3 failed: the line differs" in out
    assert "step 3/3" not in out


def test_a_refused_connection_is_status_3(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connecting is refused
        status, out, err = step(write(tmp_path, ECHO), "c\n", "-t", f"127.0.0.1:{port}")
    assert status == 3, out + err
    assert "refused" in out + err
    assert PROMPT not in out


def test_step_with_json_is_a_usage_error(tmp_path: Path) -> None:
    status, out, err = step(write(tmp_path, ECHO), "c\n", "--json")
    assert status == 2
    assert err.strip().splitlines() == [
        "netbench: --step cannot go with --json: it is a conversation with a person"
    ]
    assert out == ""


# -- what is shown: escaped, decoded ---------------------------------------------------------------------


def test_hostile_bytes_and_names_are_escaped(tmp_path: Path) -> None:
    """ESC and BEL in the recipe's name, a step name and its send bytes (echoed back by the lab)."""
    recipe = write(
        tmp_path,
        'netbench: 1\nname: "evil \\e]0;title\\a"\nlab: echo\nsteps:\n'
        '  - name: "clear \\e[2J"\n'
        '    send: "\\e[2J\\e]0;pwned\\aevil\\r\\n"\n'
        '    expect: {contains: "evil\\r\\n"}\n',
    )
    status, out, err = step(recipe, "c\n")
    assert status == 0, out + err
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J\\x1b]0;pwned\\x07evil\\r\\n" in out  # sent, then received
    assert out.count("\\x1b[2J\\x1b]0;pwned\\x07evil") == 2
    assert "step 1/1 (line 5): clear \\x1b[2J" in out
    assert '"evil \\x1b]0;title\\x07"' in out


def test_a_flood_is_shown_cut(tmp_path: Path) -> None:
    recipe = write(tmp_path, "netbench: 1\nlab: chargen\nsteps:\n  - expect: {bytes: 100000}\n")
    status, out, _ = step(recipe, "c\n")
    assert status == 0
    assert "received (100000 bytes):" in out
    assert f"... ({100000 - view.SHOWN} more bytes not shown)" in out
    assert len(out) < 20000


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (
            "redis-session",
            [
                'inline command: "PING"',
                'simple string "PONG"',
                "= simple string (+): a short status such as OK or PONG",
                'RESP array: "GET" "session"',
                'bulk string "abc"',
                "integer 1",
                'error "WRONGTYPE Operation against a key holding the wrong kind of value"',
            ],
        ),
        (
            "dns-query",
            [
                ";; flags: rd; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0",
                ";nope.lab.test.",
                "lab.test.               300     IN  A     127.0.0.1",
                "status: NXDOMAIN, id: 22136",
                "00000000  12 34 01 00",
            ],
        ),
        (
            "conditional-get",
            [
                "  as an HTTP request:\n    GET /index.html HTTP/1.1\n    Host: 127.0.0.1:",
                'If-None-Match: "',
                "  as an HTTP response: HTTP/1.1 200 OK\n    200 OK: The request succeeded",
                "304 Not Modified: The cached copy is still good",
            ],
        ),
        (
            "telnet-get",
            ["  as an HTTP request:\n    GET /index.html HTTP/1.1", "200 OK: The request succeeded"],
        ),
        (
            "smtp-delivery",
            [
                "EHLO client.test = EHLO: introduce the client",
                ". = end of the message (a lone dot",
                "..this line starts with one dot = message text; the server removes the doubled dot",
                "220: service ready",
                "354: start mail input",
                "221: service closing transmission channel",
            ],
        ),
        ("telnet-login", ["IAC WILL ECHO", "IAC DO TERMINAL-TYPE", "login: "]),
        (
            "memcached-cas",
            [
                "gets counter = fetch the values with their unique numbers (for cas)",
                "STORED = the value was stored",
                "EXISTS = not stored: someone changed the item since your gets (cas)",
            ],
        ),
    ],
)
def test_each_lab_protocol_is_shown_decoded(tmp_path: Path, name: str, shown: list[str]) -> None:
    status, out, err = step(copy(tmp_path, name), "c\n")
    assert status == 0, out + err
    assert "PASS" in out
    for text in shown:
        assert text in out, text


def test_secrets_never_show(tmp_path: Path) -> None:
    """A ${secret:...} in the send bytes, echoed back: '***' in the preview and in the answer."""
    recipe = write(
        tmp_path,
        'netbench: 1\nlab: echo\nsteps:\n  - send: "AUTH ${secret:TOKEN}\\r\\n"\n'
        '    expect: {line: "AUTH ${secret:TOKEN}"}\n',
    )
    status, out, _ = step(recipe, "c\n", NETBENCH_SECRET_TOKEN="hunter2-very-secret")
    assert status == 0, out
    assert "hunter2" not in out
    assert "    AUTH ***\\r\\n" in out and "    AUTH ***\n" in out


def test_an_undefined_variable_is_named_before_and_fails_the_step_with_2(tmp_path: Path) -> None:
    recipe = write(
        tmp_path, 'netbench: 1\nlab: echo\nsteps:\n  - send: "${nope}\\n"\n    expect: {line: x}\n'
    )
    status, out, _ = step(recipe, "\n")
    assert status == 2
    assert "(its bytes cannot be made yet: undefined variable ${nope} (defined: none))" in out
    assert "sends nothing" not in out
    assert "walk.recipe.yaml:4: step 1: undefined variable ${nope}" in out


def test_a_silent_peer_times_out_and_fails_the_step(tmp_path: Path) -> None:
    recipe = write(tmp_path, "netbench: 1\nlab: discard\nsteps:\n  - send: hello\n    expect: {line: hi}\n")
    status, out, _ = step(recipe, "c\n", "-w", "0.3")
    assert status == 1
    assert "timed out after 0.3 s waiting for line" in out
    assert "received nothing" in out


def test_an_include_shows_what_its_steps_sent(tmp_path: Path) -> None:
    copy(tmp_path, "login")
    recipe = copy(tmp_path, "login-with-cookie")
    status, out, err = step(recipe, "c\n")
    assert status == 0, out + err
    assert "step 1/2 (line 8): include login.recipe.yaml (1 steps)\n    http POST /login" in out
    assert "  sent (137 bytes):\n    POST /login HTTP/1.1\\r\\n" in out
    assert "Cookie: session=" in out.split("step 2/2")[1]  # the jar's cookie, in the preview of step 2


# -- the pure views --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "choice"),
    [
        ("\n", view.RUN),
        ("", view.RUN),
        ("  S \n", view.SKIP),
        ("skip\n", view.SKIP),
        ("q\n", view.QUIT),
        (None, view.QUIT),
        ("C\r\n", view.CONTINUE),
        ("?\n", view.HELP),
        ("yes\n", None),
        ("\x1b[A\n", None),
    ],
)
def test_parse_choice(typed: str | None, choice: str | None) -> None:
    assert view.parse_choice(typed) == choice


def test_decode_sent_http_head_and_body() -> None:
    lines = view.decode_sent(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "")
    assert lines == [
        "  as an HTTP request:",
        "    POST /a HTTP/1.1",
        "    Host: x",
        "    Content-Length: 3",
        "    (then 3 bytes of body)",
    ]


def test_decode_sent_redis_words_are_not_taken_for_http() -> None:
    """``DEL a b`` starts like a request method; to a Redis server it is a command."""
    assert view.decode_sent(b"DEL a b\r\n", "redis") == [
        "  as Redis commands:",
        '    inline command: "DEL" "a" "b"',
    ]
    assert (
        view.decode_sent(b"*2\r\n$3\r\nGET\r\n$1\r\n", "redis")[-1]
        == "    (incomplete: 17 bytes of a command)"
    )


def test_decode_dns_over_tcp_reads_the_length_prefix() -> None:
    query = build_query("www.lab.test", "MX", 7)
    lines = view.decode_sent(frame_tcp(query) + b"\x00", "dns", stream=True)
    assert lines[0] == "  as DNS (over TCP, each message after its 2-byte length):"
    assert "    ;www.lab.test.                  IN  MX" in lines
    assert lines[-1] == "    (incomplete: 1 bytes of a message)"
    assert view.decode_sent(query, "dns", stream=False)[0] == "  as DNS:"


def test_decode_received_guesses_from_the_bytes_without_a_protocol() -> None:
    assert view.decode_received(b":3\r\n", None, "")[1:] == [
        "    integer 3",
        "    = integer (:): a count or a number, e.g. INCR's new value or DEL's count",
    ]
    assert view.decode_received(b"250 ok\r\n", None, "")[1].startswith("    250: requested mail action okay")
    assert view.decode_received(b"hello\r\n", None, "") == []
    assert view.decode_received(b"+\x1b[2J\r\n", None, "redis")[1] == '    simple string "\\x1b[2J"'


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=300) | st.sampled_from(HOSTILE),
    protocol=st.sampled_from(["", "http", "redis", "smtp", "dns", "telnet", "memcached"]),
    stream=st.booleans(),
)
def test_any_bytes_decode_without_error_or_raw_controls(data: bytes, protocol: str, stream: bool) -> None:
    lines = [
        *view.show_bytes(data),
        *view.decode_sent(data, protocol, stream),
        *view.decode_received(data, None, protocol, stream),
    ]
    for line in lines:
        assert not any(is_unsafe(char) or char in "\r\n" for char in line), line


def test_show_bytes_text_binary_and_cut() -> None:
    assert view.show_bytes(b"a\r\nb") == ["    a\\r\\n", "    b"]
    assert view.show_bytes(b"\x00\x01\xff")[0].startswith("    00000000  00 01 ff")
    many = view.show_bytes(b"x" * (view.SHOWN + 10))
    assert many[-1] == "    ... (10 more bytes not shown)"


# -- a person at a terminal ------------------------------------------------------------------------------


def test_typed_in_a_terminal(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    recipe = write(tmp_path, ECHO)
    env = dict(os.environ, NO_COLOR="1", TERM="xterm", NETBENCH_RECIPE_CACHE="off")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "netbench", "replay", "--step", str(recipe)],
        env=env,
        timeout=30,
        cwd=str(ROOT),
        encoding="utf-8",
        codec_errors="replace",
    )
    try:
        child.expect_exact('send "one\\r\\n"')
        child.expect_exact(PROMPT)
        child.send("\r")
        child.expect_exact("received (3 bytes):")
        child.expect_exact("1/3")
        child.expect_exact(": held")
        child.expect_exact(PROMPT)
        child.send("s\r")
        child.expect_exact("(skipped: not sent, not checked)")
        child.expect_exact(PROMPT)
        child.send("q\r")
        child.expect_exact("stopped before step 3 of 3")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_ctrl_c_at_the_prompt_is_status_130(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, NO_COLOR="1", TERM="xterm", NETBENCH_RECIPE_CACHE="off")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "netbench", "replay", "--step", str(write(tmp_path, ECHO))],
        env=env,
        timeout=30,
        cwd=str(ROOT),
        encoding="utf-8",
        codec_errors="replace",
    )
    try:
        child.expect_exact(PROMPT)
        child.sendintr()
        child.expect_exact("netbench: interrupted")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130


def test_a_directory_is_walked_recipe_by_recipe_and_q_stops_them_all(tmp_path: Path) -> None:
    folder = tmp_path / "walks"
    folder.mkdir()
    (folder / "a.recipe.yaml").write_text(ECHO.replace("three lines", "first"), encoding="utf-8")
    (folder / "b.recipe.yaml").write_text(ECHO.replace("three lines", "second"), encoding="utf-8")
    status, out, _ = step(folder, "c\n")
    assert status == 0
    assert "PASS first (3 steps" in out and "PASS second (3 steps" in out
    assert out.count(PROMPT) == 1  # 'c' holds for the recipes that follow
    status, out, _ = step(folder, "q\n")
    assert status == 0
    assert '"first" against' in out and '"second"' not in out


def test_an_answer_that_held_but_failed_its_capture_is_shown_once(tmp_path: Path) -> None:
    recipe = write(
        tmp_path,
        'netbench: 1\nlab: echo\nsteps:\n  - send: "abc\\r\\n"\n    expect: {contains: "abc\\r\\n"}\n'
        '    capture: {x: {regex: "zzz(.)"}}\n',
    )
    status, out, _ = step(recipe, "c\n")
    assert status == 1
    assert "capture x: regex /zzz(.)/ found nothing" in out
    assert out.count("received (5 bytes):") == 2  # once after the step, once in the report
