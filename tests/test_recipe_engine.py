"""The engine over real sockets: lab services, nginx, socat (unix, TLS); reports and statuses."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbench import replay
from netbench.lab import Lab, running
from tests.support.cli import run_main
from tests.support.peers import Nginx, free_port, require_binary, wait_for_port

SECRET = "s3cr3t-v4lue-never-shown"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("echo", "http", "discard") as lab:
        yield lab


def write(tmp_path: Path, text: str, name: str = "r") -> Path:
    path = tmp_path / f"{name}.recipe.yaml"
    path.write_text("netbench: 1\n" + text)
    return path


def cli(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    return run_main(argv, environ=environ or {})


def test_binary_mismatch_shows_hexdumps_with_the_first_difference_marked(tmp_path: Path, lab: Lab) -> None:
    path = write(tmp_path, "steps:\n  - send_hex: '00 01 02 03 04'\n    expect: {hex: '00 01 ff 03 04'}\n")
    status, out, _ = cli("replay", str(path), "--target", lab["echo"].address)
    assert status == 1
    assert f"{path}:3: step 1 of 1 failed: received bytes differ" in out
    assert "first difference at offset 2 (0x2)" in out
    assert "00 01>ff 03 04" in out and "00 01>02 03 04" in out


def test_timeout_reports_the_partial_data(tmp_path: Path, lab: Lab) -> None:
    path = write(
        tmp_path,
        "steps:\n  - send: 'no newline yet'\n    expect: {line: 'no newline yet'}\n    timeout: 0.3\n",
    )
    result = replay(path, target=lab["echo"].address)
    assert result.status == 1
    report = result.report()
    assert "timed out after 0.3 s waiting for line" in report
    assert "received (14 bytes):" in report and "no newline yet" in report


def test_text_mismatch_against_a_changed_server_is_a_readable_diff(tmp_path: Path, lab: Lab) -> None:
    path = write(
        tmp_path,
        "steps:\n  - http: {url: /index.html}\n"
        '    expect: {status: 200, body: "<html><body>hello moon</body></html>\\n"}\n',
    )
    result = replay(path, target=lab["http"].address)
    assert not result.ok
    report = result.report()
    assert "-<html><body>hello moon</body></html>\\n" in report
    assert "+<html><body>hello world</body></html>\\n" in report


def test_secrets_never_appear_in_output_reports_or_files(tmp_path: Path, lab: Lab) -> None:
    path = write(
        tmp_path,
        "steps:\n  - http:\n      url: /echo\n      headers: {Authorization: 'Bearer ${secret:TOKEN}'}\n"
        "    expect: {status: 200, body: {contains: 'this is not there'}}\n",
    )
    junit = tmp_path / "junit.xml"
    environ = {"NETBENCH_SECRET_TOKEN": SECRET}
    status, out, err = cli(
        "replay", str(path), "--target", lab["http"].address, "--junit-xml", str(junit), environ=environ
    )
    assert status == 1
    assert "Bearer ***" in out  # the echoed request is shown, masked
    status, json_out, _ = cli("replay", "--json", str(path), "--target", lab["http"].address, environ=environ)
    assert json.loads(json_out)["recipes"][0]["status"] == 1
    for text in (out, err, json_out, junit.read_text()):
        assert SECRET not in text
    status, _, err = cli("replay", str(path), "--target", lab["http"].address)
    assert status == 2 and "secret TOKEN is not set (set NETBENCH_SECRET_TOKEN" in err + _


def test_undefined_variable_names_it_and_the_step(tmp_path: Path, lab: Lab) -> None:
    path = write(tmp_path, "steps:\n  - send: a\n  - send: '${nope}'\n")
    status, out, _ = cli("replay", str(path), "--target", lab["discard"].address)
    assert status == 2
    assert f"{path}:4: step 2: undefined variable ${{nope}}" in out


def test_vars_override_and_captures_feed_later_steps(tmp_path: Path, lab: Lab) -> None:
    path = write(
        tmp_path,
        "vars: {who: recipe}\nsteps:\n  - send: \"id=${who}-42\\n\"\n"
        "    expect: {regex: 'id=(\\w+)-(\\d+)\\n'}\n"
        "    capture: {name: {regex: 'id=(\\w+)'}, number: {regex: '-(\\d+)'}}\n"
        "  - send: \"${name}/${number}\\n\"\n    expect: {line: 'cli/42'}\n",
    )
    assert cli("replay", str(path), "-t", lab["echo"].address, "--var", "who=cli")[0] == 0
    assert cli("replay", str(path), "-t", lab["echo"].address)[0] == 1


def test_network_statuses_and_the_exit_rule(tmp_path: Path, lab: Lab) -> None:
    refused = f"127.0.0.1:{free_port()}"
    path = write(tmp_path, "steps:\n  - send: a\n")
    status, out, _ = cli("replay", str(path), "--target", refused)
    assert status == 3 and "connection refused" in out
    other = write(tmp_path, "steps:\n  - send: a\n    expect: {line: b}\n", "other")
    assert cli("replay", str(path), str(other), "--target", refused)[0] == 3
    assert cli("replay", str(path), str(other), "--target", lab["echo"].address)[0] == 1


def test_http_recipe_against_nginx(tmp_path: Path, nginx: Nginx) -> None:
    path = write(
        tmp_path,
        "steps:\n"
        "  - http: {url: /data.json, headers: {Accept-Encoding: gzip}}\n"
        "    expect: {status: 200, headers: {Content-Encoding: gzip}, body: {contains: netbench}}\n"
        "    capture: {port: {json: 'ports[1]'}}\n"
        "  - http: {method: HEAD, url: /index.html}\n    expect: {status: 200}\n"
        "  - http: {url: '/teapot?${port}'}\n    expect: {status: 418, body: \"short and stout\\n\"}\n",
    )
    result = replay(path, target=f"127.0.0.1:{nginx.port}")
    assert result.ok, result.report()
    assert result.captures["port"] == "443"


def _wait_for_unix_listener(path: Path, timeout: float = 10.0) -> None:
    """Until a connection to *path* is accepted: socat creates the file (bind) before it listens."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.05)


def test_unix_socket_target(tmp_path: Path) -> None:
    socat = require_binary("socat")
    sock = tmp_path / "echo.sock"
    server = subprocess.Popen([socat, f"UNIX-LISTEN:{sock},fork", "EXEC:cat"])
    try:
        _wait_for_unix_listener(sock)
        path = write(tmp_path, 'steps:\n  - send: "over unix\\n"\n    expect: {line: over unix}\n')
        result = replay(path, target=f"unix:{sock}")
        assert result.ok, result.report()
    finally:
        server.terminate()
        server.wait(5)


def test_tls_target_with_a_private_ca(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    socat = require_binary("socat")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    pem = tmp_path / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    server = subprocess.Popen(
        [socat, f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={pem},verify=0", "EXEC:cat"],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        path = write(
            tmp_path,
            f"target: tls://127.0.0.1:{port}\ntls: {{cafile: '{ca_file}', sni: localhost}}\n"
            'steps:\n  - send: "secure hello\\n"\n    expect: {line: secure hello}\n',
        )
        result = replay(path)
        assert result.ok, result.report()
        untrusted = write(tmp_path, f"target: tls://127.0.0.1:{port}\nsteps:\n  - send: x\n", "untrusted")
        assert replay(untrusted).status == 7
    finally:
        server.terminate()
        server.wait(5)
