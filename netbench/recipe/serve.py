"""The mock server: a recipe plays the *server* side (``netbench serve``).

For each step the server waits for what the client sends (loosely matched,
see :mod:`netbench.recipe.script`), answers with the step's ``reply``, waits
for the client's half-close on ``close: write``, and closes after a reply
whose ``expect`` says ``closed``. A ``close: both`` step ends a connection;
the next connection goes on from the step after it. With ``keep`` the
server accepts connections until stopped (the script starts over when it
ends); without, it stops after one full run of the script. A mismatch is
logged and ends that connection, so the client's replay fails.

It binds loopback (127.0.0.1) unless told otherwise. A recipe whose target
is ``udp://`` is served over UDP (each datagram answers the next send
step); every other recipe over plain TCP (a ``tls://`` recipe too: replay
it with ``--target tcp://HOST:PORT``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from netbench.core.escape import escape
from netbench.recipe.engine import make_context
from netbench.recipe.model import Recipe
from netbench.recipe.script import Move, Request, moves

WAIT = 30.0
MAX_HEAD = 64 * 1024
LIMIT = MAX_HEAD * 16  # the stream reader's limit: a request head (or chunked body) without its end
MAX_BODY = 16 * 1024 * 1024  # the most of a request body kept to compare, as replay caps an answer


class _TooBig(ValueError):
    """A request body larger than :data:`MAX_BODY`."""


def _show(data: bytes, limit: int = 60) -> str:
    text = escape(data, keep_newlines=False)
    return '"' + (text if len(text) <= limit else text[:limit] + "...") + '"'


def _difference(request: Request, received: bytes) -> str:
    """One line: what the client should have sent and what it sent."""
    if request.http:
        got = received.split(b"\n", 1)[0].rstrip(b"\r")
        return f"expected request line {_show(request.request_line)}, received {_show(got)}"
    wanted = request.data if request.data is not None else request.template
    return f"expected {_show(wanted)}, received {_show(received)}"


class MockServer:
    """Serves one recipe's replies on ``listen`` (``HOST:PORT``; port 0 = a free one)."""

    def __init__(
        self,
        recipe: Recipe,
        listen: str = "127.0.0.1:0",
        *,
        keep: bool = False,
        environ: Mapping[str, str] | None = None,
        variables: Mapping[str, str] | None = None,
        log: Callable[[str], object] | None = None,
    ) -> None:
        import os

        from netbench.core.address import parse_bind, parse_target

        self.recipe = recipe
        self.host, self.port = parse_bind(listen)
        self.keep = keep
        self.log = log or (lambda message: None)
        context = make_context(recipe, variables, os.environ if environ is None else environ)
        self.moves = moves(recipe, context)
        target = parse_target(context.expand_text(recipe.target)) if recipe.target else None
        self.udp = target is not None and target.transport == "udp"
        self.mismatches: list[str] = []
        self.connections = 0
        self.position = 0
        self._server: asyncio.AbstractServer | None = None
        self._udp: asyncio.DatagramTransport | None = None

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    # -- script --------------------------------------------------------------

    def _script(self) -> list[Move]:
        """The moves of the next connection: up to and including a ``close: both``."""
        if self.position >= len(self.moves):
            self.position = 0
        script = []
        for move in self.moves[self.position :]:
            script.append(move)
            if move.end_of_connection:
                break
        self.position += len(script)
        return script

    def _problem(self, move: Move, message: str) -> None:
        text = f"step {move.index} (line {move.step.line}): {message}"
        self.mismatches.append(text)
        self.log(f"mismatch: {text}")

    # -- TCP -----------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        peer = writer.get_extra_info("peername")
        self.log(f"connection {self.connections} from {peer[0]}:{peer[1]}" if peer else "connection")
        finished = False
        failures = len(self.mismatches)
        try:
            for move in self._script():
                if not await self._play(move, reader, writer):
                    return
            finished = self.position >= len(self.moves)
        except (ConnectionError, OSError) as error:
            self.log(f"connection ended: {error}")
        finally:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            except (OSError, TimeoutError):
                pass
            failed = len(self.mismatches) > failures
            if (finished or failed) and not self.keep and self._stop is not None:
                self._stop.set()

    async def _play(self, move: Move, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request = move.request
        if request is not None:
            try:
                received = await asyncio.wait_for(self._read_request(request, reader), WAIT)
            except TimeoutError:
                self._problem(move, f"the client sent nothing for {WAIT:g} s")
                return False
            except asyncio.IncompleteReadError as error:
                self._problem(move, f"the client closed after {_show(error.partial)}")
                return False
            except asyncio.LimitOverrunError:
                self._problem(move, f"gave up: the request did not end in the first {LIMIT // 1024} KiB")
                return False
            except _TooBig as error:
                self._problem(move, f"gave up: {error}")
                return False
            if not request.matches(received):
                self._problem(move, _difference(request, received))
                return False
        if move.wait_eof:
            try:
                await asyncio.wait_for(reader.read(), WAIT)
            except TimeoutError:
                self._problem(move, "the client did not half-close")
                return False
        if move.reply:
            writer.write(move.reply)
            try:
                await asyncio.wait_for(writer.drain(), WAIT)
            except TimeoutError:
                self._problem(move, f"the client read nothing for {WAIT:g} s")
                return False
        return not move.close_after

    async def _read_request(self, request: Request, reader: asyncio.StreamReader) -> bytes:
        if request.http:
            head = await reader.readuntil(b"\r\n\r\n")
            length, chunked = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip()
                if name == b"content-length" and value.isdigit():
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:  # up to the last chunk (a zero size line, then the empty line)
                body = b""
                while not (body == b"0\r\n\r\n" or body.endswith(b"\r\n0\r\n\r\n")):
                    body += await reader.readuntil(b"0\r\n\r\n")
                    if len(body) > MAX_BODY:
                        raise _TooBig(f"the chunked request body passed {MAX_BODY >> 20} MiB")
                return head + body
            if length > MAX_BODY:
                raise _TooBig(f"the request says Content-Length {length}, over {MAX_BODY >> 20} MiB")
            body = await reader.readexactly(length) if length else b""
            return head + body
        if request.data is not None:
            return await reader.readexactly(len(request.data))
        return await reader.read(65536)

    # -- UDP -----------------------------------------------------------------

    def _datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        sends = [m for m in self.moves if m.request is not None]
        if not sends:
            return
        move = sends[self.position % len(sends)]
        self.position += 1
        if move.request is not None and not move.request.matches(data):
            self._problem(move, _difference(move.request, data))
            return
        if move.reply and self._udp is not None:
            self._udp.sendto(move.reply, addr)
        if self.position % len(sends) == 0 and not self.keep and self._stop is not None:
            self._stop.set()

    # -- running -------------------------------------------------------------

    _stop: asyncio.Event | None = None

    async def start(self) -> str:
        """Bind and start serving; return ``HOST:PORT``."""
        self._stop = asyncio.Event()
        if self.udp:
            server = self

            class Protocol(asyncio.DatagramProtocol):
                def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                    server._datagram(data, addr)

            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(Protocol, local_addr=(self.host, self.port))
            self._udp = transport
            self.port = transport.get_extra_info("sockname")[1]
        else:
            self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=LIMIT)
            self.port = self._server.sockets[0].getsockname()[1]
        return self.address

    async def wait(self) -> None:
        """Until one full run of the script is done (or forever with ``keep``)."""
        assert self._stop is not None
        await self._stop.wait()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._udp is not None:
            self._udp.close()

    @contextmanager
    def in_thread(self) -> Iterator[str]:
        """Serve from a background thread for the ``with`` block; yield ``HOST:PORT``."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="netbench-serve", daemon=True)
        thread.start()
        try:
            address = asyncio.run_coroutine_threadsafe(self.start(), loop).result(10)
            try:
                yield address
            finally:
                asyncio.run_coroutine_threadsafe(self.close(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            if not thread.is_alive():
                loop.close()
