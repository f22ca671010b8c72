"""A real worker stopped (SIGSTOP) while it holds the study's journal lock: another writer
ends it after the grace time, goes on, and the worker's trial is retried and completes."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from rltui.search import attrs
from rltui.search.journal_lock import LOGGER, Holder, set_stall_grace, stall_grace
from rltui.search.lifecycle import TrialStatus
from tests.worker.helpers import HANG, Lab, holds_flock, wait_for

pytestmark = pytest.mark.slow


def _stopped(pid: int) -> bool:
    holder = Holder.read(pid)
    return holder is not None and holder.stopped


def stop_inside_the_journal_lock(pid: int, journal: Path) -> None:
    """SIGSTOP worker ``pid`` at a moment it holds the journal's write lock: watch
    /proc/locks until it holds it, stop it, and continue it to try again if the stop landed
    after it let the lock go."""
    lock = journal.with_name(journal.name + ".flock")
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        if not holds_flock(pid, lock):
            time.sleep(0)  # a write holds it for milliseconds: look again at once
            continue
        os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: _stopped(pid), what=f"worker {pid} to stop")
        if holds_flock(pid, lock):
            return
        os.kill(pid, signal.SIGCONT)
    raise AssertionError(f"worker {pid} was never stopped holding the journal's lock")


def test_a_worker_stopped_holding_the_journal_lock_is_ended_and_its_trial_retried(
    study_file, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    path = study_file(name="stall", n_trials=1, timesteps=8192, every=512, extra="  retries: 1\n")
    lab = Lab(path)
    [first] = lab.pool.start(1)
    grace = stall_grace()
    written = threading.Event()
    try:
        lab.wait_for_checkpoint(0, 1024)
        stop_inside_the_journal_lock(first.pid, lab.journal)
        set_stall_grace(2.0)  # this process is the other writer; its study's grace is 4 s

        def write() -> None:
            lab.ostudy.set_user_attr("written during the stall", True)
            written.set()

        threading.Thread(target=write, daemon=True).start()
        # The write waits for the stopped worker, ends it after the grace time, and goes on.
        assert written.wait(HANG), "the write still waits for the stopped worker"
        _, status = os.waitpid(first.pid, 0)  # it has exited: the kernel let its lock go
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        # A new worker finds the first one's process gone, and retries its trial.
        lab.pool.start(1, first_index=1)
        done = wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.COMPLETE and r,
            what="trial 0 complete",
        )
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        set_stall_grace(grace)
        if not written.is_set():
            os.kill(first.pid, signal.SIGCONT)
        lab.stop()
    assert lab.ostudy.user_attrs["written during the stall"] is True
    assert done.timesteps == 8192 and lab.system(0)[attrs.RETRIES] == 1
    logs = lab.logs()
    assert "retry 1 of 1 from its checkpoint" in logs, logs
    assert f"its process {first.pid} on host" in logs and "is gone" in logs, logs
    said = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(said) == 2, said
    assert f"is locked by process {first.pid} (rltui worker), which is stopped" in said[0]
    assert said[1].startswith(f"rltui: ended process {first.pid} (rltui worker), stopped for ")


def test_a_worker_waiting_for_a_stopped_worker_ends_it_and_says_so_in_its_log(study_file):
    # The writer is the other worker, which gives a stopped worker its study's grace (4 s).
    path = study_file(name="stall2", n_trials=2, timesteps=8192, every=512, extra="  retries: 1\n")
    lab = Lab(path)
    stopped, waiting = lab.pool.start(2)
    try:
        wait_for(
            lambda: (
                len(rows := lab.snap().rows) == 2
                and all(r.status == TrialStatus.RUNNING for r in rows.values())
                and (lab.system(0).get(attrs.CHECKPOINT) or {}).get("timesteps", 0) >= 512
            ),
            what="both trials running, trial 0 with a checkpoint",
        )
        stop_inside_the_journal_lock(stopped.pid, lab.journal)
        _, status = os.waitpid(stopped.pid, 0)  # until the waiting worker ends it
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        done = wait_for(
            lambda: (
                len(rows := lab.snap().rows) == 2
                and all(r.status == TrialStatus.COMPLETE for r in rows.values())
                and rows
            ),
            what="both trials complete",
        )
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(stopped.pid, signal.SIGCONT)
        lab.stop()
    assert all(r.timesteps == 8192 for r in done.values())
    log = waiting.log.read_text()
    assert (
        f"is locked by process {stopped.pid} (rltui worker), which is stopped: every writer "
        f"of the study waits. Continue it (kill -CONT {stopped.pid}) or end it; if it stays "
        "stopped 4 s, it is ended (kill -9)"
    ) in log, log
    ended = rf"rltui: ended process {stopped.pid} \(rltui worker\), stopped for (\d+) s or more"
    match = re.search(ended, log)
    assert match and int(match.group(1)) >= 4, log
    assert "retry 1 of 1" in log and "Traceback" not in log, log
