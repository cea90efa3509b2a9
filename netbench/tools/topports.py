"""The ordering behind ``scan --top N``: data, not a network look-up.

The services database says what a port is called, not how often it is
found open, so netbench ships its own short ordered list of the ports most
often found answering on servers and workstations (remote access, web,
mail, file sharing, databases, message brokers, development servers). The
full ordering used by ``--top N`` is (see :func:`netbench.tools.portspec.top_ports`):

1. the ports below, in this order;
2. every other port the services database names for the protocol, ascending;
3. every remaining port from 1 to 65535, ascending.
"""

from __future__ import annotations

# The tables stay in rows (one port a line would be 170 lines).
# fmt: off
COMMON_TCP: tuple[int, ...] = (
    80, 443, 22, 21, 23, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080,
    1723, 111, 995, 993, 5900, 587, 8888, 8443, 8000, 465, 5432, 6379, 27017,
    11211, 1433, 1521, 5000, 3000, 9000, 9090, 9200, 9300, 5672, 15672, 1883,
    8883, 2375, 2376, 6443, 10250, 2379, 2380, 8081, 8008, 8009, 8880, 81, 88,
    113, 119, 179, 199, 389, 427, 513, 514, 515, 548, 554, 631, 636, 646, 873,
    990, 1025, 1026, 1027, 1080, 1194, 1720, 2000, 2049, 2121, 3128, 3268,
    3690, 4443, 4444, 5060, 5061, 5222, 5269, 5353, 5601, 5666, 5800, 5901,
    5984, 6000, 6001, 6667, 7001, 7070, 7443, 7777, 8001, 8082, 8083, 8086,
    8089, 8161, 8181, 8200, 8500, 8765, 8983, 9001, 9042, 9092, 9100, 9418,
    9443, 9999, 10000, 11111, 25565, 27018, 32768, 49152, 49153, 49154,
    50000, 50070, 61616,
)

COMMON_UDP: tuple[int, ...] = (
    53, 123, 161, 137, 138, 67, 68, 69, 500, 514, 520, 1900, 4500, 5353,
    162, 111, 2049, 1194, 51820, 443, 1812, 1813, 5060, 3478, 11211, 19, 7,
    9, 13, 17, 37, 177, 427, 631, 1434, 5355, 33434,
)
# fmt: on
