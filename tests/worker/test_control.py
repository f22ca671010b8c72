"""Trial control with real worker processes: pause/resume, prune, kill, lost workers."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.storage import StudyHome
from rltui.search.trial_logs import read_progress
from tests.worker.helpers import HANG, Lab, frozen, wait_for

pytestmark = pytest.mark.slow

LONG = dict(timesteps=200_000, every=1024)


def _running(lab: Lab, number: int = 0, past: int = 0):
    return wait_for(
        lambda: (
            (r := lab.trial(number))
            and r.status == TrialStatus.RUNNING
            and r.timesteps > past
            and r
        ),
        what=f"trial {number} running past {past}",
    )


def _wait_exit(pid: int) -> None:
    wait_for(
        lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
        what="the worker process to exit",
    )


def trained_steps(study_path: Path, number: int) -> list[tuple[int, float]]:
    """(timesteps, wall time) of every training log row of a trial, in the order written.

    The reported curve cannot show a resume that started over (Optuna keeps the first value
    of a step, and the curve is sorted); the trial's own log, appended by every stint, can.
    """
    log = StudyHome.beside(study_path).trials / f"trial-{number}" / "progress.jsonl"
    return [
        (int(row["timesteps"]), float(row["wall_time"]))
        for row in read_progress(log)
        if "eval/mean_reward" not in row
    ]


def assert_continued(steps: list[tuple[int, float]], stopped_at: int, paused_at: float) -> None:
    """Training logged after the pause starts past ``stopped_at``, and no timestep range was
    trained twice: the logged timesteps rise strictly across both stints."""
    before = [s for s, t in steps if t <= paused_at]
    after = [s for s, t in steps if t > paused_at]
    assert before and after, steps
    assert max(before) <= stopped_at < min(after), (stopped_at, steps)
    timesteps = [s for s, _ in steps]
    assert timesteps == sorted(set(timesteps)), f"trained twice or started over: {timesteps}"


def _worker_pid(lab: Lab, number: int) -> int:
    row = lab.trial(number)
    return next(w.pid for w in lab.snap().workers if w.id == row.worker)


def test_pause_moves_to_another_worker_and_resumes_where_it_stopped(study_file):
    path = study_file(name="pause", n_trials=2, timesteps=8192, every=512)
    lab = Lab(path)
    lab.pool.start(1, max_trials=2)
    try:
        _running(lab, 0, past=600)
        Controller(lab.ostudy).request(0, "pause")
        paused = wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.PAUSED and r, what="PAUSED"
        )
        record = frozen(lab, 0).system_attrs[attrs.PAUSED]
        stopped_at, paused_at = record["timesteps"], record["at"]
        assert 0 < stopped_at < 8192 and paused.curve
        first_start = frozen(lab, 0).datetime_start
        # A paused trial's clock stands still at the time it trained.
        trained = wait_for(lambda: lab.trial(0).duration, what="the paused trial's duration")
        time.sleep(1.1)
        assert lab.trial(0).duration == trained
        # The first worker takes the next trial; a second, new worker resumes trial 0.
        _running(lab, 1)
        lab.pool.start(1, first_index=1, max_trials=1)
        Controller(lab.ostudy).request(0, "resume")
        done = wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.COMPLETE and r,
            what="resumed COMPLETE",
        )
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    steps = [s for s, _ in done.curve]
    assert steps == sorted(steps) and len(steps) == len(set(steps))
    assert any(s > stopped_at for s in steps) and any(s <= stopped_at for s in steps)
    assert done.timesteps == 8192
    # Training went on from the checkpoint: nothing after the pause repeats what came before.
    logged = trained_steps(path, 0)
    assert_continued(logged, stopped_at, paused_at)
    assert logged[-1][0] == 8192
    assert "trial 0: resuming" in lab.logs()
    # Its duration counts both stints and not the time it spent paused.
    assert done.earlier == pytest.approx(trained)
    assert done.started > first_start
    assert done.duration == pytest.approx(trained + (done.completed - done.started).total_seconds())
    assert done.duration < (done.completed - first_start).total_seconds() - 1
    workers = {lab.trial(0).worker, lab.trial(1).worker}
    assert len(workers) == 2, "trial 0 finished on the worker that did not start it"


@pytest.mark.parametrize(
    "action,state", [("prune", TrialStatus.PRUNED), ("kill", TrialStatus.FAIL)]
)
def test_prune_and_kill_stop_training_within_seconds(action, state, study_file):
    lab = Lab(study_file(name=action, n_trials=1, **LONG))
    lab.pool.start(1)
    try:
        _running(lab, 0, past=1500)
        pid = lab.pool.started[0].pid
        Controller(lab.ostudy).request(0, action)
        row = wait_for(lambda: (r := lab.trial(0)) and r.status == state and r, what=state.value)
        _wait_exit(pid)
    finally:
        lab.stop()
    if action == "prune":
        assert row.value == row.last_eval
    else:
        assert row.error == "stopped by user"


def test_worker_killed_mid_trial_is_noticed_and_the_study_finishes(study_file):
    # Budgets long enough that a trial is still running when the test looks for one,
    # even on a fast machine; whichever trial is seen running first loses its worker.
    lab = Lab(study_file(name="lost", n_trials=2, timesteps=8192, every=512))
    lab.pool.start(2)
    try:
        victim = wait_for(
            lambda: next(
                (
                    r
                    for r in lab.snap().rows.values()
                    if r.status == TrialStatus.RUNNING and r.timesteps > 100
                ),
                None,
            ),
            what="a trial running past 100",
        )
        os.kill(_worker_pid(lab, victim.number), signal.SIGKILL)
        # A replacement joins at once: the other worker may already be done and gone.
        lab.pool.start(1, first_index=2)
        row = wait_for(
            lambda: (r := lab.trial(victim.number)) and r.status == TrialStatus.FAIL and r,
            what="lost trial FAIL",
        )
        assert "lost" in (row.error or "")
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    rows = lab.snap().rows
    assert sum(r.status == TrialStatus.COMPLETE for r in rows.values()) >= 1
    assert all(r.status.is_finished for r in rows.values())


STUCK = """
import time


def train(params, ctx):
    # Training code that never looks at ctx.should_stop(), as a hung environment would.
    step = 0
    while True:
        step += 1
        ctx.progress(step)
        time.sleep(0.01)
"""


def stuck_lab(study_file) -> Lab:
    """A study of one trial whose training function never stops by itself."""
    folder = study_file(name="stuck").parent
    (folder / "stuck_fn.py").write_text(STUCK, encoding="utf-8")
    return Lab(
        study_file(
            name="stuck",
            text="""
            name: stuck
            n_trials: 1
            pruner: {type: none}
            train: {function: "stuck_fn:train", timesteps: 1000000000}
            control: {heartbeat_interval: 0.5, heartbeat_grace: 30}
            """,
        )
    )


@pytest.mark.parametrize(
    "action,state", [("prune", TrialStatus.PRUNED), ("kill", TrialStatus.FAIL)]
)
def test_training_that_ignores_a_stop_is_ended_with_its_process(action, state, study_file):
    lab = stuck_lab(study_file)
    lab.pool.start(1)
    try:
        _running(lab, 0, past=10)
        pid = lab.pool.started[0].pid
        asked = time.monotonic()
        Controller(lab.ostudy).request(0, action)
        row = wait_for(lambda: (r := lab.trial(0)) and r.status == state and r, what=state.value)
        _wait_exit(pid)
        assert time.monotonic() - asked > 9  # the training had its chance to stop first
    finally:
        lab.stop()
    assert "did not stop when asked" in lab.logs()
    if action == "kill":
        assert (row.error or "").startswith("stopped by user")
