"""The worker processes this UI started, until the storage knows them.

Each shows as ``starting`` until its record reaches the storage (a worker imports torch first,
which takes seconds to a minute), as ``failed to start`` with the end of its log when it exits
without one, and each is reaped when it exits, so none lingers as a zombie of the UI.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rltui.launch.local import LaunchedWorker
from rltui.search.workers import HOST, WorkerRecord

LOG_TAIL_LINES = 3  # of a worker that failed to start: its error is at the end of its log
MOST_FAILED = 5  # failed starts kept in view, the most recent


@dataclass(frozen=True)
class WorkerLaunch:
    """A worker process started from this UI that has no record in the storage (yet).

    ``failed`` is None while it starts; once it has exited without a record, the last lines
    of its log (where its error is), and ``exit_code`` its exit status when known.
    """

    id: str
    host: str
    pid: int
    index: int
    started: float
    log: Path
    failed: str | None = None
    exit_code: int | None = None

    @property
    def state(self) -> str:
        return "starting" if self.failed is None else "failed to start"


@dataclass
class _Child:
    """A worker process started here, until it has been reaped."""

    launched: LaunchedWorker
    index: int
    started: float
    exited: bool = False
    exit_code: int | None = None
    registered: bool = False  # its record has been seen in the storage
    failed: str | None = None


class StartedWorkers:
    """The worker processes this UI started: what the workers view shows of them before
    their records appear, and the reaping of each when it exits. Thread-safe: workers are
    started from one thread and the study is polled from another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: list[_Child] = []

    def add(self, launched: Iterable[LaunchedWorker], first_index: int) -> None:
        now = time.time()
        with self._lock:
            for offset, worker in enumerate(launched):
                self._children.append(_Child(worker, first_index + offset, now))

    def reap(self) -> None:
        """Collect the exit status of every child that has exited (one nobody waits for
        stays a zombie for as long as the UI runs). ``waitpid`` with WNOHANG never blocks."""
        with self._lock:
            for child in self._children:
                if child.exited:
                    continue
                try:
                    pid, status = os.waitpid(child.launched.pid, os.WNOHANG)
                except ChildProcessError:  # reaped already: subprocess reaps dropped children
                    child.exited = True
                    continue
                if pid:
                    child.exited = True
                    child.exit_code = os.waitstatus_to_exitcode(status)

    def match(self, records: Iterable[WorkerRecord]) -> None:
        """Note which children have registered, and which exited without doing so. Call
        :meth:`reap` before reading ``records``: a worker that registered and exited at once
        is then in the records read."""
        ids = {r.id for r in records}
        with self._lock:
            for child in self._children:
                if child.launched.worker_id in ids:
                    child.registered = True
                elif child.exited and not child.registered and child.failed is None:
                    child.failed = _log_tail(child.launched.log) or "(its log is empty)"
            failed = [id(c) for c in self._children if c.failed is not None and not c.registered]
            dropped = set(failed[:-MOST_FAILED])
            # Done with: reaped and registered (its record speaks for it), or failed long ago.
            self._children = [
                c
                for c in self._children
                if id(c) not in dropped and not (c.exited and c.registered)
            ]

    @property
    def launches(self) -> tuple[WorkerLaunch, ...]:
        """Started workers with no record yet: starting ones and failed ones, oldest first."""
        with self._lock:
            return tuple(
                WorkerLaunch(
                    c.launched.worker_id,
                    HOST,
                    c.launched.pid,
                    c.index,
                    c.started,
                    c.launched.log,
                    c.failed,
                    c.exit_code,
                )
                for c in self._children
                if not c.registered and (c.failed is not None or not c.exited)
            )

    def starting(self) -> bool:
        """Whether a worker started here is still on its way to its first record."""
        with self._lock:
            return any(not c.exited and not c.registered for c in self._children)


def _log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` non-blank lines of a worker's log (its error, when it failed)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(its log {log} cannot be read: {exc.strerror or exc})"
    return "\n".join([line.rstrip() for line in text.splitlines() if line.strip()][-lines:])
