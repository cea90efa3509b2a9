"""The environment a command runs in: streams, terminal flags, directories.

Commands never touch ``sys.stdout`` and friends directly; they get an
:class:`Environment` so tests can replace every part of it (as HTTPie does).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "netbench"


@dataclass
class Environment:
    """Streams and facts about the terminal for one command run."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool | None = None
    stdout_isatty: bool | None = None
    stderr_isatty: bool | None = None
    state_dir: Path = field(default_factory=_default_state_dir)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def __post_init__(self) -> None:
        if self.stdin_isatty is None:
            self.stdin_isatty = _isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)
        if self.stderr_isatty is None:
            self.stderr_isatty = _isatty(self.stderr)

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
        """Whether human output on stdout may use colour."""
        return bool(self.stdout_isatty) and "NO_COLOR" not in self.environ

    def error(self, message: str) -> None:
        """Print one line on stderr, prefixed with the program name."""
        self.stderr.write(f"netbench: {message}\n")
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
