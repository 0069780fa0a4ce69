"""The exceptions the CLI turns into one line on stderr: mistakes a user can make, and files that cannot be written."""

from __future__ import annotations

import errno
import os


class UserError(Exception):
    """A problem the user can fix (bad file, bad option, bad data); the CLI prints it as one line, exit code 2."""

    exit_code = 2


class FileError(UserError):
    """A file or folder that cannot be written or read: disk full, permission denied, read-only, in use. Exit 1."""

    exit_code = 1


REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
}  # the faults of a file system, worded for the one-line message


def file_error(e: OSError, path: str | os.PathLike | None = None) -> FileError:
    """One line for an OSError, naming `path` (or the error's own file name): 'disk full: cannot write X'."""
    path = path if path is not None else e.filename
    reason = REASONS.get(e.errno) or (e.strerror or str(e)).lower()
    if path is None:
        return FileError(f"{reason} ({e.strerror or e})")
    return FileError(f"{reason}: cannot write {path}" if e.errno in REASONS else f"{path}: {reason}")
