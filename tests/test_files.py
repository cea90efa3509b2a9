"""netbench.files.write_file: atomic over regular files, through links, straight into FIFOs and devices.

Also through the command line: ``replay --junit-xml`` to a FIFO, a symlink
and /dev/stdout, and ``/save``'s writer (recipe.dump.save).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from netbench.files import write_file
from tests.pipe_helpers import ENV, ROOT
from tests.support.cli import run_main

ECHO_RECIPE = ROOT / "recipes" / "echo.recipe.yaml"


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with open(path, "rb") as fifo:
            into.append(fifo.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread


def test_new_path_gets_the_umask_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.txt"
    old = os.umask(0o027)
    try:
        write_file(path, "hello\n")
    finally:
        os.umask(old)
    assert path.read_text() == "hello\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["new.txt"]  # no temporary file left


def test_regular_file_is_replaced_and_keeps_its_permission_bits(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_text("old and longer than the new text\n")
    path.chmod(0o600)
    before = path.stat().st_ino
    write_file(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != before  # a rename: readers saw the old file or the new, never half


def test_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "report.xml"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.xml"
    link.symlink_to(real)
    write_file(link, "new\n")
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["report.xml"]


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.xml"
    link.symlink_to(tmp_path / "later.xml")
    write_file(link, "made\n")
    assert link.is_symlink()
    assert (tmp_path / "later.xml").read_text() == "made\n"


def test_fifo_gets_the_data_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    write_file(fifo, "through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_character_device_is_written_not_replaced() -> None:
    write_file("/dev/null", "nothing\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        write_file(tmp_path, "x")
    assert list(tmp_path.iterdir()) == []


def test_unix_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(OSError, match="not a regular file"):
            write_file(path, "x")
        assert stat.S_ISSOCK(path.stat().st_mode)


def test_replace_false_refuses_an_existing_path_and_creates_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "keep.txt"
    write_file(path, "first\n", replace=False)
    with pytest.raises(FileExistsError):
        write_file(path, "second\n", replace=False)
    assert path.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_save_writes_a_recipe_into_a_fifo(tmp_path: Path) -> None:
    from netbench.recipe.dump import save
    from netbench.recipe.load import load_recipe

    recipe = load_recipe(str(ECHO_RECIPE))
    fifo = tmp_path / "saved.recipe.yaml"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    save(recipe, fifo)
    reader.join(10)
    assert got and b"netbench: 1" in got[0]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_junit_xml_into_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "junit.xml"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    status, _out, err = run_main(["replay", "-q", "--junit-xml", str(fifo), str(ECHO_RECIPE)])
    reader.join(10)
    assert status == 0, err
    assert got and got[0].startswith(b"<?xml")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_junit_xml_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "junit.xml"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "junit.xml"
    link.symlink_to(real)
    status, _out, err = run_main(["replay", "-q", "--junit-xml", str(link), str(ECHO_RECIPE)])
    assert status == 0, err
    assert link.is_symlink()
    assert real.read_text().startswith("<?xml")


def test_junit_xml_to_dev_stdout_prints_the_report() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "netbench", "replay", "-q", "--junit-xml", "/dev/stdout", str(ECHO_RECIPE)],
        capture_output=True,
        timeout=60,
        env=ENV,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert b"<?xml" in result.stdout and b"<testsuite" in result.stdout


def test_junit_xml_in_a_missing_directory_is_one_line_and_status_2(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "junit.xml"
    status, _out, err = run_main(["replay", "-q", "--junit-xml", str(target), str(ECHO_RECIPE)])
    assert status == 2
    assert err == f"netbench: cannot write {target}: No such file or directory\n"
    assert not (tmp_path / "no").exists()


def test_junit_xml_into_a_directory_is_one_line_and_status_2(tmp_path: Path) -> None:
    status, _out, err = run_main(["replay", "-q", "--junit-xml", str(tmp_path), str(ECHO_RECIPE)])
    assert status == 2
    assert err.count("\n") == 1 and "cannot write" in err
