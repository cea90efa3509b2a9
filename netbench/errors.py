"""The one error tree of netbench.

Every error a user can cause or meet is a :class:`NetbenchError`. Each class
knows its exit status, and ``str(error)`` is the one line that is printed on
stderr. Fields are set in ``__init__`` so callers can inspect them.

"Closed by you" and "broken by the peer" are different errors: using a
session after :meth:`close` raises :class:`SessionClosed`; the peer resetting
the connection raises :class:`Reset`. A timeout is always :class:`TimedOut`,
never an empty read.
"""

from __future__ import annotations

from netbench.status import ExitStatus


class NetbenchError(Exception):
    """Base of every error netbench reports to a user."""

    status: ExitStatus = ExitStatus.EXPECTATION_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(NetbenchError):
    """Bad arguments or a bad target given by the user."""

    status = ExitStatus.USAGE


class NotFound(UsageError):
    """A well-formed look-up that found nothing (``services 18080``, an unknown name).

    Exit status 1, as grep's for a search with no match; a malformed query
    stays a :class:`UsageError` (2). Callers that treat any bad name as a
    usage error catch :class:`UsageError` and get this too.
    """

    status = ExitStatus.EXPECTATION_FAILED


class TargetError(UsageError):
    """A target that cannot be parsed or resolved."""

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text


class NetworkError(NetbenchError):
    """Something went wrong talking to a peer."""

    def __init__(self, message: str, address: str = "") -> None:
        super().__init__(message)
        self.address = address


class Refused(NetworkError):
    """Connection refused, or the host or network is unreachable."""

    status = ExitStatus.REFUSED


class TimedOut(NetworkError):
    """A network wait ran past its deadline.

    ``partial`` holds the bytes that did arrive before the deadline, if any.
    """

    status = ExitStatus.TIMEOUT

    def __init__(self, message: str, address: str = "", partial: bytes = b"") -> None:
        super().__init__(message, address)
        self.partial = partial


class Reset(NetworkError):
    """The peer reset the connection or closed it before we were done."""

    status = ExitStatus.RESET

    def __init__(self, message: str, address: str = "", partial: bytes = b"") -> None:
        super().__init__(message, address)
        self.partial = partial


class SessionClosed(NetworkError):
    """The session was used after *we* closed it (not the peer's doing)."""

    status = ExitStatus.RESET


class ProtocolError(NetbenchError):
    """A malformed message.

    ``remote`` is True when the peer sent something invalid (exit status 6),
    False when we were asked to send something invalid: that is the user's
    input, so the status is 2 (usage), as for any other bad argument.
    ``partial`` holds the bytes that did arrive, for the report.
    """

    status = ExitStatus.PROTOCOL

    def __init__(self, message: str, remote: bool = True, partial: bytes = b"") -> None:
        super().__init__(message)
        self.remote = remote
        self.partial = partial
        if not remote:
            self.status = ExitStatus.USAGE


class TLSFailure(NetworkError):
    """The TLS handshake failed or the certificate did not verify."""

    status = ExitStatus.TLS


class RecipeError(NetbenchError):
    """An unreadable or invalid recipe: ``file:line: what is wrong``."""

    status = ExitStatus.USAGE

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        where = path
        if path and line is not None:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.line = line
        self.reason = message


class ExpectationFailed(NetbenchError):
    """A recipe's expectation was not met."""

    status = ExitStatus.EXPECTATION_FAILED
