"""Shared fixtures: real peers on loopback."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.peers import Nginx, RedisServer

# The parsed-recipe cache goes to a private directory for the test run (and the
# subprocesses it starts), never into the user's ~/.cache.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="netbench-tests-cache-")


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """A private nginx on 127.0.0.1 serving index.html (hello world), big.txt, data.json."""
    server = Nginx(tmp_path_factory.mktemp("nginx")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private redis-server on a kernel-chosen 127.0.0.1 port, no persistence."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``term(*args)``: ``netbench repl ARGS`` in a pty (test_repl_pty.Terminal), closed after the test."""
    pytest.importorskip("pexpect")
    from tests.test_repl_pty import Terminal

    made: list[Terminal] = []

    def spawn(*args: str) -> Terminal:
        made.append(Terminal(["repl", *args], tmp_path / "state"))
        return made[-1]

    yield spawn
    for terminal in made:
        terminal.close()
