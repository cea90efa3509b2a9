"""The embedded lab: small demo servers on loopback.

Services (see :data:`SERVICES`): echo, discard, daytime, chargen (each on
TCP and UDP at one port, as RFC 862, 863, 867, 864 say), http (an h11
server with /index.html, /json, /chunked, /slow, /echo, and /login, /me,
/ready-after that remember sessions and counts), and servers to
learn protocols by hand: smtp (RFC 5321; messages kept, see
:func:`netbench.lab.smtp.mailbox_of`), redis (RESP2), memcached (text
protocol), dns (zone ``lab.test.``, UDP and TCP) and telnet (RFC 854).

From async code::

    server = await start("echo")            # port 0: a free port
    server.port, server.target, server.address
    await server.close()

From sync code (tests, recipes)::

    with running("http", "echo:9007") as lab:
        lab["http"].port

Only loopback addresses (127.0.0.0/8, ::1) are accepted.
"""

from __future__ import annotations

from netbench.lab.base import LabServer
from netbench.lab.catalog import SERVICES, check_loopback, parse_spec, transports_of
from netbench.lab.runner import Lab, running, start_all
from netbench.lab.services import start

__all__ = [
    "SERVICES",
    "Lab",
    "LabServer",
    "check_loopback",
    "parse_spec",
    "running",
    "start",
    "start_all",
    "transports_of",
]
