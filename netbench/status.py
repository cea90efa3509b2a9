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
    INTERRUPTED = 130


def status_for(error: BaseException) -> ExitStatus:
    """Return the exit status for *error*.

    netbench errors carry their own status; a KeyboardInterrupt is 130; any
    other exception is not expected here and maps to 1 only as a last resort
    (callers report it as a bug).
    """
    from netbench.errors import NetbenchError

    if isinstance(error, NetbenchError):
        return error.status
    if isinstance(error, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    return ExitStatus.EXPECTATION_FAILED
