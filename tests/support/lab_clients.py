"""Helpers for the protocol lab tests: optional peer programs, and a server stalled on its client."""

from __future__ import annotations

import shutil
import time

import pytest

from netbench.lab import LabServer


def optional_binary(name: str, package: str) -> str:
    """The path of *name*, or skip the test (these peers are optional: redis-cli, dig)."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install {package})")
    return path


def write_buffer_once_stalled(server: LabServer, timeout: float = 30.0) -> int:
    """The largest write buffer of *server* once it stops reading (stalled on a client that does not read)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        transports = list(server.connections)
        if transports and not any(transport.is_reading() for transport in transports):
            return max(transport.get_write_buffer_size() for transport in transports)
        time.sleep(0.05)
    raise AssertionError(f"{server.name} never stopped reading")
