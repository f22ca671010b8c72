"""Every worker that ends says why in its record, and the UI turns that into one event."""

from __future__ import annotations

import signal

import pytest

from rltui.launch.local import LaunchedWorker, signal_worker
from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.events import BUDGET_REACHED, WORKER_ENDED, WORKER_EXITED, events_between
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.storage import StudyHome
from rltui.search.workers import WorkerRecord, drain_key
from tests.worker.helpers import HANG, Lab, wait_for
from tests.worker.test_control import _running, _wait_exit, stuck_lab

pytestmark = pytest.mark.slow


def _run_one_worker_to_its_end(lab: Lab) -> LaunchedWorker:
    [launched] = lab.pool.start(1)
    try:
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    return launched


def _record(lab: Lab, worker_id: str) -> WorkerRecord:
    [record] = [w for w in lab.snap().workers if w.id == worker_id]
    return record


def test_a_worker_started_on_a_draining_study_leaves_saying_so(study_file):
    lab = Lab(study_file(name="drained", n_trials=4))
    Controller(lab.ostudy).set_drain(True)
    before = lab.snap()
    launched = _run_one_worker_to_its_end(lab)
    after = lab.snap()
    record = _record(lab, launched.worker_id)
    assert (record.state, record.reason) == ("exited", "left: the study is draining")
    assert not after.rows  # it claimed nothing
    assert "finished after 0 trials: left: the study is draining" in lab.logs()
    # The UI never saw it alive, and still tells the user once.
    [event] = events_between(before, after, lab.study.n_trials)
    assert event.kind == WORKER_EXITED
    assert event.text == f"worker {record.id} on {record.host} left: the study is draining"
    assert events_between(after, lab.snap(), lab.study.n_trials) == []


def test_a_worker_asked_to_drain_by_itself_says_so(study_file):
    lab = Lab(study_file(name="one_drained", n_trials=4, timesteps=4096, every=1024))
    [launched] = lab.pool.start(1)
    try:
        wait_for(lambda: (r := lab.trial(0)) and r.status == TrialStatus.RUNNING, "trial 0 running")
        storage, study_id = storage_of(lab.ostudy), study_id_of(lab.ostudy)
        storage.set_study_system_attr(study_id, drain_key(launched.worker_id), True)
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    record = _record(lab, launched.worker_id)
    assert record.reason == "left: asked to stop (drain of this worker)"
    assert lab.trial(0).status == TrialStatus.COMPLETE  # its running trial finished first
    assert len(lab.snap().rows) == 1


def test_a_worker_that_spends_the_budget_leaves_saying_so(study_file):
    lab = Lab(study_file(name="spent", n_trials=2))
    before = lab.snap()
    launched = _run_one_worker_to_its_end(lab)
    after = lab.snap()
    record = _record(lab, launched.worker_id)
    assert (record.state, record.reason) == (
        "exited",
        "left: the trial budget is reached (2 trials)",
    )
    assert sum(row.status.is_finished for row in after.rows.values()) == 2
    events = events_between(before, after, lab.study.n_trials)
    assert [e.kind for e in events] == [WORKER_EXITED, BUDGET_REACHED]
    assert events[0].text.endswith("left: the trial budget is reached (2 trials)")


def test_a_worker_stopped_by_sigterm_names_the_signal_and_the_trial_it_paused(study_file):
    lab = Lab(study_file(name="termed", n_trials=1, timesteps=200_000, every=1024))
    [launched] = lab.pool.start(1)
    try:
        wait_for(lambda: (r := lab.trial(0)) and r.timesteps > 0, "trial 0 training")
        signal_worker(launched.pid, signal.SIGTERM)
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    assert lab.trial(0).status == TrialStatus.PAUSED
    record = _record(lab, launched.worker_id)
    assert record.reason == "stopped by SIGTERM: its trial 0 was paused"
    paused = lab.ostudy.trials[0].system_attrs[attrs.PAUSED]
    assert paused["reason"] == "interrupted"


def test_a_worker_ended_after_a_prune_grace_says_so(study_file):
    lab = stuck_lab(study_file)
    [launched] = lab.pool.start(1)
    try:
        _running(lab, 0, past=10)
        before = lab.snap()
        Controller(lab.ostudy).request(0, "prune")
        _wait_exit(launched.pid)
    finally:
        lab.stop()
    after = lab.snap()
    reason = (
        "ended: its trial 0's training did not stop within 10 s of a prune, "
        "so its process was ended"
    )
    assert _record(lab, launched.worker_id).reason == reason
    assert lab.trial(0).status == TrialStatus.PRUNED
    events = events_between(before, after, None)
    assert [(e.kind, e.severity) for e in events] == [(WORKER_ENDED, "warning")]
    assert events[0].text.endswith(reason)


def test_a_worker_run_by_hand_ends_with_its_status_and_its_last_words(study_file, tmp_path):
    # As a program, a worker ends without the interpreter's teardown once it has left
    # (rltui.cli.end_worker_process): what it printed and recorded must all be there.
    import subprocess
    import sys

    path = study_file(name="by_hand", n_trials=1)
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "worker", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(
        "finished after 1 trial: left: the trial budget is reached (1 trial)"
    ), done.stdout
    lab = Lab(path)
    [record] = lab.snap().workers
    assert (record.state, record.reason) == (
        "exited",
        "left: the trial budget is reached (1 trial)",
    )
    assert lab.trial(0).status == TrialStatus.COMPLETE
    log = StudyHome.beside(path).logs / f"worker-{record.id}.log"
    assert log.read_text().rstrip().endswith("left: the trial budget is reached (1 trial)")
    # A worker that refuses to start ends with its status too.
    refused = subprocess.run(
        [sys.executable, "-m", "rltui", "worker", str(path), "--device", "cuda:7"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert refused.returncode == 1, refused.stderr
    assert "device cuda:7 asked for" in refused.stderr
