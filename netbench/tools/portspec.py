"""Port lists: parsing ``-p`` specifications and the ``--top N`` ordering.

Pure functions; the services database comes in as data or as a callable,
so nothing here reads a file or touches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from netbench.errors import UsageError
from netbench.tools.topports import COMMON_TCP, COMMON_UDP

MAX_PORT = 65535


def _number(text: str, spec: str) -> int:
    if not text.isdigit():
        raise UsageError(f"bad port {text!r} in {spec!r} (use e.g. 22,80,8000-9000 or -)")
    value = int(text)
    if not 1 <= value <= MAX_PORT:
        raise UsageError(f"port {value} out of range (1-65535) in {spec!r}")
    return value


def parse_ports(
    spec: str,
    resolve_name: Callable[[str], int | None] | None = None,
) -> tuple[int, ...]:
    """Parse a port specification as nmap's ``-p`` does.

    ``22,80,8000-9000`` lists and ranges; ``-`` is every port 1-65535;
    open ranges ``-1024`` (from 1) and ``60000-`` (to 65535); a service name
    (``http``) when *resolve_name* maps it to a number. Order is kept,
    duplicates are dropped. Anything else raises :class:`UsageError`.
    """
    spec = spec.strip()
    if not spec:
        raise UsageError("empty port list (use e.g. 22,80,8000-9000 or -)")
    if spec == "-":
        return tuple(range(1, MAX_PORT + 1))
    seen: dict[int, None] = {}
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            raise UsageError(f"empty item in port list {spec!r}")
        if "-" in part:
            low_text, _, high_text = part.partition("-")
            low = _number(low_text, spec) if low_text else 1
            high = _number(high_text, spec) if high_text else MAX_PORT
            if low > high:
                raise UsageError(f"backwards range {part!r} in {spec!r}")
            for port in range(low, high + 1):
                seen[port] = None
        elif part.isdigit():
            seen[_number(part, spec)] = None
        else:
            named = resolve_name(part) if resolve_name else None
            if named is None:
                raise UsageError(f"unknown port or service {part!r} in {spec!r}")
            seen[named] = None
    return tuple(seen)


def top_ports(count: int, protocol: str = "tcp", named: Iterable[int] = ()) -> tuple[int, ...]:
    """The first *count* ports of netbench's ordering for *protocol*.

    The ordering (documented in :mod:`netbench.tools.topports`): the shipped
    list of common ports, then the other ports in *named* (the services
    database) ascending, then all remaining ports ascending.
    """
    if count < 1:
        raise UsageError(f"--top needs a positive number, not {count}")
    count = min(count, MAX_PORT)
    common = COMMON_UDP if protocol == "udp" else COMMON_TCP
    chosen: dict[int, None] = dict.fromkeys(common)
    if len(chosen) < count:
        for port in sorted(set(named)):
            if 1 <= port <= MAX_PORT:
                chosen.setdefault(port, None)
    result = list(chosen)[:count]
    if len(result) < count:
        taken = set(result)
        for port in range(1, MAX_PORT + 1):
            if port not in taken:
                result.append(port)
                if len(result) == count:
                    break
    return tuple(result)


def describe_ports(ports: tuple[int, ...]) -> str:
    """A short human description of a port list: ``1-1024``, ``22,80,443``, ``1000 ports``."""
    if not ports:
        return "no ports"
    if len(ports) > 1 and list(ports) == list(range(ports[0], ports[-1] + 1)):
        return f"{ports[0]}-{ports[-1]}"
    if len(ports) <= 6:
        return ",".join(str(p) for p in ports)
    return f"{len(ports)} ports"
