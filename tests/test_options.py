"""One spelling per option across commands: --cafile (alias --cacert), -k/--insecure, listen -w."""

from __future__ import annotations

import argparse

import pytest

from netbench.commands.parsing import parser_for
from tests.support.cli import run_main


def _action(parser: argparse.ArgumentParser, flag: str) -> argparse.Action:
    for action in parser._actions:
        if flag in action.option_strings:
            return action
    raise AssertionError(f"{parser.prog} has no {flag}")


@pytest.mark.parametrize("command", ["connect", "http", "repl"])
def test_tls_options_are_spelled_the_same(command: str) -> None:
    parser = parser_for(command)
    assert _action(parser, "--cafile") is _action(parser, "--cacert")
    assert _action(parser, "-k") is _action(parser, "--insecure")


def test_connect_takes_cacert_as_cafile(tmp_path: object) -> None:
    status, _out, err = run_main(["connect", "--tls", "--cacert", "/nonexistent/ca.pem", "127.0.0.1", "1"])
    assert status == 2
    assert "--cafile /nonexistent/ca.pem: no such file" in err


def test_connect_k_is_insecure() -> None:
    status, _out, err = run_main(["connect", "-k", "127.0.0.1", "1"])
    assert status == 2
    assert "need --tls" in err  # -k was read as --insecure, which needs TLS


def test_listen_w_says_what_it_does() -> None:
    connect_help = _action(parser_for("connect"), "-w").help or ""
    listen_help = _action(parser_for("listen"), "-w").help or ""
    assert "connect timeout" in connect_help
    assert "connect timeout" not in listen_help and "idle timeout" in listen_help
    assert _action(parser_for("listen"), "-k").dest == "keep_open"  # nc's -k: listen has no TLS
