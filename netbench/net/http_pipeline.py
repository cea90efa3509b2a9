"""``netbench http --pipeline N``: up to N requests written before their answers are read.

:class:`PipelinedClient` writes body-less requests (GET, HEAD) ahead on the
connection of an :class:`~netbench.net.http_client.HttpClient`, built with
h11 by :class:`~netbench.core.http.HttpPipeline`, reads the answers in
order through the client's one read loop, and yields each
:class:`~netbench.net.http_client.Exchange` as its answer completes: the
same exchanges, in the same order, as one request at a time would give.

- At most ``depth`` requests and about :data:`MAX_AHEAD` bytes of requests
  are unanswered at once: that much fits in the socket buffers of both
  sides, so a write never waits on a server that is itself waiting for us
  to read its answers.
- The server ending keep-alive (``Connection: close``, HTTP/1.0), or an
  answer that leaves the connection unusable, is no failure: the requests
  it did not answer go again on a new connection. A server that answers one
  request per connection gets one at a time from then on.
- A connection that closes before any byte of an answer (the server's idle
  or request limit, unannounced) gets the unanswered requests written once
  more on a new connection, and later connections no more requests ahead
  than the closed one answered. The request whose answer never came is
  written at most twice; then its error is raised.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from netbench.core.http import HttpPipeline
from netbench.errors import Reset

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse
    from netbench.net.http_client import Exchange, HttpClient

MAX_AHEAD = 32 * 1024  # request bytes written ahead of their answers, about
DEFAULT_DEPTH = 16
PIPELINED_METHODS = frozenset({"GET", "HEAD"})  # safe to write again when a server closes


class Planned:
    """One request of a pipelined run: method, request target, headers (no body), and the
    URL it came from (for messages). A plain class: a dataclass costs start-up."""

    __slots__ = ("headers", "method", "target", "url")

    def __init__(self, method: str, target: str, headers: tuple[tuple[str, str], ...], url: str = "") -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.url = url

    def __repr__(self) -> str:
        return f"Planned({self.method!r}, {self.target!r}, {self.headers!r}, {self.url!r})"


class PipelinedClient:
    """Pipelined requests on one :class:`HttpClient`'s connections.

    ``on_send(request, unanswered)`` is called as each request is written,
    with the number of requests then written and not yet answered (``-v``).
    """

    def __init__(
        self,
        client: HttpClient,
        depth: int = DEFAULT_DEPTH,
        *,
        on_send: Callable[[Planned, int], object] | None = None,
    ) -> None:
        self.client = client
        self.depth = max(1, depth)
        self.on_send = on_send

    def run(
        self,
        requests: Sequence[Planned],
        *,
        sink: Callable[[bytes], object] | None = None,
        keep_raw: bool = True,
        on_head: Callable[[HttpResponse], object] | None = None,
        max_decoded: int | None = None,
    ) -> Iterator[Exchange]:
        """Write *requests* ahead and yield their exchanges in order (errors as the client's)."""
        client = self.client
        waiting: deque[tuple[int, Planned]] = deque(enumerate(requests))
        ahead: deque[tuple[int, Planned, bytes, float]] = deque()  # written, not answered
        writes = [0] * len(requests)
        http: HttpPipeline | None = None
        answered = 0  # on the current connection
        previous = client.clock()  # when the previous answer was complete
        while waiting or ahead:
            if http is None:  # a new connection, or an idle kept-alive one (checked clean)
                client.open()
                http, answered = HttpPipeline(), 0
            if len(ahead) <= self.depth // 2:  # refill by half a pipeline: one send, not one per answer
                self._write_ahead(http, waiting, ahead, writes)
            index, _request, data, written = ahead[0]
            client.last_request = data
            parser = http.parser(sink=sink, keep_raw=keep_raw, max_decoded=max_decoded)
            parser.on_head = on_head
            # An answer is due within the timeout of its request's write or of the previous
            # answer, whichever came later: a steady server is not timed out for being behind.
            start = max(written, previous)
            try:
                response = client.receive(parser, start)
            except Reset:
                if parser.raw_size or writes[index] > 1:
                    raise
                # Closed before any byte of this answer: every unanswered request goes again.
                self.depth = max(1, min(self.depth, answered))
                _requeue(waiting, ahead, writes, count_first=True)
                http = None
                continue
            ahead.popleft()
            answered += 1
            yield client.finish(data, parser, response, start)
            previous = client.clock()  # after the caller showed it
            if not http.reusable:
                client.close()
                if answered == 1 and ahead:
                    self.depth = 1  # one answer per connection: no use writing ahead
                _requeue(waiting, ahead, writes, count_first=False)
                http = None

    def _write_ahead(
        self,
        http: HttpPipeline,
        waiting: deque[tuple[int, Planned]],
        ahead: deque[tuple[int, Planned, bytes, float]],
        writes: list[int],
    ) -> None:
        """Write as many waiting requests as the depth and MAX_AHEAD allow, in one send."""
        client = self.client
        size = sum(len(item[2]) for item in ahead)
        batch: list[bytes] = []
        now = client.clock()
        while waiting and len(ahead) < self.depth and (not ahead or size < MAX_AHEAD):
            index, request = waiting.popleft()
            data = http.request(request.method, request.target, request.headers, host=client.host)
            ahead.append((index, request, data, now))
            writes[index] += 1
            size += len(data)
            batch.append(data)
            if self.on_send is not None:
                self.on_send(request, len(ahead))
        if batch:
            client.send(b"".join(batch))  # False: the server closed; read what it did answer


def _requeue(
    waiting: deque[tuple[int, Planned]],
    ahead: deque[tuple[int, Planned, bytes, float]],
    writes: list[int],
    *,
    count_first: bool,
) -> None:
    """Put the unanswered requests back in front of the waiting ones.

    Only the first (whose answer did not come, when *count_first*) keeps its
    write counted; the others never had their turn.
    """
    for position, (index, request, _data, _written) in enumerate(reversed(ahead)):
        if not (count_first and position == len(ahead) - 1):
            writes[index] -= 1
        waiting.appendleft((index, request))
    ahead.clear()
