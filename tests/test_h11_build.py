"""Which h11 is in use: the compiled h11-mypyc where installed, else pure h11, told truthfully.

CI runs the HTTP and recipe tests both ways (with and without h11-mypyc);
these tests hold in either environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from netbench.core.h11_build import describe


def _describe_with(path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), *sys.path])}
    code = "import sys; from netbench.core.h11_build import describe; print(describe(), 'h11' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_describe_names_the_module_the_http_code_imported():
    from netbench.core import http_parser

    name = http_parser.h11.__name__
    assert describe().startswith("h11-mypyc " if name == "h11_mypyc" else "h11 ")


@pytest.mark.parametrize(
    ("extension", "kind"), [(".py", "not compiled"), (".cpython-311-x86_64-linux-gnu.so", "compiled")]
)
def test_a_pure_h11_mypyc_wheel_is_not_called_compiled(tmp_path: Path, extension: str, kind: str):
    package = tmp_path / "h11_mypyc"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('not for importing')\n")
    (package / "_version.py").write_text('__version__ = "9.8.7"\n')
    (package / f"_connection{extension}").write_text("")
    assert _describe_with(tmp_path) == f"h11-mypyc 9.8.7 ({kind}) False"
