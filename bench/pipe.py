"""Benchmark: `netbench connect` vs OpenBSD `nc -N` pushing data into `nc -l` on loopback.

Two modes, each run alternately over several pairs (netbench first, then nc
first, ...) so both tools see the same machine load:

* file: stdin is a file in /dev/shm (``CLIENT < /dev/shm/file``)
* pipe: stdin is a pipe (``head -c SIZE /dev/zero | CLIENT``)

The time is from starting the client until both the client and the
``nc -l 127.0.0.1 PORT > /dev/null`` receiver have exited; the client's own
CPU time (user + system, from wait4) is shown too, as it is less sensitive
to the load of a shared machine. Prints each run,
then the median throughput per tool and the ratio netbench/nc (>= 1.0 means
netbench is at least as fast).

With ``--tls`` the transfer is TLS instead: the receiver is
``socat -u OPENSSL-LISTEN:PORT`` (a throwaway self-signed certificate made
with ``openssl req``), the clients ``netbench connect -q 0 --insecure --tls``
(TLS is not half-closed when stdin ends: ``-q 0`` ends it once all is sent)
and ``socat -u STDIN OPENSSL:127.0.0.1:PORT,verify=0``.

    python bench/pipe.py [--size 1G] [--pairs 5] [--mode file|pipe|both] [--tls]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.peers import free_port  # noqa: E402  (after the sys.path line)


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    if text[-1:] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def is_listening(port: int) -> bool:
    """True when something listens on 127.0.0.1:port (read /proc, no connection made)."""
    needle = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as table:
            return any(line.split()[1] == needle and line.split()[3] == "0A" for line in list(table)[1:])
    except OSError:
        return True


def start_receiver(receiver_command: list[str], port: int) -> subprocess.Popen[bytes]:
    """Start the receiver (its command with ``{port}`` filled in); return once it listens."""
    command = [word.format(port=port) for word in receiver_command]
    receiver = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not is_listening(port):
        if time.monotonic() > deadline or receiver.poll() is not None:
            receiver.kill()
            raise SystemExit(f"{command[0]} did not start listening on port {port}")
        time.sleep(0.01)
    return receiver


def run_once(
    client: list[str], mode: str, source: str, size: int, receiver: list[str]
) -> tuple[float, float]:
    """Time one transfer: (wall seconds, client CPU seconds). Retried when
    something else (a port scan by a parallel test run, say) took the
    receiver's one connection first."""
    for _attempt in range(3):
        result = _try_once(client, mode, source, size, receiver)
        if result is not None:
            return result
        print("  (receiver taken by another connection; retrying)")
    raise SystemExit("the receiver kept being taken by other connections")


def _try_once(
    client: list[str], mode: str, source: str, size: int, receiver_command: list[str]
) -> tuple[float, float] | None:
    port = free_port()
    receiver = start_receiver(receiver_command, port)
    command = [word.format(port=port) for word in client]
    feeder: subprocess.Popen[bytes] | None = None
    start = time.perf_counter()
    if mode == "file":
        with open(source, "rb") as stdin:
            process = subprocess.Popen(command, stdin=stdin)
    else:
        feeder = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
        process = subprocess.Popen(command, stdin=feeder.stdout)
        assert feeder.stdout is not None
        feeder.stdout.close()
    # Blocking waits (a wait with a timeout polls, which would blur the times);
    # a watchdog kills everything if something hangs.
    everyone = [p for p in (process, receiver, feeder) if p is not None]
    watchdog = threading.Timer(300, lambda: [p.kill() for p in everyone])
    watchdog.start()
    try:
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        receiver.wait()
        if feeder is not None:
            feeder.wait()
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - start
    if process.returncode in (3, 1) and receiver.returncode == 0:
        return None  # refused: nc -l had already served someone else
    if process.returncode != 0 or receiver.returncode != 0:
        statuses = f"exit {process.returncode}, receiver exit {receiver.returncode}"
        raise SystemExit(f"failed: {command} ({statuses})")
    return elapsed, usage.ru_utime + usage.ru_stime


def use_bytecode_cache() -> None:
    """Let the children cache netbench's bytecode, in a private directory.

    An installed netbench has its .pyc files (pip compiles them); with
    PYTHONDONTWRITEBYTECODE set, as on some CI machines, every run would
    compile netbench from source (~40 ms), which nc does not pay for. The
    cache goes to a temporary PYTHONPYCACHEPREFIX, never into the tree.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="netbench-pycache-")
    subprocess.run([_netbench_command(), "--help"], stdout=subprocess.DEVNULL, check=True, timeout=60)
    subprocess.run(
        [_netbench_command(), "connect", "--help"], stdout=subprocess.DEVNULL, check=True, timeout=60
    )


def _netbench_command() -> str:
    """The ``netbench`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("netbench")
    if not script.exists():
        raise SystemExit(f"{script} not found: pip install -e . first")
    return str(script)


def self_signed(directory: str) -> tuple[str, str]:
    """A throwaway certificate and key for 127.0.0.1 (the TLS receiver's), made with openssl."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def tools_for(tls: bool, nc: str, directory: str) -> tuple[dict[str, list[str]], list[str], str]:
    """The two clients (netbench first), the receiver command and a label, ``{port}`` to fill in."""
    netbench = [_netbench_command(), "connect"]
    if not tls:
        tools = {"netbench": [*netbench, "127.0.0.1", "{port}"], "nc": [nc, "-N", "127.0.0.1", "{port}"]}
        return tools, [nc, "-l", "127.0.0.1", "{port}"], "nc -l"
    socat = shutil.which("socat")
    if socat is None or shutil.which("openssl") is None:
        raise SystemExit("--tls needs socat and openssl")
    cert, key = self_signed(directory)
    tools = {
        "netbench": [*netbench, "-q", "0", "--insecure", "--tls", "127.0.0.1", "{port}"],
        "socat": [socat, "-u", "STDIN", "OPENSSL:127.0.0.1:{port},verify=0"],
    }
    listen = f"OPENSSL-LISTEN:{{port}},bind=127.0.0.1,reuseaddr,cert={cert},key={key},verify=0"
    return tools, [socat, "-u", listen, "STDOUT"], "a TLS socat receiver"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="1G", help="bytes to move (1G, 256M, ...)")
    parser.add_argument("--pairs", type=int, default=5, help="alternating netbench/nc pairs per mode")
    parser.add_argument("--mode", choices=("file", "pipe", "both"), default="both")
    parser.add_argument("--tls", action="store_true", help="TLS into a socat receiver, against socat")
    args = parser.parse_args()
    nc = shutil.which("nc")
    if nc is None:
        print("OpenBSD nc is not installed", file=sys.stderr)
        return 2
    size = parse_size(args.size)
    certificates = tempfile.TemporaryDirectory(prefix="netbench-bench-tls-")
    tools, receiver, label = tools_for(args.tls, nc, certificates.name)
    other = next(name for name in tools if name != "netbench")
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    use_bytecode_cache()
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.NamedTemporaryFile(dir=shm, prefix="netbench-bench-") as source:
        modes = ["file", "pipe"] if args.mode == "both" else [args.mode]
        if "file" in modes:
            chunk = os.urandom(1 << 20)
            for _ in range(size // len(chunk)):
                source.write(chunk)
            source.write(chunk[: size % len(chunk)])
            source.flush()
        print(f"moving {size / (1 << 20):.0f} MiB into {label} on 127.0.0.1, load {os.getloadavg()[0]:.2f}")
        summary = []
        for mode in modes:
            times: dict[str, list[float]] = {name: [] for name in tools}
            cpu: dict[str, list[float]] = {name: [] for name in tools}
            for pair in range(args.pairs):
                order = list(tools) if pair % 2 == 0 else list(reversed(tools))
                for name in order:
                    elapsed, used = run_once(tools[name], mode, source.name, size, receiver)
                    times[name].append(elapsed)
                    cpu[name].append(used)
                    print(
                        f"  {mode:<4} {name:<8} {size / elapsed / 1e9:6.2f} GB/s  ({elapsed:.2f} s, "
                        f"client CPU {used:.2f} s)"
                    )
            medians = {name: size / statistics.median(values) / 1e9 for name, values in times.items()}
            ratio = medians["netbench"] / medians[other]
            cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
            summary.append(
                f"{mode:<4}: netbench {medians['netbench']:.2f} GB/s, {other} {medians[other]:.2f} GB/s, "
                f"ratio netbench/{other} {ratio:.2f}x; client CPU netbench {cpu_medians['netbench']:.2f} s, "
                f"{other} {cpu_medians[other]:.2f} s"
            )
            best = {name: size / min(values) / 1e9 for name, values in times.items()}
            summary.append(
                f"{mode:<4}: best run: netbench {best['netbench']:.2f} GB/s, {other} {best[other]:.2f} GB/s, "
                f"ratio {best['netbench'] / best[other]:.2f}x"
            )
        print(f"median (and best) over {args.pairs} pairs (load now {os.getloadavg()[0]:.2f}):")
        for line in summary:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
