"""Target parsing: a table of good forms and of bad ones (exit 2, one line, via the CLI)."""

from __future__ import annotations

import io
import socket

import pytest

from netbench.cli import main
from netbench.core.address import Target, parse_bind, parse_target
from netbench.environment import Environment
from netbench.errors import TargetError
from netbench.net.resolve import family_from_flags, resolve

GOOD = [
    (["127.0.0.1", "8080"], None, Target("tcp", "127.0.0.1", 8080)),
    (["127.0.0.1:8080"], None, Target("tcp", "127.0.0.1", 8080)),
    (["localhost", "http"], None, Target("tcp", "localhost", 80)),
    (["localhost:https"], None, Target("tcp", "localhost", 443)),
    (["[::1]:8080"], None, Target("tcp", "::1", 8080)),
    (["[::1]", "8080"], None, Target("tcp", "::1", 8080)),
    (["::1", "8080"], None, Target("tcp", "::1", 8080)),
    (["tcp://127.0.0.1:9"], None, Target("tcp", "127.0.0.1", 9)),
    (["udp://127.0.0.1:53"], None, Target("udp", "127.0.0.1", 53)),
    (["tls://localhost:8443"], None, Target("tls", "localhost", 8443)),
    (["TLS://localhost:8443/some/path"], None, Target("tls", "localhost", 8443)),
    (["http://127.0.0.1"], None, Target("tcp", "127.0.0.1", 80)),
    (["https://localhost/index.html"], None, Target("tls", "localhost", 443)),
    (["http://[::1]:8080/x"], None, Target("tcp", "::1", 8080)),
    (["unix:/tmp/x.sock"], None, Target("unix", path="/tmp/x.sock")),
    (["unix:///tmp/x.sock"], None, Target("unix", path="/tmp/x.sock")),
    (["127.0.0.1", "53"], "udp", Target("udp", "127.0.0.1", 53)),
    (["127.0.0.1:443"], "tls", Target("tls", "127.0.0.1", 443)),
    (["tcp://127.0.0.1:443"], "tls", Target("tls", "127.0.0.1", 443)),
    ("127.0.0.1 65535", None, Target("tcp", "127.0.0.1", 65535)),
]


@pytest.mark.parametrize(("words", "transport", "expected"), GOOD)
def test_good_targets_parse(words: list[str] | str, transport: str | None, expected: Target) -> None:
    assert parse_target(words, transport) == expected  # type: ignore[arg-type]


BAD = [
    ["127.0.0.1"],  # no port
    ["127.0.0.1:"],
    [":8080"],
    ["127.0.0.1", "0"],
    ["127.0.0.1", "65536"],
    ["127.0.0.1", "-1"],
    ["127.0.0.1", "no-such-service-xyz"],
    ["::1:8080"],  # IPv6 without brackets and a port
    ["[::1:8080"],
    ["[::1]8080"],
    ["ftp://127.0.0.1:21"],
    ["unix:"],
    ["unix:/tmp/x.sock", "80"],
    ["127.0.0.1", "80", "extra"],
    ["udp://127.0.0.1:53", "--tls"],  # scheme and transport disagree
    ["-u", "tls://127.0.0.1:443"],
    ["-u", "unix:/tmp/x.sock"],
    ["-4", "-6", "127.0.0.1:80"],
    ["--sni", "x", "127.0.0.1:80"],  # --sni without TLS
    ["-z", "-u", "127.0.0.1:53"],
    ["-w", "soon", "127.0.0.1:80"],
    ["-w", "-3", "127.0.0.1:80"],
    ["a..b", "80"],  # the idna codec rejects an empty label
    ["x" * 70 + ".example", "80"],  # and a label over 63 characters
]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    env = Environment(
        stdin=io.StringIO(""),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        stdin_isatty=False,
        stdout_isatty=False,
        stderr_isatty=False,
    )
    status = main(argv, env)
    return status, env.stdout.getvalue(), env.stderr.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("words", BAD, ids=" ".join)
def test_bad_targets_exit_2_with_one_line(words: list[str]) -> None:
    status, out, err = run_cli(["connect", *words])
    assert status == 2, err
    assert out == ""
    assert err.startswith("netbench: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "address", ["127.0.0.1:99999", "x:y:z", "[::1", "nope-service-xyz", "unix:", "a..b:8080"]
)
def test_bad_listen_addresses_exit_2(address: str) -> None:
    status, _out, err = run_cli(["listen", address])
    assert status == 2, err
    assert err.startswith("netbench: ") and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8080", ("127.0.0.1", 8080)),
        ("0", ("127.0.0.1", 0)),
        ("127.0.0.2:9", ("127.0.0.2", 9)),
        ("[::1]:0", ("::1", 0)),
        (":7", ("127.0.0.1", 7)),
        ("http", ("127.0.0.1", 80)),
    ],
)
def test_parse_bind(text: str, expected: tuple[str, int]) -> None:
    assert parse_bind(text) == expected


def test_display_and_str() -> None:
    assert Target("tcp", "::1", 80).display == "[::1]:80"
    assert str(Target("udp", "127.0.0.1", 53)) == "udp://127.0.0.1:53"
    assert str(Target("unix", path="/run/x")) == "unix:/run/x"


def test_resolve_loopback_and_family_flags() -> None:
    assert family_from_flags(True, False) == socket.AF_INET
    assert family_from_flags(False, True) == socket.AF_INET6
    with pytest.raises(TargetError):
        family_from_flags(True, True)
    assert resolve(Target("tcp", "127.0.0.1", 80)) == [(socket.AF_INET, ("127.0.0.1", 80))]
    families = {family for family, _ in resolve(Target("tcp", "localhost", 80), socket.AF_INET)}
    assert families == {socket.AF_INET}
