"""Local sockets as data: the rows of ``netbench ports``, filters, rendering.

Pure: rows come in from :mod:`netbench.tools.ports` (psutil), go out as
an lsof/ss-like table or JSON. Program and user names come from the
process table, which any user can fill with control bytes, so they are
escaped before they reach a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from netbench.core.address import host_port
from netbench.core.escape import escape
from netbench.tools.table import render_table

LISTEN = "LISTEN"
ESTABLISHED = "ESTABLISHED"
UNCONN = "UNCONN"  # a bound UDP socket with no peer (ss's name)
CONNECTED = "CONNECTED"  # a connected UDP socket
LISTENING_STATES = frozenset({LISTEN, UNCONN})
DEFAULT_STATES = frozenset({LISTEN, UNCONN, ESTABLISHED, CONNECTED})


class SocketInfo(NamedTuple):
    """One local socket. ``pid``/``program``/``user`` are None when its owner is
    not visible to us; ``remote_port`` is None when it has no peer."""

    protocol: str  # "tcp" or "udp"
    ip_version: int  # 4 or 6
    local_host: str
    local_port: int
    remote_host: str | None
    remote_port: int | None
    state: str
    pid: int | None = None
    program: str | None = None
    user: str | None = None
    service: str | None = None

    @property
    def local(self) -> str:
        return host_port(self.local_host, self.local_port)

    @property
    def remote(self) -> str:
        if self.remote_port is None or self.remote_host is None:
            return "*"
        return host_port(self.remote_host, self.remote_port)

    def to_json(self) -> dict[str, object]:
        data = self._asdict()
        data["local"] = self.local
        data["remote"] = None if self.remote_port is None else self.remote
        return data


def select_sockets(
    rows: Iterable[SocketInfo],
    *,
    listening: bool = False,
    all_states: bool = False,
    protocols: Sequence[str] = ("tcp", "udp"),
    ip_versions: Sequence[int] = (4, 6),
    pid: int | None = None,
    port: int | None = None,
    program: str | None = None,
) -> list[SocketInfo]:
    """Filter and sort *rows*.

    By default listening (TCP LISTEN, bound UDP) and established sockets;
    ``listening`` keeps only the first kind, ``all_states`` keeps every
    state (TIME_WAIT, ...). ``port`` matches the local or the remote port;
    ``program`` is a case-insensitive substring. Listening sockets come
    first, each group ordered by protocol and local port.
    """
    states = LISTENING_STATES if listening else None if all_states else DEFAULT_STATES
    wanted = program.lower() if program else None
    chosen = [
        r
        for r in rows
        if (states is None or r.state in states)
        and r.protocol in protocols
        and r.ip_version in ip_versions
        and (pid is None or r.pid == pid)
        and (port is None or port in (r.local_port, r.remote_port))
        and (wanted is None or (r.program is not None and wanted in r.program.lower()))
    ]
    chosen.sort(
        key=lambda r: (
            r.state not in LISTENING_STATES,
            r.protocol,
            r.local_port,
            r.ip_version,
            r.local_host,
            r.remote_port or 0,
        )
    )
    return chosen


def service_side(row: SocketInfo, listening_ports: set[tuple[str, int]]) -> int:
    """The port whose service name describes *row*: the local port for a
    listening socket or for a connection into one of our listeners, else the
    remote port (a client connection is named after what it talks to)."""
    if row.remote_port is None or (row.protocol, row.local_port) in listening_ports:
        return row.local_port
    return row.remote_port


def _cell(text: str | None) -> str:
    if text is None:
        return "-"
    return escape(text.encode("utf-8", "surrogateescape"), keep_newlines=False, keep_tabs=False)


def render_sockets(rows: Sequence[SocketInfo]) -> str:
    """An ss/lsof-like table: PROTO STATE LOCAL REMOTE SERVICE PID PROGRAM USER."""
    table = [
        (
            r.protocol + ("6" if r.ip_version == 6 else ""),
            r.state,
            r.local,
            r.remote,
            r.service or "-",
            str(r.pid) if r.pid is not None else "-",
            _cell(r.program),
            _cell(r.user),
        )
        for r in rows
    ]
    return render_table(
        ("PROTO", "STATE", "LOCAL", "REMOTE", "SERVICE", "PID", "PROGRAM", "USER"), table, right=(5,)
    )


def hidden_note(rows: Sequence[SocketInfo], is_root: bool) -> str | None:
    """The note for listed sockets whose owner could not be read (None when there are none).

    Not root: other users' processes may not be inspected, and root would
    see them. Root: the owner is outside this system's view (a process in
    another container or PID namespace, or a socket no process holds).
    Sockets past their life (TIME_WAIT, ...) have no owner and need no note.
    """
    hidden = sum(1 for r in rows if (r.pid is None or r.program is None) and r.state in DEFAULT_STATES)
    if not hidden:
        return None
    sockets = f"{hidden} socket{'s' if hidden != 1 else ''}"
    if is_root:
        return (
            f"note: the owner of {sockets} cannot be read (no pid shown): a process in another "
            "container or PID namespace, or a socket no process holds"
        )
    return f"note: {sockets} belong to processes you may not inspect (no pid shown); run as root to see them"


def sockets_json(rows: Sequence[SocketInfo], note: str | None = None) -> str:
    """One JSON document: ``{"sockets": [...], "note": ...}``."""
    import json

    return json.dumps({"sockets": [r.to_json() for r in rows], "note": note}, indent=2) + "\n"


HINT_PORTS = 10  # ports named in the next: hint, at most


def next_step_hint(rows: Sequence[SocketInfo]) -> str | None:
    """The walk's next step after ``ports``: scan the listening TCP ports."""
    ports = sorted({r.local_port for r in rows if r.protocol == "tcp" and r.state == LISTEN})
    if not ports:
        return None
    shown = ",".join(str(p) for p in ports[:HINT_PORTS])
    hint = f"next: which of these answer? netbench scan localhost -p {shown}"
    left_out = len(ports) - HINT_PORTS
    if left_out > 0:
        hint += f"   ({left_out} more listening port{'s' if left_out != 1 else ''} left out)"
    return hint
