"""``python -m netbench``."""

from netbench.cli import run

run()
