"""Translate OS and ssl exceptions into netbench errors with one-line messages.

Importing this module does not import :mod:`ssl` (a few ms that plain TCP
never needs): an ssl error can only reach :func:`translate` once ssl is loaded.
"""

from __future__ import annotations

import errno
import sys

from netbench.errors import NetbenchError, Refused, Reset, TimedOut, TLSFailure

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.ENOENT}


def translate(error: BaseException, address: str, *, during: str = "") -> NetbenchError:
    """Return the netbench error for *error* raised while talking to *address*.

    ``during`` names the operation for the message ("connect", "send", ...).
    """
    what = f"{during} {address}".strip()
    if isinstance(error, NetbenchError):
        return error
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or error.reason or str(error)
        return TLSFailure(f"TLS certificate of {address} did not verify: {reason}", address)
    if ssl is not None and isinstance(error, ssl.SSLError):
        reason = error.reason or str(error)
        return TLSFailure(f"TLS failure with {address}: {reason}", address)
    if isinstance(error, TimeoutError):
        return TimedOut(f"timed out: {what}", address)
    if isinstance(error, ConnectionRefusedError):
        return Refused(f"connection refused: {address}", address)
    if isinstance(error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return Reset(f"connection reset by peer: {address}", address)
    if isinstance(error, RuntimeError):  # asyncio: write to a closed transport
        return Reset(f"connection to {address} is already closed", address)
    if isinstance(error, FileNotFoundError):
        return Refused(f"no such socket: {address}", address)
    if isinstance(error, OSError) and error.errno in _UNREACHABLE:
        return Refused(f"unreachable: {address} ({error.strerror})", address)
    if isinstance(error, OSError) and error.errno == errno.ETIMEDOUT:
        return TimedOut(f"timed out: {what}", address)
    if isinstance(error, OSError):
        return Refused(f"{what}: {error.strerror or error}", address)
    return NetbenchError(f"{what}: {error}")
