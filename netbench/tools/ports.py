"""``netbench ports`` and the REPL's ``/ports``: local sockets, via psutil.

:func:`list_sockets` returns :class:`~netbench.tools.socketview.SocketInfo`
rows with the owning process's pid, name and user where we may see them.
A socket whose owner we may not inspect keeps ``pid=None``; that is never
an error. Filtering and rendering are pure (:mod:`netbench.tools.socketview`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

import psutil

from netbench.tools import services
from netbench.tools.socketview import (
    CONNECTED,
    UNCONN,
    SocketInfo,
    hidden_note,
    next_step_hint,
    render_sockets,
    select_sockets,
    service_side,
    sockets_json,
)

__all__ = [
    "SocketInfo",
    "hidden_note",
    "is_root",
    "list_sockets",
    "next_step_hint",
    "render_sockets",
    "sockets_json",
]


def is_root() -> bool:
    """Whether we run with root's view of every process."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


class _Owners:
    """Process name and user per pid, looked up once each."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[str | None, str | None]] = {}

    def get(self, pid: int | None) -> tuple[str | None, str | None]:
        if pid is None:
            return None, None
        if pid not in self._cache:
            name = user = None
            try:
                process = psutil.Process(pid)
                name = process.name()
                user = process.username()
            except (psutil.Error, KeyError, OSError):
                pass
            self._cache[pid] = (name, user)
        return self._cache[pid]


def _raw_connections() -> list[tuple[Any, int | None]]:
    """psutil's inet connections with their pids; where the whole-system call
    is refused (macOS without root), the sockets of each process we may inspect."""
    try:
        return [(conn, conn.pid) for conn in psutil.net_connections(kind="inet")]
    except psutil.AccessDenied:
        found: list[tuple[Any, int | None]] = []
        for process in psutil.process_iter():
            try:
                for conn in process.net_connections(kind="inet"):
                    found.append((conn, process.pid))
            except (psutil.Error, OSError):
                continue
        return found


def _state(conn: object, protocol: str) -> str:
    status = getattr(conn, "status", "") or ""
    if protocol == "udp" or status == psutil.CONN_NONE:
        return CONNECTED if getattr(conn, "raddr", None) else UNCONN
    return str(status)


def all_sockets() -> list[SocketInfo]:
    """Every TCP/UDP socket psutil reports, with owners and service names."""
    owners = _Owners()
    rows = []
    for conn, pid in _raw_connections():
        protocol = "udp" if conn.type == socket.SOCK_DGRAM else "tcp"
        laddr, raddr = conn.laddr, conn.raddr
        if not laddr:
            continue
        program, user = owners.get(pid)
        rows.append(
            SocketInfo(
                protocol=protocol,
                ip_version=6 if conn.family == socket.AF_INET6 else 4,
                local_host=laddr[0],
                local_port=laddr[1],
                remote_host=raddr[0] if raddr else None,
                remote_port=raddr[1] if raddr else None,
                state=_state(conn, protocol),
                pid=pid,
                program=program,
                user=user,
            )
        )
    listening = {(r.protocol, r.local_port) for r in rows if r.remote_port is None}
    names = {proto: services.port_names(proto) for proto in ("tcp", "udp")}
    return [r._replace(service=names[r.protocol].get(service_side(r, listening))) for r in rows]


def list_sockets(
    *,
    listening: bool = False,
    all_states: bool = False,
    protocols: Sequence[str] = ("tcp", "udp"),
    ip_versions: Sequence[int] = (4, 6),
    pid: int | None = None,
    port: int | None = None,
    program: str | None = None,
) -> list[SocketInfo]:
    """Local sockets, filtered and sorted (see :func:`netbench.tools.socketview.select_sockets`)."""
    return select_sockets(
        all_sockets(),
        listening=listening,
        all_states=all_states,
        protocols=protocols,
        ip_versions=ip_versions,
        pid=pid,
        port=port,
        program=program,
    )
