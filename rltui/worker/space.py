"""A full disk as a worker meets it: ENOSPC or EDQUOT, however deeply wrapped, and how long
to wait between tries while space is short (:mod:`rltui.worker.trial` says what follows)."""

from __future__ import annotations

import errno
from pathlib import Path

SPACE_WAIT = (1.0, 30.0)  # first and longest wait between tries while the disk is full


def disk_full(exc: BaseException | None) -> OSError | None:
    """The ENOSPC or EDQUOT error behind ``exc`` (it may be wrapped), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def where(error: OSError, fallback: Path) -> str:
    return str(error.filename or fallback)
