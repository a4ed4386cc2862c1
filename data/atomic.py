"""Replacing a file atomically, so that a reader only ever sees the old file or the new one.

The new content is written to a temporary file in the *same directory* (``os.replace`` is atomic
only within one file system), flushed to disk with ``fsync``, then renamed over the target; the
directory is fsynced afterwards so the rename itself survives a power cut. On any failure, the
temporary file is removed and the target is left exactly as it was.

Temporary files are named ``.<name>.<8 hex digits>.tmp`` beside the target; one left behind by a
killed process is recognisable by that name and safe to delete.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def resolve_target(path: str | os.PathLike) -> Path:
    """The file to replace: symbolic links are followed, so a link keeps pointing at the session."""
    return Path(os.path.realpath(os.fspath(path)))


def new_temp_file(target: Path) -> Path:
    """Create an empty, uniquely named file beside ``target`` and return its path.

    Created with mode 0o666 filtered by the umask, like any new file (``tempfile`` would use 0o600).
    Raises OSError (e.g. PermissionError, FileNotFoundError) when the directory does not allow it.
    """
    while True:
        candidate = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate


@contextmanager
def replacing(target: Path, *, copy_existing: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it atomically replaces ``target``.

    With ``copy_existing`` the temporary file starts as a byte copy of ``target`` (which must
    exist). When the body raises (anything, KeyboardInterrupt included), the temporary file is
    deleted and the exception propagates; ``target`` is untouched. An existing target's permission
    bits are carried over to the new file.
    """
    temp = new_temp_file(target)
    try:
        if copy_existing:
            shutil.copyfile(target, temp)
        yield temp
        if target.exists():
            shutil.copymode(target, temp)
        _fsync_file(temp)
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            temp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX only, best effort).

    The rename has already happened and the file's data is on disk; some file systems refuse
    to fsync a directory (EINVAL), which is then ignored.
    """
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
