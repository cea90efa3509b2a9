"""The asyncio session engine on real loopback sockets: TCP, unix, UDP.

Each test runs its own event loop with small local servers; every wait has
a deadline.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from netbench.core.address import Target
from netbench.core.transcript import Closed, Eof, Exchange, HalfClosed, Opened, Received, Sent
from netbench.errors import Refused, Reset, SessionClosed, TimedOut
from netbench.net.session import open_session
from tests.support.peers import free_port
from tests.support.sockets import full_backlog

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))  # type: ignore[arg-type]


async def serve_tcp(handler: Handler) -> tuple[asyncio.Server, Target]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, Target("tcp", "127.0.0.1", port)


async def echo_until_eof_then_bye(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    data = await reader.read()  # until our half-close
    writer.write(b"got " + str(len(data)).encode() + b" bytes, bye\n")
    await writer.drain()
    writer.close()


async def line_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        writer.write(line.upper())
        await writer.drain()
    writer.close()


def test_tcp_send_receive_half_close_and_transcript() -> None:
    async def main() -> None:
        server, target = await serve_tcp(echo_until_eof_then_bye)
        async with server:
            session = await open_session(target, timeout=5)
            assert session.state == "open"
            await session.send(b"hello ")
            await session.send(b"world")
            await session.send_eof()
            assert session.state == "half-closed"
            with pytest.raises(SessionClosed):
                await session.send(b"more")
            reply = await session.receive_until_eof(timeout=5)
            assert reply == b"got 11 bytes, bye\n"
            assert session.peer_closed
            assert await session.receive_some(timeout=1) == b""  # EOF stays EOF
            await session.close()
            await session.close()  # idempotent
            kinds = [type(event) for event in session.transcript]
            assert kinds[0] is Opened and kinds[-1] is Closed
            assert kinds.index(HalfClosed) < kinds.index(Received) < kinds.index(Eof)
            assert session.transcript.sent() == b"hello world"
            assert session.transcript.bytes_received == len(reply)
            half_closed = next(e for e in session.transcript if isinstance(e, HalfClosed))
            assert session.transcript.exchanges() == [
                Exchange(b"hello world", b""),
                half_closed,
                Exchange(b"", reply, closed=True),
            ]
            times = [event.time for event in session.transcript]
            assert times == sorted(times)
            assert session.last_rtt is not None and session.last_rtt >= 0
            with pytest.raises(SessionClosed):
                await session.receive_some(timeout=1)

    run(main())


def test_receive_vocabulary() -> None:
    async def main() -> None:
        server, target = await serve_tcp(line_echo)
        async with server, await open_session(target, timeout=5) as session:
            await session.send(b"one\r\ntwo\nthree;four\n")
            assert await session.receive_line(timeout=5) == b"ONE"
            assert await session.receive_until(b"\n", timeout=5) == b"TWO\n"
            assert await session.receive_exactly(5, timeout=5) == b"THREE"
            match = await session.receive_match(re.compile(rb";(\w+)\n"), timeout=5)
            assert match.group(1) == b"FOUR"
            assert session.buffered() == b""

    run(main())


def test_timeout_raises_with_partial_data_never_empty_bytes() -> None:
    async def silent_after_hello(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"partial")
        await writer.drain()
        await reader.read()  # holds the connection open until the client goes
        writer.close()

    async def main() -> None:
        server, target = await serve_tcp(silent_after_hello)
        async with server, await open_session(target, timeout=5) as session:
            with pytest.raises(TimedOut) as caught:
                await session.receive_line(timeout=0.3)
            assert caught.value.partial == b"partial"
            assert caught.value.status == 4
            assert await session.receive_some(timeout=1) == b"partial"  # nothing was lost
            with pytest.raises(TimedOut):
                await session.receive_some(timeout=0.2)

    run(main())


def test_peer_closing_mid_read_is_reset_with_partial() -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"only this")
        await writer.drain()
        writer.close()

    async def main() -> None:
        server, target = await serve_tcp(short)
        async with server, await open_session(target, timeout=5) as session:
            with pytest.raises(Reset) as caught:
                await session.receive_exactly(100, timeout=5)
            assert caught.value.partial == b"only this"

    run(main())


def test_connection_reset_by_peer() -> None:
    async def main() -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        target = Target("tcp", "127.0.0.1", listener.getsockname()[1])
        session = await open_session(target, timeout=5)
        loop = asyncio.get_running_loop()
        conn, _ = await asyncio.wait_for(loop.sock_accept(listener), 5)
        await session.send(b"x")
        await asyncio.sleep(0.05)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST
        listener.close()
        with pytest.raises(Reset) as caught:
            await session.receive_some(timeout=5)
        assert caught.value.status == 5
        assert session.state == "error"
        assert session.transcript.events[-1].kind == "Reset"  # type: ignore[union-attr]
        await session.close()

    run(main())


def test_connect_refused() -> None:
    async def main() -> None:
        with pytest.raises(Refused) as caught:
            await open_session(Target("tcp", "127.0.0.1", free_port()), timeout=5)
        assert caught.value.status == 3

    run(main())


def test_connect_timeout_on_full_backlog() -> None:
    async def main() -> None:
        with full_backlog() as port, pytest.raises(TimedOut):
            await open_session(Target("tcp", "127.0.0.1", port), timeout=0.5)

    run(main())


def test_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "echo.sock")

    async def main() -> None:
        server = await asyncio.start_unix_server(line_echo, path)
        async with server, await open_session(Target("unix", path=path), timeout=5) as session:
            await session.send(b"unix\n")
            assert await session.receive_line(timeout=5) == b"UNIX"
            await session.send_eof()
            assert await session.receive_until_eof(timeout=5) == b""

    run(main())


class _UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(data[::-1], addr)


def test_udp_datagrams() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(_UdpEcho, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        try:
            async with await open_session(Target("udp", "127.0.0.1", port), timeout=5) as session:
                await session.send(b"abc")
                await session.send(b"defg")
                assert await session.receive_some(timeout=5) == b"cba"  # one datagram each
                assert await session.receive_some(timeout=5) == b"gfed"
                with pytest.raises(TimedOut):
                    await session.receive_some(timeout=0.2)
                events = [type(event) for event in session.transcript]
                assert events.count(Sent) == 2 and events.count(Received) == 2
        finally:
            transport.close()

    run(main())


def test_udp_to_closed_port_is_refused() -> None:
    async def main() -> None:
        session = await open_session(Target("udp", "127.0.0.1", free_port()), timeout=5)
        await session.send(b"anyone?")
        with pytest.raises(Refused):
            await session.receive_some(timeout=5)
        await session.close()

    run(main())


def test_udp_empty_datagram_is_not_end_of_file() -> None:
    async def main() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.settimeout(5)
            session = await open_session(Target("udp", "127.0.0.1", peer.getsockname()[1]), timeout=5)
            await session.send(b"hi")
            _data, address = await asyncio.to_thread(peer.recvfrom, 100)
            peer.sendto(b"", address)
            peer.sendto(b"after", address)
            assert await session.receive_some(timeout=5) == b"after"
            assert not session.peer_closed
            await session.close()

    run(main())


def test_blocking_and_asyncio_sessions_speak_one_vocabulary() -> None:
    """The same bytes give the same pieces and the same failure in both sessions."""
    from netbench.core.buffer import exactly, line, match, until
    from netbench.net.blocking import open_blocking

    script = b"+OK ready\r\nkey=value;tail-12345;half a li"
    wants = [line(), until(b";"), match(re.compile(rb"tail-(\d+);")), exactly(4)]

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for start in range(0, len(script), 7):  # in pieces, as a network delivers
            writer.write(script[start : start + 7])
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.close()

    def shown(piece: object) -> object:
        return piece.group(0) if isinstance(piece, re.Match) else piece

    async def with_asyncio(target: Target) -> tuple[list[object], str]:
        session = await open_session(target, timeout=5)
        pieces = [shown(await session.receive(want, 5)) for want in wants]
        with pytest.raises(Reset) as caught:
            await session.receive(line(), 5)
        await session.close()
        return pieces, str(caught.value)

    def with_blocking(target: Target) -> tuple[list[object], str]:
        import time

        with open_blocking(target, timeout=5) as session:
            pieces = [shown(session.receive(want, time.monotonic() + 5)) for want in wants]
            with pytest.raises(Reset) as caught:
                session.receive(line(), time.monotonic() + 5)
        return pieces, str(caught.value)

    async def main() -> None:
        server, target = await serve_tcp(talk)
        async with server:
            by_asyncio = await with_asyncio(target)
            by_blocking = await asyncio.to_thread(with_blocking, target)
        assert by_asyncio == by_blocking
        assert by_asyncio[0] == [b"+OK ready", b"key=value;", b"tail-12345;", b"half"]
        assert "closed the connection before a full line arrived (5 bytes received)" in by_asyncio[1]

    run(main())


def test_blocking_session_timeout_carries_the_partial_data() -> None:
    import time

    from netbench.core.buffer import line
    from netbench.net.blocking import open_blocking

    async def silent_after_half(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"no newline")
        await writer.drain()
        await reader.read()

    async def main() -> None:
        server, target = await serve_tcp(silent_after_half)
        async with server:

            def blocking() -> None:
                with open_blocking(target, timeout=5) as session:
                    with pytest.raises(TimedOut) as caught:
                        session.receive(line(), time.monotonic() + 0.3)
                    assert caught.value.partial == b"no newline"
                    with pytest.raises(TimedOut):  # a deadline already past times out too
                        session.receive(line(), time.monotonic() - 1)

            await asyncio.to_thread(blocking)

    run(main())
