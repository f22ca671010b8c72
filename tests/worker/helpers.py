"""Helpers for tests that drive real worker processes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import optuna

from rltui.launch.local import LocalPool
from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, study_id_of
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

    @property
    def journal(self) -> Path:
        """The study's journal file (a study on a journal storage)."""
        assert self.url.startswith("journal:"), self.url
        return Path(self.url.removeprefix("journal:"))

    def snap(self) -> Snapshot:
        return self.reader.poll()

    def trial(self, number: int):
        return self.snap().rows.get(number)

    def system(self, number: int) -> dict:
        """Trial ``number``'s system attributes, read now."""
        storage, study_id = storage_of(self.ostudy), study_id_of(self.ostudy)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
        return storage.get_trial_system_attrs(trial_id)

    def wait_for_checkpoint(self, number: int, past: int) -> None:
        """Wait until trial ``number`` has saved a checkpoint at ``past`` timesteps or more."""
        wait_for(
            lambda: (
                self.snap().rows
                and (self.system(number).get(attrs.CHECKPOINT) or {}).get("timesteps", 0) >= past
            ),
            what=f"a checkpoint of trial {number} past {past} timesteps",
        )

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


def holds_flock(pid: int, path: Path) -> bool:
    """Whether process ``pid`` holds a ``flock(2)`` on ``path`` (read from /proc/locks)."""
    return _in_proc_locks(pid, path, waiting=False)


def waits_on_flock(pid: int, path: Path) -> bool:
    """Whether process ``pid`` is blocked asking for a ``flock(2)`` on ``path``."""
    return _in_proc_locks(pid, path, waiting=True)


def _in_proc_locks(pid: int, path: Path, *, waiting: bool) -> bool:
    inode = os.stat(path).st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if ("->" in fields) != waiting:
            continue  # waiters are listed with "->" after the number
        fields = [f for f in fields if f != "->"]
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        if int(fields[4]) == pid and int(fields[5].rsplit(":", 1)[1]) == inode:
            return True
    return False


def stop_outside_the_journal_lock(pid: int, journal: Path) -> None:
    """SIGSTOP worker ``pid`` at a moment it does not hold the journal's write lock.

    A process stopped while it holds the lock stops every writer of the study with it until
    a writer ends it after the grace time (rltui.search.journal_lock): a fault of its own,
    not the silent worker a test of the heartbeat stages. So a stop that lands inside the
    lock is undone and tried again."""
    lock = journal.with_name(journal.name + ".flock")
    for _ in range(200):
        os.kill(pid, signal.SIGSTOP)
        wait_for(
            lambda: Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T",
            what="the worker stopped",
        )
        if not holds_flock(pid, lock):
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError(f"worker {pid} held the journal's lock at 200 stops in a row")
