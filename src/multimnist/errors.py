"""The exceptions the CLI turns into one line on stderr: mistakes a user can make, and files that cannot be written."""

from __future__ import annotations

import errno
import operator
import os
import re


class UserError(ValueError):
    """A problem the user can fix (bad file, bad option, bad data); the CLI prints it as one line, exit code 2.

    A ValueError, so that `except ValueError` around a call with a bad argument (a preset, a seed) catches it.
    """

    exit_code = 2


class FileError(UserError):
    """A file or folder that cannot be written or read: disk full, permission denied, read-only, in use. Exit 1."""

    exit_code = 1


def whole_number(value, name: str, minimum: int = 0) -> int:
    """`value` as an int if it is a whole number >= `minimum` (numpy integers too); else a UserError naming `name`.

    Seeds and counts: numpy would refuse -1 or 1.5 later, in words that do not name the argument.
    """
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < minimum:
        at_least = "a whole number >= 0" if minimum == 0 else f"a whole number >= {minimum}"
        raise UserError(f"{name} must be {at_least}, got {value!r}")
    return number


REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
}  # the faults of a file system, worded for the one-line message


def file_error(e: OSError, path: str | os.PathLike | None = None, writing: bool = False) -> FileError:
    """One line for an OSError, naming `path` (or the error's own file name): 'disk full: cannot write X'.

    `writing` says the failed call was a write; a full disk, a quota or a read-only file system always are.
    """
    detail = (e.strerror or str(e)).splitlines()[0]
    if path is None:
        path = e.filename
    if path is None:  # h5py (Keras weights) names the file only inside its message
        found = re.search(r"filename = '([^']+)'", str(e))
        path = found[1] if found else None
    reason = REASONS.get(e.errno) or detail.lower()
    if path is None:
        return FileError(f"{reason} ({detail})" if e.errno in REASONS else reason)
    if e.errno not in REASONS:
        return FileError(f"{path}: {reason}")
    writing = writing or e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
    return FileError(f"{reason}: {'cannot write ' if writing else ''}{path}")
