"""The errors the storage layer reports to the user, in a module of their own.

The command line catches them around every command; defined beside the code that raises
them, they would bring Optuna in before any command runs, and the window would wait for it
before its first frame. Each is also importable from the module that raises it.
"""

from __future__ import annotations

import errno
import os

_COPY = "or copy the study's folder and use the copy (`rltui export` reads it where it is)"


class StorageError(Exception):
    """A storage that cannot be opened; the message says why and ``hint`` what to do.

    The two are kept apart so that a storage named in a study file can be reported like any
    other problem of the file (``file:line:col: storage: message (hint)``).
    """

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(f"{message} ({hint})" if hint else message)
        self.message = message
        self.hint = hint


class JournalWriteError(OSError):
    """An append that did not happen (none of it is in the journal), with the system's errno
    (EBADF: opened to read only) and a one-line message saying where and what to do."""

    def __init__(self, path: str, code: int, strerror: str | None = None) -> None:
        reason = strerror or os.strerror(code)
        rest = {
            errno.EROFS: f"{path} is on a read-only file system (Errno {code}); remount it "
            f"read-write, {_COPY}",
            errno.EACCES: f"this user may not write {path} or its folder (Errno {code}); ask "
            f"its owner for write access, {_COPY}",
            errno.EBADF: f"{path} was opened to read only",
        }.get(code, f"{path}: {reason} (Errno {code}); nothing of this write was kept")
        if code in (errno.ENOSPC, errno.EDQUOT):
            rest += "; free space on that disk and try again"
        super().__init__(message := f"cannot write the study: {rest}")
        self.message = message
        self.errno, self.strerror, self.filename = code, reason, path

    def __str__(self) -> str:
        return self.message  # OSError's own would show errno and file name in its words


class ControlError(Exception):
    """A request that does not apply, e.g. pausing a finished trial or an unknown number."""
