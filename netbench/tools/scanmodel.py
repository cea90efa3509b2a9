"""What a scan finds, as data: port states, verdicts from errno, rendering.

Pure. States follow nmap's definitions:

- ``open``: something accepted the connection (TCP) or answered (UDP);
- ``closed``: the host answered that nothing listens (RST, or ICMP port
  unreachable for UDP);
- ``filtered``: no answer at all, or an ICMP unreachable other than "port"
  (a firewall drops or rejects);
- ``open|filtered`` (UDP only): no answer, which an open UDP service that
  ignores the probe and a firewall that drops it look the same.
"""

from __future__ import annotations

import errno
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from netbench.core.address import bracket_host
from netbench.core.escape import escape
from netbench.tools.table import render_table

OPEN = "open"
CLOSED = "closed"
FILTERED = "filtered"
OPEN_FILTERED = "open|filtered"
STATES: tuple[str, ...] = (OPEN, OPEN_FILTERED, FILTERED, CLOSED)

#: errno of a finished TCP connect -> (state, nmap-style reason).
_TCP_VERDICTS: dict[int, tuple[str, str]] = {
    0: (OPEN, "syn-ack"),
    errno.EISCONN: (OPEN, "syn-ack"),
    errno.ECONNREFUSED: (CLOSED, "conn-refused"),
    errno.ECONNRESET: (CLOSED, "reset"),
    errno.ETIMEDOUT: (FILTERED, "no-response"),
    errno.EHOSTUNREACH: (FILTERED, "host-unreach"),
    errno.ENETUNREACH: (FILTERED, "net-unreach"),
    errno.EHOSTDOWN: (FILTERED, "host-down"),
    errno.EACCES: (FILTERED, "admin-prohibited"),
    errno.EPERM: (FILTERED, "admin-prohibited"),
}

#: TCP errors worth a retry before the verdict stands: silence, and running
#: out of local ports for a moment (many connections in TIME_WAIT).
RETRYABLE: frozenset[int] = frozenset({errno.ETIMEDOUT, errno.EADDRNOTAVAIL, errno.EAGAIN})

#: Ports where ``--banner`` sends a HEAD request instead of waiting for a greeting.
HTTP_PORTS: frozenset[int] = frozenset({80, 591, 3000, 5000, 8000, 8008, 8080, 8081, 8082, 8088, 8888, 9000})


def classify_tcp(code: int) -> tuple[str, str]:
    """The (state, reason) for a finished TCP connect that ended with errno *code*.

    Unknown errors count as filtered (no usable answer from the port).
    """
    return _TCP_VERDICTS.get(code, (FILTERED, errno.errorcode.get(code, str(code)).lower()))


def classify_udp(code: int | None, answered: bool) -> tuple[str, str]:
    """The (state, reason) of a UDP probe: *answered* when data came back,
    *code* the errno from an ICMP error (None when nothing came at all)."""
    if answered:
        return OPEN, "udp-response"
    if code == errno.ECONNREFUSED:
        return CLOSED, "port-unreach"
    if code is None:
        return OPEN_FILTERED, "no-response"
    return FILTERED, classify_tcp(code)[1]


def is_http_port(port: int, service: str | None) -> bool:
    """Whether ``--banner`` should speak HTTP to *port* rather than listen."""
    return port in HTTP_PORTS or (service is not None and service.startswith("http") and service != "https")


class PortResult(NamedTuple):
    """The verdict on one port (a named tuple: a full scan makes 65535 of them)."""

    port: int
    protocol: str
    state: str
    reason: str
    service: str | None = None
    banner: str | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "port": self.port,
            "protocol": self.protocol,
            "state": self.state,
            "reason": self.reason,
            "service": self.service,
        }
        if self.banner is not None:
            data["banner"] = self.banner
        return data


@dataclass(frozen=True)
class ScanReport:
    """A whole scan: the target, every verdict, timing.

    ``verdicts`` maps each port scanned to its ``(state, reason)``;
    ``names`` and ``banners`` give service names and banners by port.
    ``interrupted`` is True when Ctrl-C stopped the scan; the verdicts are
    then what was found so far and ``total`` how many ports were asked.
    :attr:`results` is the same as :class:`PortResult` rows in port order,
    built on first use (a full scan has 65535 of them; rendering builds
    only the rows it shows).
    """

    host: str
    address: str
    protocol: str
    verdicts: Mapping[int, tuple[str, str]]
    total: int
    elapsed: float
    interrupted: bool = False
    hostname: str | None = None
    other_addresses: tuple[str, ...] = field(default=())
    names: Mapping[int, str | None] = field(default_factory=dict)
    banners: Mapping[int, str] = field(default_factory=dict)

    def row(self, port: int) -> PortResult:
        """The :class:`PortResult` of one scanned *port*."""
        state, reason = self.verdicts[port]
        return PortResult(port, self.protocol, state, reason, self.names.get(port), self.banners.get(port))

    @cached_property
    def results(self) -> tuple[PortResult, ...]:
        """Every verdict as a row, in port order."""
        return tuple(self.row(port) for port in sorted(self.verdicts))

    def counts(self) -> Counter[str]:
        """How many ports are in each state."""
        return Counter(state for state, _reason in self.verdicts.values())

    def open_ports(self) -> list[int]:
        """Ports found open, ascending."""
        return sorted(port for port, (state, _reason) in self.verdicts.items() if state == OPEN)

    def shown(self, show_all: bool = False) -> tuple[list[PortResult], dict[str, int]]:
        """The rows to show and the states folded into "Not shown" counts.

        As nmap does: a state with more than 25 ports (closed or filtered)
        is summarised instead of listed, unless *show_all*. Open ports are
        always listed.
        """
        counts = self.counts()
        folded = {
            state: n
            for state, n in counts.items()
            if not show_all and state in (CLOSED, FILTERED, OPEN_FILTERED) and n > 25
        }
        ports = sorted(port for port, (state, _reason) in self.verdicts.items() if state not in folded)
        return [self.row(port) for port in ports], folded


def summarize_banner(data: bytes, limit: int = 80) -> str:
    """One terminal-safe line for what a port said first.

    For an HTTP response: the status line plus the ``Server`` header.
    Otherwise the first non-empty line. Control bytes are escaped
    (:func:`netbench.core.escape.escape`), long text is cut with ``...``.
    """
    lines = [line.rstrip(b"\r") for line in data.split(b"\n")]
    text_lines = [line for line in lines if line.strip()]
    if not text_lines:
        return ""
    first = text_lines[0]
    if first.startswith(b"HTTP/"):
        server = None
        for line in lines[1:]:
            if not line:
                break
            name, colon, value = line.partition(b":")
            if colon and name.strip().lower() == b"server":
                server = value.strip()
                break
        summary = escape(first, keep_newlines=False, keep_tabs=False)
        if server is not None:
            summary += "; Server: " + escape(server, keep_newlines=False, keep_tabs=False)
    else:
        summary = escape(first.strip(), keep_newlines=False, keep_tabs=False)
    if len(summary) > limit:
        summary = summary[: limit - 3] + "..."
    return summary


def _fold_line(folded: dict[str, int], protocol: str) -> str:
    parts = [f"{n} {state} {protocol} ports" for state, n in sorted(folded.items())]
    return "Not shown: " + ", ".join(parts)


def render_report(report: ScanReport, *, show_all: bool = False, reason: bool = False) -> str:
    """nmap-like text: a header, ``PORT STATE SERVICE`` rows, a summary line."""
    out = []
    name = report.host
    if report.hostname and report.hostname != report.host:
        name = f"{report.host} [{report.hostname}]"
    label = name if report.host == report.address else f"{name} ({report.address})"
    out.append(f"netbench scan report for {label}")
    if report.other_addresses:
        out.append(f"Other addresses for {report.host} (not scanned): {' '.join(report.other_addresses)}")
    rows, folded = report.shown(show_all)
    if folded:
        out.append(_fold_line(folded, report.protocol))
    text = "\n".join(out) + "\n"
    if rows:
        headers = ["PORT", "STATE", "SERVICE"]
        if reason:
            headers.append("REASON")
        with_banner = any(r.banner for r in rows)
        if with_banner:
            headers.append("BANNER")
        table_rows = []
        for r in rows:
            cells = [f"{r.port}/{r.protocol}", r.state, r.service or "unknown"]
            if reason:
                cells.append(r.reason)
            if with_banner:
                cells.append(r.banner or "")
            table_rows.append(cells)
        text += render_table(headers, table_rows)
    elif not folded:
        text += "no ports scanned\n"
    done = len(report.verdicts)
    if report.interrupted:
        text += f"interrupted: {done} of {report.total} ports scanned in {report.elapsed:.2f} s\n"
    else:
        text += f"scanned {done} {report.protocol} ports in {report.elapsed:.2f} s\n"
    return text


def report_json(report: ScanReport, *, show_all: bool = False) -> str:
    """One JSON document; ports folded by the same rule as the text, counted in ``not_shown``."""
    rows, folded = report.shown(show_all)
    data = {
        "host": report.host,
        "address": report.address,
        "hostname": report.hostname,
        "protocol": report.protocol,
        "ports": [r.to_json() for r in rows],
        "not_shown": folded,
        "counts": dict(report.counts()),
        "open": report.open_ports(),
        "total": report.total,
        "scanned": len(report.verdicts),
        "elapsed": round(report.elapsed, 4),
        "interrupted": report.interrupted,
    }
    import json

    return json.dumps(data, indent=2) + "\n"


def next_step_hint(report: ScanReport) -> str | None:
    """The walk's next step after a scan: talk to the first open port.

    When nothing is open and not every port was scanned, the hint says to
    name the ports with ``-p`` (the default scans only the most common ones).
    """
    opened = report.open_ports()
    if not opened:
        if report.interrupted or report.total >= 65535:
            return None
        counted = f"{report.total} {report.protocol} port{'s' if report.total != 1 else ''}"
        flags = " -u" if report.protocol == "udp" else ""
        return (
            f"nothing open in the {counted} scanned; name other ports with -p, "
            f"e.g. netbench scan{flags} {report.host} -p- (all 65535)"
        )
    first = report.row(opened[0])
    host = bracket_host(report.address)
    if report.protocol == "udp":
        return f"talk to it: netbench connect -u {report.address} {first.port}"
    if is_http_port(first.port, first.service):
        return f"talk to it: netbench connect {report.address} {first.port}   (or: netbench http http://{host}:{first.port}/)"
    return f"talk to it: netbench connect {report.address} {first.port}"
