"""Helpers for tests that drive real worker processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import optuna

from rltui.launch.local import LocalPool
from rltui.search.reader import Snapshot, StudyReader
from rltui.search.storage import StudyHome
from rltui.search.study import open_study
from rltui.spec import load_study

T = TypeVar("T")

# Seconds before a wait on workers gives up. Tests wait on events (a state in the storage, a
# process gone), and this limit only bounds a hang: on a 2-core machine at load 25 a worker
# takes a minute to start, and a test must pass there as on a quiet one.
HANG = 600.0


def wait_for(check: Callable[[], T], what: str = "condition", *, timeout: float = HANG) -> T:
    """Poll ``check`` until it gives a true value, and return that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Lab:
    """A study from a file, with its reader and a pool of real worker processes."""

    def __init__(self, path: Path):
        self.study = load_study(path)
        self.ostudy, self.url = open_study(self.study)
        self.reader = StudyReader(self.ostudy)
        self.pool = LocalPool(
            StudyHome.beside(path).logs, study_file=path, storage_url=self.url, nice=0
        )

    def snap(self) -> Snapshot:
        return self.reader.poll()

    def trial(self, number: int):
        return self.snap().rows.get(number)

    def logs(self) -> str:
        return "\n".join(w.log.read_text() for w in self.pool.started if w.log.exists())

    def run_to_end(self, workers: int) -> None:
        """Start ``workers`` workers and wait until every one has left."""
        self.pool.start(workers)
        try:
            assert self.pool.wait(HANG), self.logs()
        finally:
            self.stop()

    def stop(self) -> None:
        import signal

        from rltui.launch.local import signal_worker

        for worker in self.pool.started:
            signal_worker(worker.pid, signal.SIGKILL)
        self.pool.wait(HANG)  # SIGKILL: the processes go as soon as they are scheduled


def frozen(lab: Lab, number: int) -> optuna.trial.FrozenTrial:
    return lab.ostudy.trials[number]
