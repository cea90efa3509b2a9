"""Writing a file the user named: never half a file, never the wrong thing replaced.

:func:`write_file` is the one way netbench writes a file (``/save``,
``--junit-xml``, recordings). What it does depends on what is at the path:

- nothing (a new path) or a **regular file**: the data goes to a temporary
  file in the same directory, is flushed to disk, and is renamed over the
  path, so a reader sees the old file or the new one, never half of one.
  An existing file keeps its permission bits (and, for root, its owner); a
  new file gets ``0666`` less the umask, like ``>`` in a shell. (A file with
  other hard links is replaced by a new one, as editors that save by
  renaming do: the other names keep the old content.)
- a **symbolic link**: followed to its target, and the target is replaced
  as above; the link stays a link (as ``>`` through a link does).
- a **character device or FIFO** (``/dev/stdout``, ``/dev/null``, a named
  pipe; and any path under ``/dev/`` or ``/proc/``): written straight into,
  so ``--junit-xml /dev/stdout`` prints the report and a FIFO's reader gets
  the data, instead of the device or pipe being swapped for a regular file.
  Opening a FIFO waits for its reader, as a shell redirection does.
- anything else (a directory, a socket, a block device): refused with an
  :class:`OSError`, nothing written.

With ``replace=False`` an existing path is refused (:class:`FileExistsError`)
and a new file appears atomically or not at all (a hard link, not a rename,
so a file created meanwhile by someone else is not replaced either).
Errors are :class:`OSError`; callers turn them into a one-line message.
"""

from __future__ import annotations

import os
import stat

STREAM_PREFIXES = ("/dev/", "/proc/")


def write_file(path: str | os.PathLike[str], data: str | bytes, *, replace: bool = True) -> None:
    """Write *data* (text is UTF-8 with ``\\n`` line ends) to *path*, by the rules above."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    given = os.fspath(path)
    try:
        # stat() follows links the kernel's way, /proc's "magic" links (/dev/stdout) included.
        info: os.stat_result | None = os.stat(given)
    except FileNotFoundError:
        info = None
    if info is not None and not replace:
        raise FileExistsError(17, "file exists (not replaced)", given)
    if info is not None and (stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
        _write_straight(given, payload)
    elif info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "is a directory", given)
        raise OSError(22, "not a regular file, a character device or a FIFO", given)
    elif given.startswith(STREAM_PREFIXES):
        _write_straight(given, payload)  # e.g. /dev/fd/3: never make or replace files under /dev or /proc
    else:
        _write_replacing(os.path.realpath(given), payload, info, replace)


def _write_straight(target: str, payload: bytes) -> None:
    """Write into a device or FIFO as it is: no temporary file, no rename, no truncation needed."""
    fd = os.open(target, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def _write_replacing(target: str, payload: bytes, info: os.stat_result | None, replace: bool) -> None:
    """Write *payload* to a temporary file beside *target*, then move it into place."""
    import tempfile

    directory, name = os.path.split(target)
    handle, temporary = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        if info is None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        else:
            os.chmod(temporary, stat.S_IMODE(info.st_mode))
            if os.geteuid() == 0:
                try:
                    os.chown(temporary, info.st_uid, info.st_gid)
                except OSError:
                    pass
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # fails if the path appeared meanwhile: nothing replaced
            os.unlink(temporary)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
