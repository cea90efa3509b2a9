"""Several lab services at once: :class:`Lab`, :func:`start_all`, and :func:`running`.

:func:`running` is for synchronous callers (tests, recipes, the REPL): it
runs the services on an event loop in a background thread and stops them
when the ``with`` block ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from netbench.lab.base import LabServer, Log
from netbench.lab.catalog import SERVICES, parse_spec
from netbench.lab.services import start

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

Spec = str | tuple[str, int]


class Lab:
    """Running lab servers; ``lab["http"]`` is the first server of that service."""

    def __init__(self, servers: Sequence[LabServer]) -> None:
        self.servers: tuple[LabServer, ...] = tuple(servers)

    def __getitem__(self, name: str) -> LabServer:
        for server in self.servers:
            if server.name == name:
                return server
        running = ", ".join(server.name for server in self.servers) or "none"
        raise KeyError(f"lab service {name!r} is not running (running: {running})")

    def __contains__(self, name: object) -> bool:
        return any(server.name == name for server in self.servers)

    def __iter__(self) -> Iterator[LabServer]:
        return iter(self.servers)

    def __len__(self) -> int:
        return len(self.servers)

    async def close(self) -> None:
        """Stop every server (listeners and open connections)."""
        for server in self.servers:
            await server.close()

    def __repr__(self) -> str:
        return f"<Lab {', '.join(f'{s.name}@{s.address}' for s in self.servers)}>"


def _specs(specs: Iterable[Spec]) -> list[tuple[str, int]]:
    parsed = [parse_spec(spec if isinstance(spec, str) else f"{spec[0]}:{spec[1]}") for spec in specs]
    return parsed or [(name, 0) for name in SERVICES]


async def start_all(specs: Iterable[Spec] = (), host: str = "127.0.0.1", *, log: Log | None = None) -> Lab:
    """Start each ``"name"``/``"name:port"`` (or ``(name, port)``); none = every service.

    *log*, when given, receives one line per connection, datagram or request.

    Either all start or none stays running: on an error the ones already
    started are closed and the error (a :class:`~netbench.errors.UsageError`)
    propagates.
    """
    started: list[LabServer] = []
    try:
        for name, port in _specs(specs):
            started.append(await start(name, host, port, log=log))
    except BaseException:
        for server in started:
            await server.close()
        raise
    return Lab(started)


@contextmanager
def running(*specs: Spec, host: str = "127.0.0.1", log: Log | None = None) -> Iterator[Lab]:
    """Run lab services in a background thread for the duration of a ``with`` block.

    ``with running("http", "echo:9007") as lab: lab["http"].port``. Returns
    once every service listens; no specs = every service on free ports.
    Errors starting (unknown service, port in use) are raised here. *log*
    is called (from the lab's thread) with one line per connection or request.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="netbench-lab", daemon=True)
    thread.start()
    try:
        lab = asyncio.run_coroutine_threadsafe(start_all(specs, host, log=log), loop).result(START_TIMEOUT)
        try:
            yield lab
        finally:
            asyncio.run_coroutine_threadsafe(lab.close(), loop).result(STOP_TIMEOUT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT)
        if not thread.is_alive():
            loop.close()
