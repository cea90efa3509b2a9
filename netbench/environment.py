"""The environment a command runs in: streams, terminal flags, directories.

Commands never touch ``sys.stdout`` and friends directly; they get an
:class:`Environment` so tests can replace every part of it (as HTTPie does).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from pathlib import Path
    from typing import BinaryIO, TextIO


def _default_state_dir() -> Path:
    from pathlib import Path  # only the REPL's history needs it: pathlib costs ~5 ms of start-up

    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "netbench"


_UNSET: object = object()


class Environment:
    """Streams and facts about the terminal for one command run.

    Every argument is optional: the streams default to ``sys.stdin``/``stdout``/
    ``stderr`` (read when the Environment is made), the tty flags to what the
    streams say, ``state_dir`` to ``$XDG_STATE_HOME/netbench`` (else
    ``~/.local/state/netbench``), ``environ`` to a copy of ``os.environ``,
    ``color_choice`` (``--color``) to ``auto``.
    A plain class, not a dataclass: importing :mod:`dataclasses` (and with it
    :mod:`inspect`) cost every command ~10 ms of start-up.
    """

    __match_args__ = (
        "stdin",
        "stdout",
        "stderr",
        "stdin_isatty",
        "stdout_isatty",
        "stderr_isatty",
        "state_dir",
        "environ",
        "color_choice",
    )

    def __init__(
        self,
        stdin: TextIO = _UNSET,  # type: ignore[assignment]
        stdout: TextIO = _UNSET,  # type: ignore[assignment]
        stderr: TextIO = _UNSET,  # type: ignore[assignment]
        stdin_isatty: bool | None = None,
        stdout_isatty: bool | None = None,
        stderr_isatty: bool | None = None,
        state_dir: Path = _UNSET,  # type: ignore[assignment]
        environ: dict[str, str] = _UNSET,  # type: ignore[assignment]
        color_choice: str = "auto",
    ) -> None:
        self.stdin: TextIO = sys.stdin if stdin is _UNSET else stdin
        self.stdout: TextIO = sys.stdout if stdout is _UNSET else stdout
        self.stderr: TextIO = sys.stderr if stderr is _UNSET else stderr
        self.stdin_isatty: bool | None = _isatty(self.stdin) if stdin_isatty is None else stdin_isatty
        self.stdout_isatty: bool | None = _isatty(self.stdout) if stdout_isatty is None else stdout_isatty
        self.stderr_isatty: bool | None = _isatty(self.stderr) if stderr_isatty is None else stderr_isatty
        self._state_dir: Path | None = None if state_dir is _UNSET else state_dir
        self.environ: dict[str, str] = dict(os.environ) if environ is _UNSET else environ
        self.color_choice = color_choice  # --color: auto, always or never (cli.main sets it)

    @property
    def state_dir(self) -> Path:
        """Where netbench keeps state (the REPL's history), worked out on first use."""
        if self._state_dir is None:
            self._state_dir = _default_state_dir()
        return self._state_dir

    @state_dir.setter
    def state_dir(self, value: Path) -> None:
        self._state_dir = value

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"Environment({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__match_args__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    @property
    def stdin_bytes(self) -> BinaryIO:
        """The binary side of stdin."""
        return getattr(self.stdin, "buffer", self.stdin)  # type: ignore[arg-type]

    @property
    def stdout_bytes(self) -> BinaryIO:
        """The binary side of stdout (flush ``stdout`` before writing here)."""
        return getattr(self.stdout, "buffer", self.stdout)  # type: ignore[arg-type]

    @property
    def color(self) -> bool:
        """Whether human output on stdout may use colour (see :func:`netbench.style.wants_color`)."""
        from netbench.style import wants_color

        return wants_color(self.color_choice, self.environ, self.stdout_isatty)

    @property
    def err_color(self) -> bool:
        """Whether what goes to stderr may use colour (see :func:`netbench.style.wants_color`)."""
        from netbench.style import wants_color

        return wants_color(self.color_choice, self.environ, self.stderr_isatty)

    def error(self, message: str) -> None:
        """Print one line on stderr, prefixed with the program name (made terminal-safe)."""
        from netbench.core.escape import scrub

        self.stderr.write(f"netbench: {scrub(message)}\n")
        self.stderr.flush()

    def note(self, message: str) -> None:
        """Print an informational line on stderr."""
        self.stderr.write(f"{message}\n")
        self.stderr.flush()


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False
