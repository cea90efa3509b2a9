"""The services database (``/etc/services``) as data: parsing and look-ups.

Pure: :func:`parse_services` takes the file's text; :class:`ServiceDB`
answers look-ups by name, alias and port. Reading the file lives in
:mod:`netbench.tools.services`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROTOCOLS: tuple[str, ...] = ("tcp", "udp")


@dataclass(frozen=True)
class ServiceEntry:
    """One line of the services database: ``http 80/tcp www # WorldWideWeb HTTP``."""

    name: str
    port: int
    protocol: str
    aliases: tuple[str, ...] = ()
    comment: str = ""

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "port": self.port,
            "protocol": self.protocol,
            "aliases": list(self.aliases),
            "comment": self.comment,
        }


def parse_services(text: str) -> list[ServiceEntry]:
    """Parse services-file text; malformed lines are skipped, as libc does.

    Format: ``NAME PORT/PROTOCOL [ALIAS...] [# COMMENT]``.
    """
    entries = []
    for line in text.splitlines():
        body, _, comment = line.partition("#")
        words = body.split()
        if len(words) < 2:
            continue
        port_text, slash, protocol = words[1].partition("/")
        if not slash or not port_text.isdigit() or not protocol:
            continue
        port = int(port_text)
        if not 0 <= port <= 65535:
            continue
        entries.append(ServiceEntry(words[0], port, protocol.lower(), tuple(words[2:]), comment.strip()))
    return entries


@dataclass
class ServiceDB:
    """Look-ups over a list of entries (first entry wins for a port, as in libc)."""

    entries: list[ServiceEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name: dict[str, list[ServiceEntry]] = {}
        self._by_port: dict[tuple[int, str], list[ServiceEntry]] = {}
        for entry in self.entries:
            for key in (entry.name, *entry.aliases):
                self._by_name.setdefault(key.lower(), []).append(entry)
            self._by_port.setdefault((entry.port, entry.protocol), []).append(entry)
        seen = dict.fromkeys(PROTOCOLS)
        seen.update(dict.fromkeys(e.protocol for e in self.entries))
        self.protocols: tuple[str, ...] = tuple(seen)

    def by_name(self, name: str, protocol: str | None = None) -> list[ServiceEntry]:
        """Entries whose name or alias is *name* (case-insensitive)."""
        found = self._by_name.get(name.lower(), [])
        return [e for e in found if protocol is None or e.protocol == protocol]

    def by_port(self, port: int, protocol: str | None = None) -> list[ServiceEntry]:
        """Entries for *port*, TCP, then UDP, then others, when *protocol* is None."""
        protocols = (protocol,) if protocol else self.protocols
        found: list[ServiceEntry] = []
        for proto in protocols:
            found.extend(self._by_port.get((port, proto), []))
        return found

    def name_for(self, port: int, protocol: str = "tcp") -> str | None:
        """The first name for *port*/*protocol*, or None."""
        found = self._by_port.get((port, protocol))
        return found[0].name if found else None

    def names(self, protocol: str) -> dict[int, str]:
        """Port -> first name, for every port named for *protocol*."""
        return {port: found[0].name for (port, proto), found in self._by_port.items() if proto == protocol}

    def ports(self, protocol: str) -> list[int]:
        """Every port named for *protocol*, ascending."""
        return sorted({p for (p, proto) in self._by_port if proto == protocol})

    def suggestions(self, name: str, limit: int = 3) -> list[str]:
        """Known names close to *name* (for a "did you mean" hint)."""
        import difflib

        return difflib.get_close_matches(name.lower(), list(self._by_name), n=limit, cutoff=0.75)


def parse_query(query: str) -> tuple[str, str | None]:
    """Split ``80/tcp`` or ``http/udp`` into (``80``, ``tcp``); the protocol may be absent."""
    text, slash, protocol = query.strip().partition("/")
    return text, (protocol.lower() if slash else None)
