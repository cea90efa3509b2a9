"""netbench ports: the socket table from psutil, filters and rendering."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator

import psutil
import pytest

from netbench.tools.ports import list_sockets
from netbench.tools.socketview import (
    ESTABLISHED,
    LISTEN,
    UNCONN,
    SocketInfo,
    hidden_note,
    next_step_hint,
    render_sockets,
    select_sockets,
    service_side,
)
from tests.support.cli import run_main

ROWS = [
    SocketInfo("tcp", 4, "127.0.0.1", 5000, "127.0.0.1", 40000, ESTABLISHED, 10, "srv", "bob"),
    SocketInfo("tcp", 4, "0.0.0.0", 80, None, None, LISTEN, 10, "srv", "bob"),
    SocketInfo("udp", 6, "::", 53, None, None, UNCONN, None),
    SocketInfo("tcp", 4, "127.0.0.1", 40001, "127.0.0.1", 80, "TIME_WAIT"),
    SocketInfo("tcp", 6, "::1", 22, None, None, LISTEN, 11, "evil\x1b[2Jname", "root"),
]


def test_select_defaults_filters_and_order() -> None:
    default = select_sockets(ROWS)
    assert [r.local_port for r in default] == [22, 80, 53, 5000]  # listening first, tcp before udp
    assert [r.local_port for r in select_sockets(ROWS, listening=True)] == [22, 80, 53]
    assert len(select_sockets(ROWS, all_states=True)) == 5
    assert [r.local_port for r in select_sockets(ROWS, protocols=["udp"])] == [53]
    assert [r.local_port for r in select_sockets(ROWS, ip_versions=[6])] == [22, 53]
    assert [r.local_port for r in select_sockets(ROWS, pid=10)] == [80, 5000]
    assert [r.local_port for r in select_sockets(ROWS, port=80, all_states=True)] == [80, 40001]
    assert [r.local_port for r in select_sockets(ROWS, program="SRV")] == [80, 5000]


def test_render_is_a_safe_table() -> None:
    text = render_sockets(select_sockets(ROWS, all_states=True))
    lines = text.splitlines()
    assert lines[0].split() == ["PROTO", "STATE", "LOCAL", "REMOTE", "SERVICE", "PID", "PROGRAM", "USER"]
    assert "\x1b" not in text and "evil\\x1b[2Jname" in text
    assert any(line.split()[:4] == ["tcp6", "LISTEN", "[::1]:22", "*"] for line in lines)
    assert any(line.split()[:6] == ["udp6", "UNCONN", "[::]:53", "*", "-", "-"] for line in lines)


def test_hidden_owner_note_and_hint() -> None:
    assert hidden_note(ROWS, is_root=False) is not None
    assert "1 socket belong" in (hidden_note(ROWS, is_root=False) or "")
    as_root = hidden_note(ROWS, is_root=True)  # root cannot see it either: say so, without "run as root"
    assert (
        as_root is not None and "owner of 1 socket cannot be read" in as_root and "run as root" not in as_root
    )
    assert hidden_note(ROWS[:2], is_root=False) is None
    assert next_step_hint(ROWS) == "next: which of these answer? netbench scan localhost -p 22,80"


def test_a_cut_next_hint_says_how_many_were_left_out() -> None:
    rows = [SocketInfo("tcp", 4, "127.0.0.1", 9000 + n, None, None, LISTEN, 1, "p", "u") for n in range(14)]
    hint = next_step_hint(rows) or ""
    assert hint.startswith("next: which of these answer? netbench scan localhost -p 9000,9001,")
    assert "9009" in hint and "9010" not in hint
    assert hint.endswith("(4 more listening ports left out)")
    assert "left out" not in (next_step_hint(rows[:10]) or "")
    assert (next_step_hint(rows[:11]) or "").endswith("(1 more listening port left out)")


def test_a_socket_no_process_holds_is_listed_with_the_note() -> None:
    """A listening socket whose only descriptor is in flight in a unix socket: no process owns it.

    Even root cannot name its owner; ports must still list it, and the note must say why.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    carrier, holder = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        socket.send_fds(carrier, [b"x"], [listener.fileno()])
        listener.close()  # now only the message in *holder*'s queue keeps it open
        status, out, err = run_main(["ports", "--port", str(port), "--json"])
        assert status == 0, err
        seen = json.loads(out)
        mine = [s for s in seen["sockets"] if s["local_port"] == port and s["state"] == LISTEN]
        assert len(mine) == 1 and mine[0]["pid"] is None
        assert seen["note"] and "1 socket" in seen["note"]
        status, out, err = run_main(["ports", "--port", str(port)])
        assert status == 0
        assert f"127.0.0.1:{port}" in out
        assert "note: " in err and "1 socket" in err
    finally:
        carrier.close()
        holder.close()


def test_service_side() -> None:
    listening = {("tcp", 80)}
    assert service_side(ROWS[1], listening) == 80
    assert service_side(ROWS[3], listening) == 80  # a client talking to :80
    assert service_side(ROWS[0], {("tcp", 5000)}) == 5000  # a connection into our listener


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server
    server.close()


def test_ports_shows_our_listening_socket(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    rows = list_sockets(listening=True, port=port)
    mine = [r for r in rows if r.local_port == port and r.protocol == "tcp"]
    assert len(mine) == 1
    row = mine[0]
    me = psutil.Process()
    assert (row.state, row.local_host, row.pid) == (LISTEN, "127.0.0.1", os.getpid())
    assert row.program == me.name()
    assert row.user == me.username()


def test_ports_shows_established_both_ends(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port), timeout=2)
    server_side, _ = listener.accept()
    try:
        rows = list_sockets(port=port, protocols=["tcp"])
        states = sorted((r.state, r.local_port == port) for r in rows if r.pid == os.getpid())
        assert states == [(ESTABLISHED, False), (ESTABLISHED, True), (LISTEN, True)]
        assert all(r.state == LISTEN for r in list_sockets(listening=True, port=port))
    finally:
        client.close()
        server_side.close()


def test_ports_shows_bound_udp() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        rows = list_sockets(protocols=["udp"], port=port)
        assert [(r.state, r.pid) for r in rows] == [(UNCONN, os.getpid())]


def _run(*argv: str, tty: bool = False) -> tuple[int, str, str]:
    return run_main(argv, tty=tty)


def test_command_table_json_and_hint(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    status, out, err = _run("ports", "--tcp", "--port", str(port), tty=True)
    assert status == 0
    line = next(line for line in out.splitlines() if f"127.0.0.1:{port}" in line)
    assert line.split()[:2] == ["tcp", "LISTEN"] and str(os.getpid()) in line.split()
    assert f"netbench scan localhost -p {port}" in err
    status, out, _ = _run("ports", "--listening", "--pid", str(os.getpid()), "--json")
    assert status == 0
    data = json.loads(out)
    assert any(s["local_port"] == port and s["pid"] == os.getpid() for s in data["sockets"])


def test_command_bad_options_exit_2() -> None:
    status, _out, err = _run("ports", "--listening", "--all")
    assert status == 2 and err.startswith("netbench: ")
    status, _out, err = _run("ports", "--port", "no-such-service-xyz")
    assert status == 2


def test_unprivileged_view_hides_owners_without_error(listener: socket.socket) -> None:
    """Seen by an unprivileged user, our (root's) socket is listed without pid, with the note."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to drop to another user")
    port = listener.getsockname()[1]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become nobody, then look
        status = 1
        try:
            os.close(read_end)
            listener.close()  # the child's inherited copy: the socket is the parent's alone
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            from netbench.tools.ports import is_root
            from netbench.tools.socketview import sockets_json

            rows = list_sockets(port=port)
            os.write(write_end, sockets_json(rows, hidden_note(rows, is_root())).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and data
    seen = json.loads(data)
    mine = [s for s in seen["sockets"] if s["local_port"] == port and s["state"] == LISTEN]
    assert len(mine) == 1
    assert (mine[0]["pid"], mine[0]["program"], mine[0]["user"]) == (None, None, None)
    assert "may not inspect" in seen["note"]
