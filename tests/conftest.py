"""Shared fixtures: real peers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.peers import Nginx, RedisServer


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
