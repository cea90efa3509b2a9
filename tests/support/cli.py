"""Run ``netbench`` in-process with captured streams, for command tests."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from netbench.cli import main
from netbench.environment import Environment


def run_main(
    argv: Sequence[str],
    *,
    stdin: str = "",
    tty: bool = False,
    environ: dict[str, str] | None = None,
    state_dir: Path | None = None,
) -> tuple[int, str, str]:
    """``netbench ARGV`` with *stdin* as its input; return (status, stdout, stderr).

    *tty* makes stdout and stderr claim to be terminals (stdin never is).
    *environ* and *state_dir* default to the Environment's own defaults
    (this process's environment, the user's state directory).
    """
    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
        stdin_isatty=False,
        stdout_isatty=tty,
        stderr_isatty=tty,
    )
    if environ is not None:
        env.environ = environ
    if state_dir is not None:
        env.state_dir = state_dir
    status = main(list(argv), env)
    return status, out.getvalue(), err.getvalue()
