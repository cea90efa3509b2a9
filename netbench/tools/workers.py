"""Split a big TCP scan across forked worker processes (one per CPU).

A connect scan on a fast path is bound by the CPU: the kernel's work for
each connect plus Python's. With several cores, each forked worker scans
an interleaved share of the ports with its own epoll engine and sends its
verdicts back through a pipe. Forking is only done from the main thread
of a process with no other threads (the CLI), never from the REPL, whose
event loop and threads must not be forked.

Wire format from a worker: one line per verdict that is not a plain
refusal (``PORT STATE REASON``), then a line ``refused N`` followed by N
ports packed as unsigned 16-bit integers, then ``interrupted 0|1``.
"""

from __future__ import annotations

import array
import os
import signal
import threading
from collections.abc import Sequence

from netbench.tools.engine import ProbeOutcome, Progress, probe_tcp

MIN_PORTS_PER_WORKER = 4096


def worker_count(ports: int, wanted: int | None = None) -> int:
    """How many processes to use for *ports* ports (1 means no forking).

    *wanted* (``--workers``) is obeyed up to one port per worker; by default
    one per CPU (at most 4), each with at least 4096 ports.
    """
    if not hasattr(os, "fork") or threading.current_thread() is not threading.main_thread():
        return 1
    if threading.active_count() > 1:
        return 1
    if wanted is not None:
        return max(1, min(wanted, ports))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, 4, ports // MIN_PORTS_PER_WORKER))


def encode(outcome: ProbeOutcome) -> bytes:
    """A worker's outcome as bytes (see the module docstring)."""
    refused = array.array("H")
    lines = []
    for port, (state, reason) in outcome.verdicts.items():
        if reason == "conn-refused":
            refused.append(port)
        else:
            lines.append(f"{port} {state} {reason}\n")
    head = "".join(lines) + f"refused {len(refused)}\n"
    return head.encode() + refused.tobytes() + f"\ninterrupted {int(outcome.interrupted)}\n".encode()


def decode(data: bytes, into: ProbeOutcome) -> None:
    """Merge a worker's bytes into *into*; a truncated message counts as interrupted."""
    position = 0
    while True:
        end = data.find(b"\n", position)
        if end == -1:
            into.interrupted = True
            return
        line = data[position:end].decode()
        position = end + 1
        if line.startswith("refused "):
            count = int(line.split()[1])
            body = data[position : position + 2 * count]
            if len(body) != 2 * count:
                into.interrupted = True
                body = body[: len(body) // 2 * 2]
            packed = array.array("H")
            packed.frombytes(body)
            for port in packed:
                into.verdicts[port] = ("closed", "conn-refused")
            position += 2 * count + 1
            break
        port_text, state, reason = line.split(" ", 2)
        into.verdicts[int(port_text)] = (state, reason)
    tail = data[position:].decode(errors="replace").split()
    if len(tail) != 2 or tail[1] != "0":
        into.interrupted = True


def _interrupt(children: list[tuple[int, int]]) -> None:
    for pid, _read_end in children:
        try:
            os.kill(pid, signal.SIGINT)
        except OSError:
            pass


def probe_tcp_forked(
    family: int,
    sockaddr: tuple,
    ports: Sequence[int],
    *,
    workers: int,
    timeout: float = 1.0,
    retries: int = 1,
    window: int = 2048,
    rate: float | None = None,
    progress: Progress | None = None,
) -> ProbeOutcome:
    """:func:`~netbench.tools.engine.probe_tcp` over *workers* processes (this one included).

    Window and rate are shared out evenly. Progress is reported from this
    process's share, scaled to the whole.
    """
    if workers <= 1:
        return probe_tcp(
            family,
            sockaddr,
            ports,
            timeout=timeout,
            retries=retries,
            window=window,
            rate=rate,
            progress=progress,
        )
    share_window = max(1, window // workers)
    share_rate = rate / workers if rate is not None else None
    children: list[tuple[int, int]] = []
    for index in range(1, workers):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: scan, report, leave without running any exit handler
            status = 0
            try:
                os.close(read_end)
                outcome = probe_tcp(
                    family,
                    sockaddr,
                    ports[index::workers],
                    timeout=timeout,
                    retries=retries,
                    window=share_window,
                    rate=share_rate,
                )
                payload = encode(outcome)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(write_end)
        children.append((pid, read_end))

    def scaled(done: int, total: int, opened: int) -> None:
        if progress is not None:
            progress(min(len(ports), done * workers), len(ports), opened)

    result = ProbeOutcome()
    consumed: set[int] = set()
    try:
        mine = probe_tcp(
            family,
            sockaddr,
            ports[0::workers],
            timeout=timeout,
            retries=retries,
            window=share_window,
            rate=share_rate,
            progress=scaled if progress else None,
        )
        result.verdicts.update(mine.verdicts)
        result.interrupted = mine.interrupted
        if mine.interrupted:  # Ctrl-C may have reached this process only: stop the others
            _interrupt(children)
        for _pid, read_end in children:
            chunks = []
            consumed.add(read_end)
            with os.fdopen(read_end, "rb") as source:
                while chunk := source.read(1 << 16):
                    chunks.append(chunk)
            decode(b"".join(chunks), result)
    except KeyboardInterrupt:
        result.interrupted = True
        _interrupt(children)
    finally:
        for pid, read_end in children:
            if read_end not in consumed:
                os.close(read_end)
            try:
                os.waitpid(pid, 0)
            except (ChildProcessError, InterruptedError, KeyboardInterrupt):
                pass
    return result
