"""The REPL's part of issue 11: a private history file, no answer made of leftover bytes, decoded
bodies capped (items 11, 2 and 4), against real misbehaving servers on loopback."""

from __future__ import annotations

import gzip
import stat
from pathlib import Path

from netbench.repl.app import private_file
from tests.hostile.server import HANG, HostileServer, Pause
from tests.support.cli import run_main


def repl(port: int, script: str) -> tuple[int, str, str]:
    argv = ["repl", "127.0.0.1", str(port)]
    return run_main(argv, stdin=script, state_dir=Path("/nonexistent-netbench-state"))


def test_the_history_file_is_private_even_when_it_existed(tmp_path: Path) -> None:
    fresh = Path(private_file(tmp_path / "state" / "netbench", "history"))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    old = tmp_path / "history"
    old.write_text("+/set token hunter2\n")
    old.chmod(0o644)
    assert Path(private_file(tmp_path, "history")) == old
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert old.read_text() == "+/set token hunter2\n"  # kept, only tightened


def test_leftover_bytes_are_never_the_answer_to_the_next_request() -> None:
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED"
    late = b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nlate"
    with HostileServer([first + smuggled, Pause(1.0), late, HANG]) as server:
        status, out, _err = repl(server.port, "/get /a\n/get /b\n/wait late 5\n/explain\n")
    assert status == 0
    assert "this connection is out of step: 46 bytes came after the response that no request asked for" in out
    assert "<- HTTP/1.1 200 OK\\r\\n" in out  # the smuggled response: raw, not parsed as anyone's answer
    assert "(this connection is out of step: the answer is shown raw, as it may not be yours)" in out
    assert "<- HTTP/1.1 404 Not Found\\r\\n" in out  # shown raw as well
    assert "404 Not Found:" not in out  # /explain still explains the one real answer, the 200
    assert "200 OK: The request succeeded" in out


def test_a_gzip_bomb_is_unpacked_to_16_mib_and_no_further() -> None:
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    with HostileServer([head + bomb, HANG]) as server:
        status, out, err = repl(server.port, "/get /\n")
    assert status == 0, err
    assert "(body cut at 16 MiB unpacked: the rest was not decoded)" in out
