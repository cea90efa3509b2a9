"""Exit statuses shared by every command, and the mapping from errors to them."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """What a netbench command returns to the shell (see DESIGN.md)."""

    OK = 0
    EXPECTATION_FAILED = 1
    USAGE = 2
    REFUSED = 3
    TIMEOUT = 4
    RESET = 5
    PROTOCOL = 6
    TLS = 7
    INTERNAL = 70  # EX_SOFTWARE: a bug in netbench, not something the user or a peer did
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    TERMINATED = 143  # SIGTERM (128 + SIGTERM), handled as Ctrl-C is


def status_for(error: BaseException) -> ExitStatus:
    """Return the exit status for *error*.

    netbench errors carry their own status; SIGTERM (see
    :mod:`netbench.signals`) is 143 and any other KeyboardInterrupt 130; any
    other exception is a bug in netbench: 70 (EX_SOFTWARE), never 1, so that
    CI can tell a bug from a failed expectation.
    """
    from netbench.errors import NetbenchError

    if isinstance(error, NetbenchError):
        return error.status
    if isinstance(error, KeyboardInterrupt):
        return ExitStatus(getattr(error, "status", ExitStatus.INTERRUPTED))
    return ExitStatus.INTERNAL
