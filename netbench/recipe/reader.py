"""Reading a step's answer from a stream session: one deadline, a size cap.

The runner keeps its own :class:`~netbench.core.buffer.ReceiveBuffer` on top
of :meth:`Session.receive_some`, so bytes read past one answer (the start
of the next HTTP response, the rest of a line) stay for the next step, and
a hostile peer (an endless body, chargen against ``contains``) costs at
most :data:`MAX_ANSWER` bytes of memory before the step fails.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from netbench.core.buffer import ReceiveBuffer
from netbench.errors import Reset, TimedOut
from netbench.recipe.result import StepFailed

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse, ResponseParser
    from netbench.net.session import Session

MAX_ANSWER = 16 * 1024 * 1024
KEEP_WHEN_DISCARDING = 64 * 1024
T = TypeVar("T")


class StreamReader:
    """Receives from one session for the steps of a run."""

    def __init__(self, session: Session, cap: int = MAX_ANSWER) -> None:
        self.session = session
        self.buffer = ReceiveBuffer()
        self.cap = cap
        self.eof = False

    async def _more(self, deadline: float, what: str) -> None:
        if self.eof:
            raise Reset(
                f"{self.session.target.display} closed the connection before {what}",
                partial=self.buffer.peek(),
            )
        size = len(self.buffer)
        if size > self.cap:
            raise StepFailed(
                f"gave up: {what} did not arrive in the first {size // (1024 * 1024)} MiB",
                received=self.buffer.peek()[:KEEP_WHEN_DISCARDING],
            )
        data = await self._receive(deadline, self.buffer.peek)
        if data:
            self.buffer.feed(data)

    async def _receive(self, deadline: float, partial: Callable[[], bytes]) -> bytes:
        """The next bytes before *deadline*; ``b""`` marks EOF in :attr:`eof`.

        A timeout raises :class:`TimedOut` carrying ``partial()``: what the
        step has received so far (only computed when it is needed).
        """
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimedOut("timed out", partial=partial())
        try:
            data = await self.session.receive_some(remaining)
        except TimedOut:
            raise TimedOut("timed out", partial=partial()) from None
        if not data:
            self.eof = True
        return data

    async def take(self, take: Callable[[], T | None], deadline: float, what: str) -> T:
        while True:
            piece = take()
            if piece is not None:
                return piece
            await self._more(deadline, what)

    async def exactly(self, count: int, deadline: float) -> bytes:
        return await self.take(lambda: self.buffer.take_exactly(count), deadline, f"{count} bytes")

    async def until(self, delimiter: bytes, deadline: float) -> bytes:
        return await self.take(lambda: self.buffer.take_until(delimiter), deadline, "the expected text")

    async def line(self, deadline: float) -> bytes:
        return await self.take(self.buffer.take_line, deadline, "a full line")

    async def match(self, pattern: re.Pattern[bytes], deadline: float) -> bytes:
        def take() -> bytes | None:
            data = self.buffer.peek()
            found = pattern.search(data)
            if found is None:
                return None
            return self.buffer.take_exactly(found.end())

        return await self.take(take, deadline, "a match")

    async def until_eof(self, deadline: float) -> bytes:
        """Everything until the peer closes; past the cap only the first bytes are kept."""
        kept = bytearray(self.buffer.take_all())
        while not self.eof:
            data = await self._receive(deadline, lambda: bytes(kept))
            if data and len(kept) < KEEP_WHEN_DISCARDING:
                kept.extend(data)
        return bytes(kept)

    async def response(self, parser: ResponseParser, deadline: float) -> HttpResponse:
        """One HTTP response; bytes after it stay buffered."""
        response = parser.feed(self.buffer.take_all()) if len(self.buffer) else None
        size = 0
        while response is None:
            if self.eof:
                response = parser.feed_eof()
                break
            if size > self.cap:
                raise StepFailed(
                    f"the response is larger than {self.cap // (1024 * 1024)} MiB",
                    received=parser.raw[:KEEP_WHEN_DISCARDING],
                )
            data = await self._receive(deadline, lambda: parser.raw)
            if not data:
                continue
            size += len(data)
            response = parser.feed(data)
        if parser.leftover:
            self.buffer.feed(parser.leftover)
        assert response is not None  # feed_eof returns a response or raises
        return response
