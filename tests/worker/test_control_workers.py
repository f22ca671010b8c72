"""Trial control with real worker processes: retries from a checkpoint, a frozen worker,
study-wide drain / pause-all / resume-all, and workers that outlive a hang-up."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from rltui.launch.local import pid_running
from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.events import events_between
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.worker.loop import WOKE_UP
from tests.worker.helpers import HANG, Lab, frozen, stop_outside_the_journal_lock, wait_for
from tests.worker.test_control import assert_continued, trained_steps

pytestmark = pytest.mark.slow

GRACE, INTERVAL = 4.0, 0.5  # heartbeat_grace and heartbeat_interval of the tiny study file


def _status(lab: Lab, number: int, status: TrialStatus):
    return wait_for(
        lambda: (r := lab.trial(number)) and r.status == status and r,
        what=f"trial {number} {status.value}",
    )


def _running_past(lab: Lab, numbers: list[int], past: int) -> None:
    def check() -> bool:
        rows = lab.snap().rows
        return all(
            n in rows and rows[n].status == TrialStatus.RUNNING and rows[n].timesteps > past
            for n in numbers
        )

    wait_for(check, what=f"trials {numbers} running past {past}")


def test_a_lost_workers_trial_is_retried_from_its_checkpoint_and_completes(study_file):
    path = study_file(name="retry", n_trials=1, timesteps=8192, every=512, extra="  retries: 1\n")
    lab = Lab(path)
    [first] = lab.pool.start(1)
    try:
        lab.wait_for_checkpoint(0, 1024)
        os.kill(first.pid, signal.SIGKILL)
        killed_at = time.time()
        saved = lab.system(0)[attrs.CHECKPOINT]
        # The replacement notices the dead process, requeues the trial and resumes it.
        lab.pool.start(1, first_index=1)
        done = _status(lab, 0, TrialStatus.COMPLETE)
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    assert done.timesteps == 8192
    assert lab.system(0)[attrs.RETRIES] == 1
    logs = lab.logs()
    assert f"retry 1 of 1 from its checkpoint at {saved['timesteps']:,} timesteps" in logs
    assert f"its process {first.pid} on host" in logs and "trial 0: resuming" in logs
    # The replacement trained on from the checkpoint, not from 0, and to the budget.
    after = [s for s, t in trained_steps(path, 0) if t > killed_at]
    assert after and min(after) > saved["timesteps"] and after[-1] == 8192
    assert after == sorted(set(after))


def test_a_frozen_worker_is_lost_by_its_silence_and_cannot_overwrite_its_trial(study_file):
    # SIGSTOP keeps the process alive but silent: only the heartbeat can tell it is lost.
    lab = Lab(study_file(name="frozen", n_trials=2, timesteps=200_000, every=1024))
    lab.pool.start(2)
    try:
        _running_past(lab, [0, 1], 100)
        victim = next(w.pid for w in lab.snap().workers if w.id == lab.trial(0).worker)
        stop_outside_the_journal_lock(victim, lab.journal)
        stopped = time.time()
        failed = _status(lab, 0, TrialStatus.FAIL)
        silent = (failed.completed.timestamp() if failed.completed else time.time()) - stopped
        # Its last heartbeat came at most one interval before the stop: not declared lost
        # before its grace. (How soon after is the reaper's pace, slow on a busy machine.)
        assert silent >= GRACE - INTERVAL, silent
        match = re.search(r"no heartbeat for (\d+) s", failed.error or "")
        assert match and int(match.group(1)) >= GRACE, failed.error
        before = frozen(lab, 0)
        lost = lab.snap()
        # Woken up, it finds its trial finished: nothing it does changes the record.
        os.kill(victim, signal.SIGCONT)
        wait_for(lambda: not pid_running(victim), what="the woken worker to leave")
        after = frozen(lab, 0)
        gone = lab.snap()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGCONT)
        lab.stop()
    assert after.state == before.state and lab.trial(0).status == TrialStatus.FAIL
    assert after.system_attrs[attrs.REASON] == before.system_attrs[attrs.REASON]
    assert after.system_attrs[attrs.ERROR] == before.system_attrs[attrs.ERROR]
    assert after.intermediate_values == before.intermediate_values
    # It says why it leaves, and nothing it tried to write ended in a traceback.
    log = lab.logs()
    assert "declared lost" in log and "dropped (handled by another worker)" in log, log
    assert f"trials: {WOKE_UP}" in log or f"trial: {WOKE_UP}" in log, log
    assert "Traceback" not in log, log
    # Its record says it left, still with why it was lost and what became of its trial, and
    # the window tells that as an event.
    (record,) = [w for w in gone.workers if w.pid == victim]
    assert record.state == "exited" and record.trial is None and record.trial_outcome
    assert record.reason and record.reason.startswith(f"{WOKE_UP} (lost: no heartbeat for ")
    told = [e.text for e in events_between(lost, gone, 2)]
    assert any(t.startswith(f"worker {record.id} on ") and WOKE_UP in t for t in told), told


def test_drain_lets_running_trials_finish_and_starts_no_new_one(study_file):
    lab = Lab(study_file(name="drain", n_trials=4, timesteps=4096, every=1024))
    lab.pool.start(2)
    try:
        _running_past(lab, [0, 1], 0)
        Controller(lab.ostudy).set_drain(True)
        drained_at = time.time()
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    rows = lab.snap().rows
    running = [r for r in rows.values() if r.started and r.started.timestamp() < drained_at]
    assert {r.number for r in running} >= {0, 1}
    assert all(r.status == TrialStatus.COMPLETE and r.timesteps == 4096 for r in running)
    assert len(rows) < 4 and len(rows) == len(running), "a trial started after the drain"
    Controller(lab.ostudy).set_drain(False)
    assert (
        not storage_of(lab.ostudy).get_study_system_attrs(study_id_of(lab.ostudy)).get(attrs.DRAIN)
    )


def test_pause_all_then_resume_all_continue_every_trial(study_file):
    path = study_file(name="all", n_trials=2, timesteps=8192, every=512)
    lab = Lab(path)
    lab.pool.start(2)
    try:
        _running_past(lab, [0, 1], 600)
        assert len(Controller(lab.ostudy).pause_all()) == 2
        for number in (0, 1):
            _status(lab, number, TrialStatus.PAUSED)
        # Nothing is left to claim: both workers leave.
        assert lab.pool.wait(HANG), lab.logs()
        paused = {n: lab.system(n)[attrs.PAUSED] for n in (0, 1)}
        assert all(0 < p["timesteps"] < 8192 for p in paused.values())
        assert len(Controller(lab.ostudy).resume_all()) == 2
        assert all(lab.trial(n).status == TrialStatus.WAITING for n in (0, 1))
        lab.pool.start(2, first_index=2)
        for number in (0, 1):
            _status(lab, number, TrialStatus.COMPLETE)
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    for number, record in paused.items():
        assert lab.trial(number).timesteps == 8192
        logged = trained_steps(path, number)
        assert_continued(logged, record["timesteps"], record["at"])
        assert logged[-1][0] == 8192


PARENT = """
import sys, time
from pathlib import Path
from rltui.search.storage import StudyHome
from rltui.launch.local import LocalPool

path = Path(sys.argv[1])
[worker] = LocalPool(StudyHome.beside(path).logs, study_file=path, nice=0).start(1)
print(worker.pid, flush=True)
time.sleep(600)
"""


def test_a_worker_outlives_a_hangup_of_the_process_that_started_it(study_file):
    path = study_file(name="hangup", n_trials=1, timesteps=4096, every=1024)
    lab = Lab(path)
    # The parent stands for the UI or `rltui run` in an SSH session: its own process group,
    # which a dropped link hangs up.
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PARENT), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    worker = 0
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert os.getsid(worker) != os.getsid(parent.pid)
        wait_for(lambda: (r := lab.trial(0)) and r.timesteps > 100, what="trial 0 training")
        os.killpg(parent.pid, signal.SIGHUP)
        parent.kill()
        parent.wait(10)
        assert pid_running(worker), "the worker went down with its parent"
        done = _status(lab, 0, TrialStatus.COMPLETE)
        wait_for(lambda: not pid_running(worker), what="the worker to leave")
    finally:
        parent.kill()
        if worker:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
    assert done.timesteps == 4096
