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

An asyncio command runs its coroutine with :func:`run_async` instead of
``asyncio.run``: SIGTERM then cancels the main task, exactly as
``asyncio.run`` does for Ctrl-C (so ``finally`` blocks and ``async with``
exits run in the loop), and :class:`Terminated` is raised once the loop has
closed. (Raising from a plain signal handler in the middle of the event
loop would drop queued callbacks on the floor.)

Code that needs the status of an interrupt uses
:func:`netbench.status.status_for`, which reads :attr:`Terminated.status`.
Only the main thread can install a handler: elsewhere this does nothing.
"""

from __future__ import annotations

import signal

from netbench.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from types import FrameType, TracebackType
    from typing import Any, TypeVar

    T = TypeVar("T")
    Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (raised by the handler :func:`sigterm_as_interrupt` installs)."""

    status = ExitStatus.TERMINATED

    def __init__(self) -> None:
        super().__init__("terminated")


def interrupt_word(error: KeyboardInterrupt) -> str:
    """What to tell the user: ``terminated`` (SIGTERM) or ``interrupted`` (Ctrl-C)."""
    return "terminated" if isinstance(error, Terminated) else "interrupted"


def _restore(previous: Handler) -> None:
    """Put back the SIGTERM handler *previous* (None, a handler set from C, means the default)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _raise_terminated(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated()


class sigterm_as_interrupt:  # lower case: used as a function, ``with sigterm_as_interrupt():``
    """A context manager: inside it, SIGTERM raises :class:`Terminated` in the main thread.

    The previous handler is put back on exit. Outside the main thread (where
    Python cannot install handlers) it does nothing. A plain class rather than
    ``contextlib.contextmanager``: the ``connect`` start-up path stays light.
    """

    def __init__(self) -> None:
        self._previous: Handler = None
        self._installed = False

    def __enter__(self) -> sigterm_as_interrupt:
        try:
            self._previous = signal.signal(signal.SIGTERM, _raise_terminated)
            self._installed = True
        except ValueError:  # not the main thread, where alone Python runs handlers
            pass
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            _restore(self._previous)
            self._installed = False


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, with SIGTERM handled as ``asyncio.run`` handles Ctrl-C.

    SIGTERM cancels the main task (its ``finally`` blocks run in the loop);
    when the loop is closed :class:`Terminated` is raised, whether or not the
    coroutine let the cancellation through. Outside the main thread this is
    plain ``asyncio.run``.
    """
    import asyncio
    import threading

    if threading.current_thread() is not threading.main_thread():
        return asyncio.run(main)
    terminated: list[bool] = []

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def on_sigterm() -> None:
            terminated.append(True)
            task.cancel()

        previous = signal.getsignal(signal.SIGTERM)
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            return await main
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            _restore(previous)

    try:
        result = asyncio.run(guarded())
    except asyncio.CancelledError:
        if terminated:
            raise Terminated() from None
        raise
    if terminated:
        raise Terminated()
    return result
