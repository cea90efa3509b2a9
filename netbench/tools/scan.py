"""``netbench scan`` and the REPL's ``/scan``: which ports answer on a host.

:func:`scan` resolves the host (IPv4 first unless IPv6 is asked for, as
nmap does; no reverse DNS unless ``rdns``), runs the TCP connect engine
(:mod:`netbench.tools.engine`) or the UDP probe
(:mod:`netbench.tools.udpscan`), names the ports from the services
database, optionally grabs banners, and returns a
:class:`~netbench.tools.scanmodel.ScanReport`. Rendering is
:func:`render_report` / :func:`report_json` from the pure model.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence

from netbench.tools import services
from netbench.tools.engine import Progress
from netbench.tools.portspec import top_ports
from netbench.tools.scanmodel import ScanReport, next_step_hint, render_report, report_json
from netbench.tools.udpscan import probe_udp

__all__ = ["ScanReport", "next_step_hint", "render_report", "report_json", "resolve_host", "scan"]

DEFAULT_TOP = 1000


def resolve_host(host: str, family: int = socket.AF_UNSPEC) -> tuple[int, tuple, list[str]]:
    """Resolve *host* with the one resolver to ``(family, sockaddr, other_addresses)``.

    With no family asked, an IPv4 address is preferred (``localhost`` is
    127.0.0.1, as for nmap); the other addresses are returned to be named.
    Errors are the resolver's, as for ``connect``: Refused (exit 3) for a
    name that does not resolve, TargetError (exit 2) for an impossible one.
    """
    from netbench.net.resolve import resolve_host as resolve_addresses

    addresses = resolve_addresses(host, None, family, prefer_ipv4=True)
    chosen_family, chosen = addresses[0]
    others = [sockaddr[0] for _family, sockaddr in addresses[1:] if sockaddr[0] != chosen[0]]
    return chosen_family, chosen, list(dict.fromkeys(others))


def reverse_name(address: str, timeout: float = 2.0) -> str | None:
    """The PTR name of *address*, or None (bounded by *timeout*)."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as FutureTimeout

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(socket.gethostbyaddr, address).result(timeout)[0]
    except (OSError, FutureTimeout):
        return None
    finally:
        pool.shutdown(wait=False)


def default_ports(protocol: str = "tcp", top: int = DEFAULT_TOP) -> tuple[int, ...]:
    """The ``--top`` ordering for *protocol* (see :mod:`netbench.tools.topports`)."""
    return top_ports(top, protocol, services.known_ports(protocol))


def scan(
    host: str,
    ports: Sequence[int] | None = None,
    *,
    protocol: str = "tcp",
    family: int = socket.AF_UNSPEC,
    top: int = DEFAULT_TOP,
    timeout: float = 1.0,
    retries: int = 1,
    concurrency: int | None = None,
    rate: float | None = None,
    banner: bool = False,
    banner_timeout: float = 2.0,
    rdns: bool = False,
    progress: Progress | None = None,
    workers: int | None = 1,
) -> ScanReport:
    """Scan *ports* (default: the first *top* of netbench's ordering) on *host*.

    ``protocol`` is ``"tcp"`` (connect scan) or ``"udp"``. ``concurrency``
    bounds the probes in flight (default 2048 TCP, 256 UDP), ``rate`` the
    probes started per second. ``workers`` forks that many processes for a
    big TCP scan (None: one per CPU, up to 4; only from the main thread of a
    process without other threads, else 1). Ctrl-C returns a report with
    ``interrupted=True`` and what was found so far. Raises
    :class:`Refused` when the host does not resolve.
    """
    chosen_family, sockaddr, others = resolve_host(host, family)
    address = sockaddr[0]
    port_list = tuple(ports) if ports is not None else default_ports(protocol, top)
    started = time.monotonic()
    if protocol == "udp":
        outcome = probe_udp(
            chosen_family,
            sockaddr,
            port_list,
            timeout=timeout,
            retries=retries,
            window=concurrency or 256,
            rate=rate,
            progress=progress,
        )
    else:
        from netbench.tools.workers import probe_tcp_forked, worker_count

        outcome = probe_tcp_forked(
            chosen_family,
            sockaddr,
            port_list,
            workers=worker_count(len(port_list), workers),
            timeout=timeout,
            retries=retries,
            window=concurrency or 2048,
            rate=rate,
            progress=progress,
        )
    elapsed = time.monotonic() - started
    names: dict[int, str | None] = dict(services.port_names(protocol))
    if not names:  # no services file: ask the resolver, for the ports worth naming only
        for port, (state, _reason) in outcome.verdicts.items():
            if state != "closed":
                names[port] = services.service_name(port, protocol)
    banners: dict[int, str] = {}
    interrupted = outcome.interrupted
    if banner and protocol == "tcp" and not interrupted:
        opened = sorted(p for p, v in outcome.verdicts.items() if v[0] == "open")
        try:
            from netbench.tools.banner import grab_banners

            banners = grab_banners(chosen_family, sockaddr, opened, names, timeout=banner_timeout, host=host)
        except KeyboardInterrupt:
            interrupted = True
    return ScanReport(
        host=host,
        address=address,
        protocol=protocol,
        verdicts=outcome.verdicts,
        total=len(port_list),
        elapsed=elapsed,
        interrupted=interrupted,
        hostname=reverse_name(address) if rdns and not interrupted else None,
        other_addresses=tuple(others),
        names=names,
        banners=banners,
    )
