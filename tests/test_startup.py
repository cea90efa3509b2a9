"""`connect` and `listen` stay light: running them never imports prompt_toolkit.

Each check runs the real code path in a fresh interpreter (so modules other
tests imported do not count) and reports what ended up in sys.modules. No
timings are asserted (bench/startup.py measures those).
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.pipe_helpers import ENV
from tests.support.peers import free_port

PROBE = r"""
import io, json, socket, sys, threading
from netbench.cli import main
from netbench.environment import Environment

def env():
    return Environment(stdin=open("/dev/null"), stdout=open("/dev/null", "w"), stderr=io.StringIO())

statuses = {}
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
port = listener.getsockname()[1]
def peer():
    conn, _ = listener.accept()
    conn.sendall(b"")
    conn.close()

threading.Thread(target=peer, daemon=True).start()
statuses["connect"] = main(["connect", "-w", "5", "127.0.0.1", str(port)], env())
statuses["connect -z"] = main(["connect", "-z", "127.0.0.1", str(port)], env())
free = socket.socket(); free.bind(("127.0.0.1", 0)); closed_port = free.getsockname()[1]; free.close()
statuses["refused"] = main(["connect", "127.0.0.1", str(closed_port)], env())

free = socket.socket(); free.bind(("127.0.0.1", 0)); free_port = free.getsockname()[1]; free.close()

def client():
    import time
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", free_port), timeout=5) as sock:
                sock.sendall(b"hi")
                sock.shutdown(socket.SHUT_WR)
                sock.recv(10)
                return
        except OSError:
            time.sleep(0.02)

threading.Thread(target=client, daemon=True).start()
statuses["listen"] = main(["listen", "-w", "5", str(free_port)], env())
watched = ("prompt_toolkit", "asyncio", "ssl", "pygments", "yaml", "h11")
modules = sorted(m for m in sys.modules if m.split(".")[0] in watched)
print(json.dumps({"statuses": statuses, "modules": modules}))
"""


def test_connect_and_listen_do_not_import_prompt_toolkit() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, timeout=60, env=ENV, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["statuses"] == {"connect": 0, "connect -z": 0, "refused": 3, "listen": 0}
    modules = {name.split(".")[0] for name in report["modules"]}
    assert "prompt_toolkit" not in modules
    assert "pygments" not in modules
    # The TCP fast path needs neither asyncio nor an HTTP or YAML library.
    assert not modules & {"asyncio", "h11", "yaml"}, modules


def test_version_imports_almost_nothing() -> None:
    probe = "import sys; from netbench.cli import main; main(['--version']); print(sorted(sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30, env=ENV)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.decode()
    for heavy in ("prompt_toolkit", "asyncio", "ssl", "yaml", "h11", "netbench.net"):
        assert f"'{heavy}'" not in loaded, heavy


# What netbench itself imports is seen with ``python -S``: this environment's site-packages
# .pth files (an editable-install finder, a CA-bundle hook) import typing, pathlib and more
# before netbench starts, which a plain pip install does not.
OWN_IMPORTS = r"""
import json, socket, sys
before = set(sys.modules)
from netbench.cli import main
from netbench.environment import Environment
import io
argv = sys.argv[1:]
if argv[0] == "connect":
    free = socket.socket(); free.bind(("127.0.0.1", 0)); port = free.getsockname()[1]; free.close()
    argv = ["connect", "127.0.0.1", str(port)]
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    status = main(argv, env)
else:
    status = main(argv)
print(json.dumps({"status": int(status), "new": sorted(set(sys.modules) - before)}))
"""


def _own_imports(*argv: str) -> tuple[int, set[str]]:
    result = subprocess.run(
        [sys.executable, "-S", "-c", OWN_IMPORTS, *argv], capture_output=True, text=True, timeout=30, env=ENV
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    return report["status"], set(report["new"])


def test_version_imports_no_argparse_typing_or_pathlib() -> None:
    status, new = _own_imports("--version")
    assert status == 0
    forbidden = {"argparse", "typing", "pathlib", "shutil", "dataclasses", "inspect"}
    forbidden |= {"asyncio", "ssl", "yaml"}
    assert not new & forbidden, new & forbidden
    ours = {m for m in new if m.startswith(("netbench.commands", "netbench.net", "netbench.core"))}
    assert ours <= {"netbench.core", "netbench.core.h11_build"}, ours  # which h11: looked up, not imported
    assert "h11" not in new and "h11_mypyc" not in new


def test_connect_refused_imports_only_what_the_pipe_needs() -> None:
    status, new = _own_imports("connect")
    assert status == 3
    heavy = {"asyncio", "ssl", "yaml", "h11", "dataclasses", "inspect", "pathlib", "shutil", "bz2", "lzma"}
    heavy |= {"prompt_toolkit", "pygments", "json", "tempfile", "random"}
    assert not {m.split(".")[0] for m in new} & heavy, {m.split(".")[0] for m in new} & heavy


def test_udp_and_tls_paths_do_not_import_prompt_toolkit() -> None:
    udp_port, tcp_port = free_port(), free_port()
    probe = (
        "import io, sys; from netbench.cli import main; from netbench.environment import Environment\n"
        "env = Environment(stdin=open('/dev/null'), stdout=open('/dev/null', 'w'), stderr=io.StringIO())\n"
        f"status = main(['connect', '-u', '-w', '0.2', '127.0.0.1', '{udp_port}'], env)\n"
        f"tls = main(['connect', '--tls', '-w', '2', '127.0.0.1', '{tcp_port}'], env)\n"
        "print(status, tls, 'asyncio' in sys.modules, 'prompt_toolkit' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30, env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [b"0", b"3", b"False", b"False"]  # (nor asyncio: the pipe is blocking)
