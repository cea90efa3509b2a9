"""netbench scan, the pure parts: port lists, the --top ordering, verdicts,
banner summaries, report rendering, the worker wire format."""

from __future__ import annotations

import errno
import json
import re

import pytest

from netbench.errors import UsageError
from netbench.tools.portspec import describe_ports, parse_ports, top_ports
from netbench.tools.scanmodel import (
    CLOSED,
    FILTERED,
    OPEN,
    OPEN_FILTERED,
    ScanReport,
    classify_tcp,
    classify_udp,
    render_report,
    report_json,
    summarize_banner,
)
from netbench.tools.topports import COMMON_TCP


def test_parse_ports_lists_ranges_and_names() -> None:
    assert parse_ports("22,80,8000-8003") == (22, 80, 8000, 8001, 8002, 8003)
    assert parse_ports(" 80 , 22,80 ") == (80, 22)
    assert parse_ports("-") == tuple(range(1, 65536))
    assert parse_ports("-3") == (1, 2, 3)
    assert parse_ports("65534-") == (65534, 65535)
    assert parse_ports("http,22", {"http": 80}.get) == (80, 22)


@pytest.mark.parametrize("spec", ["", "0", "65536", "10-5", "a-b", "1,,2", "http", "22;80"])
def test_parse_ports_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_ports(spec)


def test_top_ports_ordering_is_defined() -> None:
    assert top_ports(3) == COMMON_TCP[:3]
    named = [7, 9, 13, 80]
    ports = top_ports(len(COMMON_TCP) + 3, "tcp", named)
    assert ports[: len(COMMON_TCP)] == COMMON_TCP
    assert ports[len(COMMON_TCP) :] == (7, 9, 13)  # named, not common, ascending
    everything = top_ports(65535, "tcp", named)
    assert sorted(everything) == list(range(1, 65536))
    with pytest.raises(UsageError):
        top_ports(0)


def test_adaptive_timeout() -> None:
    from netbench.tools.engine import adaptive_timeout

    assert adaptive_timeout(1.0, 0.0) == 0.25  # the floor
    assert adaptive_timeout(1.0, 0.1) == pytest.approx(0.4)
    assert adaptive_timeout(0.2, 0.1) == 0.2  # never above what was asked


def test_launch_budget_is_the_window_capped_by_the_rate() -> None:
    from netbench.tools.engine import launch_budget

    assert launch_budget(100, 30, None, 5.0, 1000) == 70  # no rate: the free window
    assert launch_budget(100, 0, 10.0, 0.0, 0) == 1  # one may start at once
    assert launch_budget(100, 0, 10.0, 0.5, 3) == 3  # 10/s for 0.5 s, plus one, minus 3 started
    assert launch_budget(100, 99, 10.0, 60.0, 0) == 1  # the window still caps it
    assert launch_budget(100, 0, 10.0, 0.05, 1) <= 0  # ahead of the rate: wait


def test_describe_ports() -> None:
    assert describe_ports((1, 2, 3)) == "1-3"
    assert describe_ports((22, 80)) == "22,80"
    assert describe_ports(tuple(range(0, 20, 2))) == "10 ports"


def test_verdicts_follow_nmap() -> None:
    assert classify_tcp(0) == (OPEN, "syn-ack")
    assert classify_tcp(errno.ECONNREFUSED) == (CLOSED, "conn-refused")
    assert classify_tcp(errno.ETIMEDOUT) == (FILTERED, "no-response")
    assert classify_tcp(errno.EHOSTUNREACH)[0] == FILTERED
    assert classify_udp(None, True) == (OPEN, "udp-response")
    assert classify_udp(errno.ECONNREFUSED, False) == (CLOSED, "port-unreach")
    assert classify_udp(None, False) == (OPEN_FILTERED, "no-response")
    assert classify_udp(errno.EHOSTUNREACH, False)[0] == FILTERED


def test_banner_summary_is_terminal_safe() -> None:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nServer: nginx/1.2\r\n\r\nbody"
    assert summarize_banner(http) == "HTTP/1.1 200 OK; Server: nginx/1.2"
    evil = b"\r\n220 mail \x1b[2J\x07ready\r\n"
    text = summarize_banner(evil)
    assert "\x1b" not in text and "\x07" not in text
    assert text == "220 mail \\x1b[2J\\x07ready"
    assert len(summarize_banner(b"x" * 500)) == 80
    assert summarize_banner(b"") == ""


def _report(states: dict[int, str]) -> ScanReport:
    verdicts = {p: (s, "r") for p, s in states.items()}
    return ScanReport("localhost", "127.0.0.1", "tcp", verdicts, len(verdicts), 0.5, names={80: "svc"})


def test_render_folds_big_states_like_nmap() -> None:
    states = {p: CLOSED for p in range(1000, 1100)}
    states[80] = OPEN
    report = _report(states)
    text = render_report(report)
    assert "netbench scan report for localhost (127.0.0.1)" in text
    assert "Not shown: 100 closed tcp ports" in text
    assert re.search(r"^80/tcp\s+open\s+svc$", text, re.M)
    assert "1000/tcp" not in text
    assert "1000/tcp" in render_report(report, show_all=True)
    data = json.loads(report_json(report))
    assert data["open"] == [80] and data["not_shown"] == {"closed": 100}
    assert data["counts"] == {"closed": 100, "open": 1}
    small = render_report(_report({1: CLOSED, 2: OPEN}))
    assert re.search(r"^1/tcp\s+closed\s+unknown$", small, re.M)


def test_worker_wire_format_round_trips() -> None:
    from netbench.tools.engine import ProbeOutcome
    from netbench.tools.workers import decode, encode

    verdicts = {p: (CLOSED, "conn-refused") for p in range(1, 3000)}
    verdicts.update({22: (OPEN, "syn-ack"), 4000: (FILTERED, "no-response"), 5: (CLOSED, "self-connect")})
    sent = ProbeOutcome(dict(verdicts), interrupted=False)
    received = ProbeOutcome()
    decode(encode(sent), received)
    assert received.verdicts == verdicts and not received.interrupted
    cut = ProbeOutcome()
    decode(encode(sent)[:-30], cut)
    assert cut.interrupted


def test_worker_count_rules() -> None:
    from netbench.tools.workers import worker_count

    assert worker_count(100) == 1  # too few ports to share out
    assert worker_count(65535, 1) == 1
    assert worker_count(3, 8) == 3  # asked for: at most one port each


def test_next_step_hints() -> None:
    from netbench.tools.scanmodel import next_step_hint

    nothing = next_step_hint(_report({1: CLOSED}))
    assert nothing == (
        "nothing open in the 1 tcp port scanned; name other ports with -p, "
        "e.g. netbench scan localhost -p- (all 65535)"
    )
    everything = ScanReport("localhost", "127.0.0.1", "tcp", {}, 65535, 1.0)
    assert next_step_hint(everything) is None  # every port scanned: -p would not help
    cut = ScanReport("localhost", "127.0.0.1", "tcp", {}, 1000, 1.0, interrupted=True)
    assert next_step_hint(cut) is None
    udp_nothing = next_step_hint(ScanReport("::1", "::1", "udp", {53: (CLOSED, "port-unreach")}, 1, 0.1))
    assert udp_nothing is not None and "netbench scan -u ::1 -p-" in udp_nothing
    assert next_step_hint(_report({22: OPEN, 8080: OPEN})) == "talk to it: netbench connect 127.0.0.1 22"
    web = next_step_hint(_report({8080: OPEN}))
    assert web is not None and "netbench http http://127.0.0.1:8080/" in web
    udp = ScanReport("::1", "::1", "udp", {53: (OPEN, "udp-response")}, 1, 0.1)
    assert next_step_hint(udp) == "talk to it: netbench connect -u ::1 53"
