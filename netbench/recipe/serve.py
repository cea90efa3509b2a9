"""The mock server: a recipe plays the *server* side (``netbench serve``).

For each step the server waits for what the client sends (loosely matched,
see :mod:`netbench.recipe.script`), answers with the step's ``reply``, waits
for the client's half-close on ``close: write``, and closes after a reply
whose ``expect`` says ``closed``. A ``close: both`` step ends a connection;
the next connection goes on from the step after it. With ``keep`` the
server accepts connections until stopped (the script starts over when it
ends); without, it stops after one full run of the script. A mismatch is
logged and ends that connection, so the client's replay fails. A
connection that closes without sending a byte (a port probe, a readiness
check) is no client of the recipe: it is logged and the server waits on.

It runs on the lab's server base (:mod:`netbench.lab.base`: one listener,
one accept loop, one graceful close), one
:class:`~netbench.lab.conversation.Conversation` per connection. An HTTP
request is framed by h11's server side
(:func:`netbench.lab.request_reader.read_request`): CRLF or LF line ends,
chunked bodies with extensions and trailers, bodies capped at 16 MiB on the
wire and after gzip/deflate decoding.

It binds loopback (127.0.0.1) unless told otherwise. A recipe whose target
is ``udp://`` is served over UDP (each datagram answers the next send
step); every other recipe over plain TCP (a ``tls://`` recipe too: replay
it with ``--target tcp://HOST:PORT``).
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from netbench.core.address import host_port
from netbench.core.escape import quote
from netbench.lab.base import DatagramBase, LabServer, serve
from netbench.lab.conversation import Conversation
from netbench.lab.request_reader import ClosedEarly, RequestProblem, TooBig, read_request
from netbench.recipe.engine import make_context
from netbench.recipe.model import Recipe
from netbench.recipe.script import Move, Request, moves

WAIT = 30.0
READ_SIZE = 65536
STOP_WAIT = 2.0  # seconds close() gives the connections' coroutines to end


class _Outcome(enum.Enum):
    NEXT = "the step was played"
    CLOSE = "the step ends the connection, as the recipe says"
    FAILED = "a mismatch (recorded)"
    ENDED = "the client broke the connection off"
    PROBE = "the client closed without sending a byte"


def _difference(request: Request, received: bytes) -> str:
    """One line: what the client should have sent and what it sent."""
    if request.http:
        got = received.split(b"\n", 1)[0].rstrip(b"\r")
        return f"expected request line {quote(request.request_line)}, received {quote(got)}"
    wanted = request.data if request.data is not None else request.template
    return f"expected {quote(wanted)}, received {quote(received)}"


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
        self.probes = 0
        self.position = 0
        self._server: LabServer | None = None
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def address(self) -> str:
        return host_port(self.host, self.port)

    def summary(self) -> str:
        """``served 2 connections, 1 mismatch`` (and the probes, when there were any)."""
        probes = f", {self.probes} probe{'s' * (self.probes != 1)}" if self.probes else ""
        count = len(self.mismatches)
        return (
            f"served {self.connections} connection{'s' * (self.connections != 1)}{probes}, "
            f"{count} mismatch{'es' * (count != 1)}"
        )

    # -- script --------------------------------------------------------------

    def _script(self) -> list[Move]:
        """The moves of the next connection: up to the first that ends a connection."""
        if self.position >= len(self.moves):
            self.position = 0
        script = []
        for move in self.moves[self.position :]:
            script.append(move)
            if move.end_of_connection or move.close_after:
                break
        return script

    def _problem(self, move: Move, message: str) -> None:
        text = f"step {move.index} (line {move.step.line}): {message}"
        self.mismatches.append(text)
        self.log(f"mismatch: {text}")

    def _finish(self) -> None:
        if not self.keep and self._stop is not None:
            self._stop.set()

    # -- TCP -----------------------------------------------------------------

    async def _converse(self, conversation: Conversation) -> None:
        """Play the next part of the script on one connection."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peer = conversation.transport.get_extra_info("peername")
        who = host_port(peer[0], peer[1]) if peer else "?"
        self.connections += 1
        self.log(f"connection {self.connections} from {who}")
        script = self._script()
        start = mine = self.position
        outcome = _Outcome.NEXT
        try:
            for move in script:
                outcome = await self._play(move, conversation)
                if outcome is _Outcome.PROBE:
                    self.connections -= 1
                    self.probes += 1
                    if self.position == mine:  # no other connection moved on meanwhile
                        self.position = start
                    self.log(f"{who} closed without sending anything (a port probe?); still waiting")
                    return
                if outcome is _Outcome.FAILED or outcome is _Outcome.ENDED:
                    self.position = script[-1].index  # the next connection goes on after this part
                    break
                self.position = mine = move.index
                if outcome is _Outcome.CLOSE:
                    break
        finally:
            if task is not None:
                self._tasks.discard(task)
        if outcome is _Outcome.FAILED or (outcome is not _Outcome.ENDED and self.position >= len(self.moves)):
            self._finish()

    async def _play(self, move: Move, conversation: Conversation) -> _Outcome:
        request = move.request
        if request is not None:
            try:
                async with asyncio.timeout(WAIT):
                    received = await self._read(request, conversation)
            except TimeoutError:
                self._problem(move, f"the client sent nothing for {WAIT:g} s")
                return _Outcome.FAILED
            except (ConnectionResetError, RequestProblem) as error:
                if not conversation.received_any and not isinstance(error, TooBig):
                    return _Outcome.PROBE
                if isinstance(error, ConnectionResetError):
                    self.log(f"connection ended: {error}")
                    return _Outcome.ENDED
                self._problem(move, f"gave up: {error}" if isinstance(error, TooBig) else str(error))
                return _Outcome.FAILED
            if not request.matches(received):
                self._problem(move, _difference(request, received))
                return _Outcome.FAILED
        if move.wait_eof and not await self._half_close(move, conversation):
            return _Outcome.FAILED
        if move.reply:
            try:
                async with asyncio.timeout(WAIT):
                    await conversation.send(move.reply)
            except TimeoutError:
                self._problem(move, f"the client read nothing for {WAIT:g} s")
                return _Outcome.FAILED
            except ConnectionResetError as error:
                self.log(f"connection ended: {error}")
                return _Outcome.ENDED
        return _Outcome.CLOSE if move.close_after or move.end_of_connection else _Outcome.NEXT

    async def _read(self, request: Request, conversation: Conversation) -> bytes:
        """What the client sent for *request*: a whole HTTP request's line, or the raw bytes."""
        if request.http:
            return (await read_request(conversation)).line
        if request.data is None:
            data = await conversation.receive()
            if not data:
                raise ClosedEarly(b"")
            return data
        wanted = len(request.data)
        got = bytearray()
        while len(got) < wanted:
            data = await conversation.receive()
            if not data:
                raise ClosedEarly(bytes(got))
            got += data
        conversation.unread(bytes(got[wanted:]))
        return bytes(got[:wanted])

    async def _half_close(self, move: Move, conversation: Conversation) -> bool:
        """Wait for the client's EOF, throwing away what it still sends."""
        try:
            async with asyncio.timeout(WAIT):
                while await conversation.receive():
                    pass
        except TimeoutError:
            self._problem(move, "the client did not half-close")
            return False
        except ConnectionResetError:
            self._problem(move, "the client reset the connection instead of half-closing")
            return False
        return True

    # -- UDP -----------------------------------------------------------------

    def _datagram(self, data: bytes, addr: Any, answer: Callable[[bytes, Any], None]) -> None:
        sends = [m for m in self.moves if m.request is not None]
        if not sends:
            return
        move = sends[self.position % len(sends)]
        self.position += 1
        if move.request is not None and not move.request.matches(data):
            self._problem(move, _difference(move.request, data))
            return
        if move.reply:
            answer(move.reply, addr)
        if self.position % len(sends) == 0:
            self._finish()

    # -- running -------------------------------------------------------------

    async def start(self) -> str:
        """Bind and start serving; return ``HOST:PORT``.

        A port that cannot be bound raises :class:`~netbench.errors.UsageError`.
        """
        self._stop = asyncio.Event()
        label = "serve"
        if self.udp:
            server = self

            class Datagrams(DatagramBase):
                def datagram_received(self, data: bytes, addr: Any) -> None:
                    server._datagram(data, addr, self.answer)

            self._server = await serve("serve", self.host, self.port, None, Datagrams, label=label)
        else:
            converse = self._converse
            self._server = await serve(
                "serve", self.host, self.port, lambda known: Conversation(known, converse), None, label=label
            )
        self.port = self._server.port
        return self.address

    async def wait(self) -> None:
        """Until one full run of the script is done (or forever with ``keep``), or :meth:`stop`."""
        assert self._stop is not None
        await self._stop.wait()

    def stop(self) -> None:
        """Make :meth:`wait` return (from the server's event loop), as after a full run."""
        if self._stop is not None:
            self._stop.set()

    async def close(self) -> None:
        """Stop listening, close every connection and let their coroutines end."""
        if self._server is not None:
            await self._server.close()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=STOP_WAIT)

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
