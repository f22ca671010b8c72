"""Control requests and lost-worker recovery against a real storage, without workers.

Trials are asked for and given worker records by hand, so that each case (a bad trial number,
a paused trial pruned, a lost worker found one way or another, two reapers racing) is exact.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from rltui.search import attrs
from rltui.search.control import ControlError, Controller
from rltui.search.lifecycle import TrialStatus, status_of
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.recovery import reap_lost_workers
from rltui.search.storage import StudyHome
from rltui.search.study import open_study
from rltui.search.workers import HOST, WorkerRecord
from rltui.spec import load_study


class Bench:
    """A study in a journal beside its file, and helpers to shape its trials."""

    def __init__(self, path: Path):
        self.path = path
        self.ostudy, _url = open_study(load_study(path))
        self.storage = storage_of(self.ostudy)
        self.study_id = study_id_of(self.ostudy)
        self.home = StudyHome.beside(path).make()

    def running(self, worker: str | None = None) -> int:
        """A new RUNNING trial claimed as a worker would claim it; returns its number."""
        trial = self.ostudy.ask()
        trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
        self.set(trial.number, attrs.TRIAL_SPEC_VERSION, 1)
        if worker is not None:
            self.set(trial.number, attrs.TRIAL_WORKER, worker)
        return trial.number

    def trial_id(self, number: int) -> int:
        return self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)

    def get(self, number: int):
        return self.storage.get_trial(self.trial_id(number))

    def set(self, number: int, key: str, value: object) -> None:
        self.storage.set_trial_system_attr(self.trial_id(number), key, value)

    def checkpoint(self, number: int, timesteps: int = 1024) -> Path:
        """A checkpoint folder on disk as a worker leaves it; returns the trial's folder."""
        folder = self.home.checkpoints / f"trial-{number}"
        step = folder / "seed-0" / f"step-{timesteps:012d}"
        step.mkdir(parents=True)
        (step / "model.zip").write_bytes(b"weights")
        return folder

    def paused(self, number: int, timesteps: int = 1024) -> Path:
        folder = self.checkpoint(number, timesteps)
        record = {"at": time.time(), "timesteps": timesteps, "checkpoint": str(folder)}
        self.set(number, attrs.PAUSED, {**record, "reason": "user"})
        return folder

    def worker(self, worker_id: str, number: int, *, pid: int, host: str = HOST, silent=0.0):
        """A worker record as the worker itself writes it, ``silent`` seconds ago."""
        now = time.time()
        record = WorkerRecord(
            worker_id,
            host,
            pid,
            "cpu",
            now - 60,
            now - silent,
            state="training",
            trial=number,
            trial_id=self.trial_id(number),
        )
        self.storage.set_study_system_attr(
            self.study_id, attrs.worker_key(worker_id), record.to_json()
        )

    def reap(self, retries: int = 0, grace: float = 4) -> list[str]:
        return reap_lost_workers(self.ostudy, grace, retries, checkpoints=self.home.checkpoints)

    def controller(self) -> Controller:
        """A controller that knows this study's checkpoint folder, as the window's does."""
        return Controller(self.ostudy, self.home.checkpoints)


@pytest.fixture
def bench(study_file):
    return Bench(study_file(name="ctl", n_trials=8))


def _gone_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


# -- trial numbers ---------------------------------------------------------------------------


def test_a_trial_number_that_does_not_exist_is_refused_clearly(bench):
    with pytest.raises(ControlError, match=r"^no trial 0 in study 'ctl' \(it has no trials yet\)"):
        bench.controller().request(0, "pause")
    for _ in range(6):
        bench.running("w")
    with pytest.raises(ControlError, match=r"^no trial 7 in study 'ctl' \(trials 0-5\)$"):
        bench.controller().request(7, "pause")


@pytest.mark.parametrize("action", ["prune", "kill", "pause"])
def test_a_negative_trial_number_touches_no_trial(bench, action):
    first, last = bench.running("w"), bench.running("w")
    with pytest.raises(ControlError, match=r"-1 is not a trial number \(trials 0-1\)"):
        bench.controller().request(-1, action)
    for number in (first, last):
        trial = bench.get(number)
        assert status_of(trial) == TrialStatus.RUNNING
        assert not trial.system_attrs.get(attrs.CONTROL)


def test_study_wide_requests_skip_a_trial_that_ended_meanwhile(bench, monkeypatch):
    running, ending, paused = bench.running("w"), bench.running("w"), bench.running("w")
    bench.paused(paused)
    listed = bench.ostudy.get_trials(deepcopy=True)
    bench.ostudy.tell(ending, 1.0)  # it completes after the list was read
    monkeypatch.setattr(bench.ostudy, "get_trials", lambda deepcopy=True: listed)
    controller = bench.controller()
    assert len(controller.pause_all()) == 1
    assert bench.get(running).system_attrs[attrs.CONTROL]["action"] == "pause"
    assert not bench.get(ending).system_attrs.get(attrs.CONTROL)
    assert len(controller.resume_all()) == 1
    assert bench.get(paused).state == TrialState.WAITING


# -- checkpoints of trials ended from the control side --------------------------------------


@pytest.mark.parametrize("action", ["prune", "kill"])
def test_ending_a_paused_trial_removes_its_checkpoint(bench, action):
    number = bench.running("w")
    folder = bench.paused(number)
    other = bench.checkpoint(bench.running("w"))  # another trial's checkpoint stays
    bench.controller().request(number, action)
    assert bench.get(number).state == (TrialState.PRUNED if action == "prune" else TrialState.FAIL)
    assert not folder.exists()
    assert other.exists()


def test_ending_a_trial_queued_to_resume_removes_its_checkpoint(bench):
    number = bench.running("w")
    folder = bench.paused(number)
    controller = bench.controller()
    controller.request(number, "resume")
    assert status_of(bench.get(number)) == TrialStatus.WAITING
    controller.request(number, "kill")
    assert not folder.exists()


def test_each_trial_follows_keep_checkpoints_of_its_own_study_file_version(study_file):
    # Version 1 keeps checkpoints, version 2 does not: each trial goes by the version it ran.
    bench = Bench(study_file(name="ver", extra="  keep_checkpoints: true\n"))
    kept = bench.running("w")
    kept_folder = bench.paused(kept)
    open_study(load_study(study_file(name="ver")))  # the edited file becomes version 2
    dropped = bench.running("w")
    bench.set(dropped, attrs.TRIAL_SPEC_VERSION, 2)
    dropped_folder = bench.paused(dropped)
    controller = bench.controller()
    controller.request(kept, "prune")
    controller.request(dropped, "prune")
    assert kept_folder.exists() and not dropped_folder.exists()


def test_a_checkpoint_path_of_another_shape_is_never_deleted(bench, tmp_path):
    number = bench.running("w")
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    bench.set(number, attrs.PAUSED, {"timesteps": 1, "checkpoint": str(elsewhere)})
    bench.controller().request(number, "kill")
    assert elsewhere.exists()


# -- lost workers ------------------------------------------------------------------------------


def test_a_dead_process_on_this_host_is_named_as_the_cause(bench):
    number = bench.running("w1")
    pid = _gone_pid()
    bench.worker("w1", number, pid=pid)
    [line] = bench.reap()
    reason = bench.get(number).system_attrs[attrs.REASON]
    assert reason == f"worker w1 lost (its process {pid} on host {HOST} is gone)"
    assert reason in line and "marked FAIL" in line
    assert bench.get(number).state == TrialState.FAIL


def test_a_silent_worker_is_named_by_how_long_it_has_been_silent(bench):
    number = bench.running("w2")
    bench.worker("w2", number, pid=1, host="far-away", silent=30)
    [line] = bench.reap(grace=4)
    assert "worker w2 lost (no heartbeat for 30 s)" in line
    assert bench.get(number).state == TrialState.FAIL


def test_a_lost_trial_without_a_checkpoint_is_retried_from_the_start(bench):
    number = bench.running("w1")
    params = bench.get(number).params
    bench.worker("w1", number, pid=_gone_pid())
    [line] = bench.reap(retries=1)
    assert "retry 1 of 1 from the start (it had no checkpoint yet)" in line
    trial = bench.get(number)
    assert trial.state == TrialState.WAITING and not trial.system_attrs.get(attrs.RESUME)
    # The next worker claims it and trains it anew with the same parameters.
    again = bench.ostudy.ask()
    assert again.number == number
    assert again.suggest_float("learning_rate", 1e-4, 1e-2, log=True) == params["learning_rate"]


def test_a_lost_trial_with_a_checkpoint_is_retried_from_it(bench):
    number = bench.running("w1")
    folder = bench.checkpoint(number, 2048)
    bench.set(number, attrs.CHECKPOINT, {"checkpoint": str(folder), "timesteps": 2048})
    bench.worker("w1", number, pid=_gone_pid())
    [line] = bench.reap(retries=2)
    assert "retry 1 of 2 from its checkpoint at 2,048 timesteps" in line
    resume = bench.get(number).system_attrs[attrs.RESUME]
    assert resume["checkpoint"] == str(folder) and folder.exists()


@pytest.mark.parametrize("keep", [False, True])
def test_a_lost_trial_that_fails_loses_its_checkpoint_unless_kept(study_file, keep):
    extra = "  keep_checkpoints: true\n" if keep else ""
    bench = Bench(study_file(name="keep" if keep else "drop", n_trials=2, extra=extra))
    number = bench.running("w1")
    folder = bench.checkpoint(number)
    bench.set(number, attrs.CHECKPOINT, {"checkpoint": str(folder), "timesteps": 1024})
    bench.worker("w1", number, pid=_gone_pid())
    bench.reap(retries=0)
    assert bench.get(number).state == TrialState.FAIL
    assert folder.exists() == keep


def test_a_second_reaper_leaves_a_trial_another_worker_reclaimed(bench, monkeypatch):
    # Reaper B reads the lost worker's trial; before B changes anything, reaper A requeues it
    # and worker C claims it. B must leave C's trial alone.
    number = bench.running("w1")
    bench.worker("w1", number, pid=_gone_pid())
    trial_id = bench.trial_id(number)
    read = bench.storage.get_trial
    interleaved = []

    def get_trial(tid: int):
        trial = read(tid)
        if tid == trial_id and not interleaved:
            interleaved.append(True)
            # A: requeue (as a retry from the start); C: claim it.
            bench.storage.set_trial_system_attr(tid, attrs.RETRIES, 1)
            bench.storage.set_trial_state_values(tid, TrialState.WAITING)
            assert bench.ostudy.ask().number == number
            bench.storage.set_trial_system_attr(tid, attrs.TRIAL_WORKER, "c")
        return trial

    monkeypatch.setattr(bench.storage, "get_trial", get_trial)
    assert bench.reap(retries=2) == []
    monkeypatch.undo()
    trial = bench.get(number)
    assert trial.state == TrialState.RUNNING
    assert trial.system_attrs[attrs.TRIAL_WORKER] == "c"
    assert trial.system_attrs[attrs.RETRIES] == 1


def _stored_worker(bench: Bench, worker_id: str) -> WorkerRecord:
    system = bench.storage.get_study_system_attrs(bench.study_id)
    return WorkerRecord.from_json(system[attrs.worker_key(worker_id)])


def test_a_lost_workers_record_says_why_who_declared_it_and_what_became_of_its_trial(bench):
    number = bench.running("w1")
    folder = bench.checkpoint(number, 2048)
    bench.set(number, attrs.CHECKPOINT, {"checkpoint": str(folder), "timesteps": 2048})
    bench.worker("w1", number, pid=1, host="far-away", silent=30)
    reap_lost_workers(bench.ostudy, 4, 2, declared_by="worker w2")
    record = _stored_worker(bench, "w1")
    assert record.state == "lost" and record.trial == number
    assert record.reason == "lost: no heartbeat for 30 s (declared by worker w2)"
    assert record.trial_outcome == "retried from its checkpoint at 2,048 timesteps, retry 1 of 2"
    assert record.trial_retried


def test_a_lost_workers_failed_trial_and_the_default_declarer_are_recorded(bench):
    number = bench.running("w1")
    pid = _gone_pid()
    bench.worker("w1", number, pid=pid)
    bench.reap(retries=0)
    record = _stored_worker(bench, "w1")
    assert record.reason == (
        f"lost: its process {pid} on host {HOST} is gone "
        f"(declared by process {os.getpid()} on host {HOST})"
    )
    assert record.trial_outcome == "marked FAIL, the study allows no retries"
    assert not record.trial_retried


def test_a_later_reaper_keeps_the_first_ones_account_of_a_lost_worker(bench, monkeypatch):
    # Reaper B found w1 lost while it was still alive in its read; by the time B writes, A has
    # declared it and retried its trial. B must not replace A's account with a bare "lost".
    number = bench.running("w1")
    bench.worker("w1", number, pid=1, host="far-away", silent=30)
    alive = bench.storage.get_study_system_attrs(bench.study_id)
    reap_lost_workers(bench.ostudy, 4, 1, declared_by="worker a")
    first = _stored_worker(bench, "w1")
    read = bench.storage.get_study_system_attrs
    stale = [alive]  # B's first read (the search for lost workers) predates A's writes

    def get_study_system_attrs(study_id: int):
        return stale.pop() if stale else read(study_id)

    monkeypatch.setattr(bench.storage, "get_study_system_attrs", get_study_system_attrs)
    assert reap_lost_workers(bench.ostudy, 4, 1, declared_by="worker b") == []
    monkeypatch.undo()
    assert _stored_worker(bench, "w1") == first
    assert first.trial_outcome and "declared by worker a" in (first.reason or "")


def test_records_written_before_workers_said_why_still_load():
    old = {
        "id": "w0",
        "host": "h",
        "pid": 1,
        "device": "cpu",
        "started": 0.0,
        "heartbeat": 0.0,
        "state": "exited",
        "some_future_field": 1,
    }
    record = WorkerRecord.from_json(old)
    assert (record.reason, record.trial_outcome, record.trial_retried) == (None, None, False)
