"""netbench services: the services database, both directions, checked against /etc/services."""

from __future__ import annotations

import json
import os
import socket

import pytest

from netbench.errors import UsageError
from netbench.tools.servicedb import ServiceDB, ServiceEntry, parse_query, parse_services
from netbench.tools.services import SERVICES_FILE, all_entries, lookup, render_services
from tests.support.cli import run_main

SAMPLE = """\
# comment line
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
domain\t\t53/tcp\t\t\t\t# Domain Name Server
domain\t\t53/udp
discard\t\t9/tcp\t\tsink null
broken line
bad\t\tx/tcp
neg\t\t99999/tcp
"""


def test_parse_services_reads_names_aliases_comments() -> None:
    entries = parse_services(SAMPLE)
    assert entries == [
        ServiceEntry("http", 80, "tcp", ("www",), "WorldWideWeb HTTP"),
        ServiceEntry("domain", 53, "tcp", (), "Domain Name Server"),
        ServiceEntry("domain", 53, "udp"),
        ServiceEntry("discard", 9, "tcp", ("sink", "null")),
    ]


def test_servicedb_both_directions() -> None:
    db = ServiceDB(parse_services(SAMPLE))
    assert [e.port for e in db.by_name("www")] == [80]
    assert [e.protocol for e in db.by_name("DOMAIN")] == ["tcp", "udp"]
    assert [e.protocol for e in db.by_name("domain", "udp")] == ["udp"]
    assert [e.name for e in db.by_port(9)] == ["discard"]
    assert db.name_for(53, "udp") == "domain"
    assert db.name_for(53, "sctp") is None
    assert db.ports("tcp") == [9, 53, 80]
    assert db.names("udp") == {53: "domain"}
    assert "http" in db.suggestions("htp")


def test_parse_query() -> None:
    assert parse_query("53/UDP") == ("53", "udp")
    assert parse_query("http") == ("http", None)


needs_file = pytest.mark.skipif(not os.path.exists(SERVICES_FILE), reason="no /etc/services here")


def _file_entries() -> list[tuple[str, int, str, list[str]]]:
    """/etc/services read independently of netbench's parser."""
    rows = []
    with open(SERVICES_FILE, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            words = line.split("#", 1)[0].split()
            if len(words) >= 2 and "/" in words[1]:
                port, proto = words[1].split("/", 1)
                rows.append((words[0], int(port), proto, words[2:]))
    return rows


@needs_file
def test_every_file_entry_is_found_both_ways() -> None:
    rows = _file_entries()
    assert rows
    for name, port, proto, aliases in rows:
        by_name = lookup(name, proto)
        assert port in [e.port for e in by_name], name
        by_port = lookup(f"{port}/{proto}")
        assert name in [e.name for e in by_port], port
        for alias in aliases:
            assert port in [e.port for e in lookup(alias, proto)], alias


@needs_file
def test_agrees_with_the_resolver() -> None:
    for name, _port, proto, _aliases in _file_entries()[:80]:
        try:
            expected = socket.getservbyname(name, proto)
        except OSError:
            continue
        assert lookup(name, proto)[0].port == expected
        assert lookup(str(expected), proto)[0].name == socket.getservbyport(expected, proto)


@needs_file
def test_full_listing_is_the_whole_file() -> None:
    assert len(all_entries()) == len(_file_entries())
    assert {e.protocol for e in all_entries("udp")} == {"udp"}


def test_unknown_names_and_ports_raise_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown service 'no-such-service-xyz'"):
        lookup("no-such-service-xyz")
    with pytest.raises(UsageError, match="has no name"):
        lookup("65000/udp") if not _named(65000) else lookup("0/udp")
    with pytest.raises(UsageError):
        lookup("80/carrier-pigeon")
    with pytest.raises(UsageError):
        lookup("70000")


def _named(port: int) -> bool:
    try:
        socket.getservbyport(port, "udp")
        return True
    except OSError:
        return False


def test_render_services_table() -> None:
    text = render_services([ServiceEntry("http", 80, "tcp", ("www",), "web")])
    assert text.splitlines()[0].split() == ["SERVICE", "PORT", "ALIASES", "COMMENT"]
    assert text.splitlines()[1].split() == ["http", "80/tcp", "www", "web"]


def _run(*argv: str, tty: bool = False) -> tuple[int, str, str]:
    return run_main(argv, tty=tty)


@needs_file
def test_command_both_directions_and_json() -> None:
    ssh_port = socket.getservbyname("ssh", "tcp")
    status, out, err = _run("services", "ssh", str(ssh_port), tty=True)
    assert status == 0
    assert out.count(f"{ssh_port}/tcp") == 1  # the same entry, found twice, listed once
    assert f"netbench ports --port {ssh_port}" in err
    status, out, _ = _run("services", "--json", "domain", "--udp")
    assert status == 0
    data = json.loads(out)
    assert [(s["name"], s["port"], s["protocol"]) for s in data["services"]] == [("domain", 53, "udp")]


def test_command_unknown_name_found_nothing_exit_1() -> None:
    status, out, err = _run("services", "no-such-service-xyz")
    assert status == 1 and out == ""
    assert err.startswith("netbench: unknown service 'no-such-service-xyz'") and err.count("\n") == 1


def test_command_port_with_no_name_found_nothing_exit_1() -> None:
    port = next(p for p in range(18080, 19000) if _no_name(p))
    status, out, err = _run("services", str(port))
    assert status == 1 and out == ""
    assert err == f"netbench: port {port} has no name in the services database\n"


def _no_name(port: int) -> bool:
    for protocol in ("tcp", "udp"):
        try:
            socket.getservbyport(port, protocol)
            return False
        except OSError:
            pass
    return True


@pytest.mark.parametrize("query", ["99999", "53/xyz"])
def test_command_malformed_query_is_exit_2(query: str) -> None:
    status, out, err = _run("services", query)
    assert status == 2 and out == ""
    assert err.count("\n") == 1


@needs_file
def test_command_mixed_known_and_unknown() -> None:
    status, out, err = _run("services", "http", "no-such-service-xyz")
    assert status == 1
    assert "80/tcp" in out and "no-such-service-xyz" in err


@needs_file
def test_command_mixed_with_a_malformed_query_is_exit_2() -> None:
    status, out, err = _run("services", "http", "no-such-service-xyz", "99999")
    assert status == 2
    assert "80/tcp" in out and "out of range" in err
