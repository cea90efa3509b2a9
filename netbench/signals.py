"""SIGTERM handled as Ctrl-C is: a clean stop, the summary so far, exit 143.

``kill PID`` (and a CI runner's timeout, and ``docker stop``) sends SIGTERM.
Left to its default, SIGTERM ends netbench at once: no summary, no cleanup,
a half-written line. Inside :func:`sigterm_as_interrupt` it raises
:class:`Terminated` instead, a :class:`KeyboardInterrupt`, so every place
that already stops cleanly on Ctrl-C (the pipe, replay, scan, serve) does
the same on SIGTERM with no code of its own; ``cli.main`` then prints
``terminated`` and exits 143 (128 + SIGTERM) rather than 130::

    from netbench.signals import sigterm_as_interrupt

    with sigterm_as_interrupt():
        ...  # the command's work; except KeyboardInterrupt: print the summary

Code that needs the status of an interrupt uses
:func:`netbench.status.status_for`, which reads :attr:`Terminated.status`.
Only the main thread can install a handler: elsewhere this does nothing.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType

from netbench.status import ExitStatus


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (raised by the handler :func:`sigterm_as_interrupt` installs)."""

    status = ExitStatus.TERMINATED

    def __init__(self) -> None:
        super().__init__("terminated")


def interrupt_word(error: KeyboardInterrupt) -> str:
    """What to tell the user: ``terminated`` (SIGTERM) or ``interrupted`` (Ctrl-C)."""
    return "terminated" if isinstance(error, Terminated) else "interrupted"


def _raise_terminated(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated()


class sigterm_as_interrupt:  # lower case: used as a function, ``with sigterm_as_interrupt():``
    """A context manager: inside it, SIGTERM raises :class:`Terminated` in the main thread.

    The previous handler is put back on exit. Outside the main thread (where
    Python cannot install handlers) it does nothing. A plain class rather than
    ``contextlib.contextmanager``: the ``connect`` start-up path stays light.
    """

    def __init__(self) -> None:
        self._previous: object = None
        self._installed = False

    def __enter__(self) -> sigterm_as_interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, _raise_terminated)
            self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            previous = signal.SIG_DFL if self._previous is None else self._previous
            signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
            self._installed = False
