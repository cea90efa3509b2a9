"""The one dialer and the one resolver, on loopback: every caller connects and fails alike."""

from __future__ import annotations

import asyncio
import socket

import pytest

from netbench.core.address import Target
from netbench.errors import NetbenchError, Refused, TargetError, TimedOut
from netbench.net.dial import deadline_after, dial, race
from netbench.net.resolve import connect_order, resolve_host
from netbench.net.session import open_session
from tests.support.peers import free_port
from tests.support.sockets import full_backlog
from tests.test_targets import run_cli


@pytest.fixture
def listener() -> socket.socket:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


def test_race_moves_past_a_silent_address(listener: socket.socket) -> None:
    # The first address never answers (a full backlog drops the SYN): happy eyeballs starts the
    # second one after the attempt delay instead of spending the whole timeout on the first.
    with full_backlog() as silent:
        addresses = [(socket.AF_INET, ("127.0.0.1", silent)), (socket.AF_INET, listener.getsockname())]
        with race(addresses, deadline_after(8)) as sock:
            assert sock.getpeername() == listener.getsockname()
            assert sock.gettimeout() is None


def test_race_moves_past_a_refused_address(listener: socket.socket) -> None:
    addresses = [(socket.AF_INET, ("127.0.0.1", free_port())), (socket.AF_INET, listener.getsockname())]
    with race(addresses, deadline_after(5)) as sock:
        assert sock.getpeername() == listener.getsockname()


def test_race_reports_the_failure_when_every_address_fails() -> None:
    addresses = [(socket.AF_INET, ("127.0.0.1", free_port())), (socket.AF_INET, ("127.0.0.1", free_port()))]
    with pytest.raises(ConnectionRefusedError):
        race(addresses, deadline_after(5))


def test_race_times_out_when_no_address_answers() -> None:
    with full_backlog() as one, full_backlog() as two:
        addresses = [(socket.AF_INET, ("127.0.0.1", one)), (socket.AF_INET, ("127.0.0.1", two))]
        with pytest.raises(TimeoutError):
            race(addresses, deadline_after(0.6))


def test_connect_order_alternates_families() -> None:
    v4a, v4b = (socket.AF_INET, ("127.0.0.1", 1)), (socket.AF_INET, ("127.0.0.2", 1))
    v6a, v6b = (socket.AF_INET6, ("::1", 1, 0, 0)), (socket.AF_INET6, ("::2", 1, 0, 0))
    assert connect_order([v6a, v6b, v4a, v4b]) == [v6a, v4a, v6b, v4b]
    assert connect_order([v6a, v6b, v4a, v4b], prefer_ipv4=True) == [v4a, v6a, v4b, v6b]
    assert connect_order([v6a], prefer_ipv4=True) == [v6a]


def test_dial_sets_nodelay_and_blocking(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    with dial(Target("tcp", "127.0.0.1", port), timeout=5) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.gettimeout() is None


def test_asyncio_sessions_use_the_same_socket_options(listener: socket.socket) -> None:
    port = listener.getsockname()[1]

    async def main() -> None:
        session = await open_session(Target("tcp", "127.0.0.1", port), timeout=5)
        sock = session.transport.writer.get_extra_info("socket")  # type: ignore[attr-defined]
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        await session.close()

    asyncio.run(asyncio.wait_for(main(), 10))


def _failure_of_every_caller(target: Target, timeout: float) -> list[NetbenchError]:
    """What the blocking dialer, the asyncio session and the HTTP client raise for *target*."""
    from netbench.net.http_client import HttpClient

    failures: list[NetbenchError] = []
    with pytest.raises(NetbenchError) as caught:
        dial(target, timeout=timeout)
    failures.append(caught.value)
    with pytest.raises(NetbenchError) as caught:
        asyncio.run(asyncio.wait_for(open_session(target, timeout=timeout), 10))
    failures.append(caught.value)
    with pytest.raises(NetbenchError) as caught, HttpClient(target, timeout=timeout) as client:
        client.request("GET", "/", [])
    failures.append(caught.value)
    return failures


def test_every_caller_words_a_connect_timeout_alike() -> None:
    with full_backlog() as port:
        failures = _failure_of_every_caller(Target("tcp", "127.0.0.1", port), 0.4)
    assert {type(f) for f in failures} == {TimedOut}
    assert {str(f) for f in failures} == {f"timed out connecting to 127.0.0.1:{port}"}


def test_every_caller_words_a_refusal_alike() -> None:
    failures = _failure_of_every_caller(Target("tcp", "127.0.0.1", free_port()), 5)
    assert {type(f) for f in failures} == {Refused}
    assert len({str(f) for f in failures}) == 1


@pytest.mark.parametrize(
    ("host", "status", "words"),
    [
        ("a..b", 2, "invalid host name 'a..b'"),
        ("no-such-host.invalid", 3, "cannot resolve 'no-such-host.invalid'"),
    ],
)
def test_connect_and_scan_agree_on_a_bad_host(host: str, status: int, words: str) -> None:
    connect = run_cli(["connect", host, "80"])
    scan = run_cli(["scan", host, "-p", "80"])
    assert connect[0] == scan[0] == status
    assert words in connect[2] and connect[2] == scan[2], (connect, scan)
    assert connect[2].count("\n") == 1


def test_resolver_errors() -> None:
    with pytest.raises(TargetError):
        resolve_host("a..b", 80)
    with pytest.raises(Refused):
        resolve_host("no-such-host.invalid", 80)
    assert resolve_host("127.0.0.1", None) == [(socket.AF_INET, ("127.0.0.1", 0))]
