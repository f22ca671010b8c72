"""The queue of waiting trials: resumes first, then "run next" trials, then the rest in the
order they were enqueued; each waiting trial claimed by exactly one of several processes
racing for it; and a real worker taking a "run next" clone before trials enqueued earlier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of
from rltui.search.queue import claim_next, describe_place, place_of, waiting_trials
from rltui.search.storage import open_storage
from rltui.search.study import enqueue, open_study
from rltui.spec import load_study
from tests.worker.helpers import Lab

REPO = Path(__file__).resolve().parents[2]


def study_in(tmp_path: Path) -> optuna.Study:
    storage = open_storage(str(tmp_path / "study.journal"))
    return optuna.create_study(storage=storage, study_name="queue", direction="maximize")


def queued(ostudy: optuna.Study) -> list[int]:
    return [t.number for t in waiting_trials(storage_of(ostudy), study_id_of(ostudy))]


def paused_then_resumed(ostudy: optuna.Study) -> int:
    """A trial that ran, paused, and was queued to resume (as Controller.request does)."""
    # Created directly: ask() would pop a waiting trial rather than start a new one.
    storage = storage_of(ostudy)
    trial = optuna.Trial(ostudy, storage.create_new_trial(study_id_of(ostudy)))
    trial.suggest_float("x", 0.0, 1.0)
    storage.set_trial_system_attr(trial_id_of(trial), attrs.RESUME, {"timesteps": 64})
    storage.set_trial_state_values(trial_id_of(trial), TrialState.WAITING)
    return trial.number


def test_resumes_go_first_then_run_next_trials_latest_first_then_the_rest_in_order(tmp_path):
    ostudy = study_in(tmp_path)
    first = enqueue(ostudy, {"x": 0.1})
    second = enqueue(ostudy, {"x": 0.2})
    early_next = enqueue(ostudy, {"x": 0.3}, run_next=True)
    late_next = enqueue(ostudy, {"x": 0.4}, run_next=True)
    last = enqueue(ostudy, {"x": 0.5})
    resumed = paused_then_resumed(ostudy)

    assert queued(ostudy) == [resumed, late_next, early_next, first, second, last]
    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    tid = storage.get_trial_id_from_study_id_trial_number(study_id, last)
    assert place_of(storage, study_id, tid) == (5, 6)

    # Taken in that order, each once.
    taken = []
    while (trial := claim_next(ostudy)) is not None:
        taken.append(trial.number)
        assert storage.get_trial(trial_id_of(trial)).state == TrialState.RUNNING
    assert taken == [resumed, late_next, early_next, first, second, last]
    assert place_of(storage, study_id, tid) is None  # it waits no longer


def test_a_claimed_enqueued_trial_runs_with_its_fixed_parameters(tmp_path):
    ostudy = study_in(tmp_path)
    enqueue(ostudy, {"x": "0.25"}, user_attrs={"rltui_clone_of": 3})
    trial = claim_next(ostudy)
    assert trial is not None
    assert trial.suggest_float("x", 0.0, 1.0) == 0.25  # a string from the form, as a number
    assert trial.user_attrs == {"rltui_clone_of": 3}


def test_a_trial_killed_while_it_waits_is_passed_over(tmp_path):
    ostudy = study_in(tmp_path)
    killed = enqueue(ostudy, {"x": 0.1}, run_next=True)
    kept = enqueue(ostudy, {"x": 0.2})
    storage = storage_of(ostudy)
    tid = storage.get_trial_id_from_study_id_trial_number(study_id_of(ostudy), killed)
    storage.set_trial_state_values(tid, TrialState.FAIL)
    trial = claim_next(ostudy)
    assert trial is not None and trial.number == kept
    assert claim_next(ostudy) is None


def test_places_read_as_a_user_says_them():
    assert describe_place(0) == "runs next"
    assert describe_place(17) == "18th in the queue (17 waiting before it)"
    assert [describe_place(n).split()[0] for n in (1, 2, 10, 11, 12, 20, 21, 101)] == [
        "2nd",
        "3rd",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "102nd",
    ]


# Several processes at once ---------------------------------------------------------------

CLAIMER = """
import json, os, sys, time
import optuna
from rltui.search.queue import claim_next
from rltui.search.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="queue", storage=open_storage(sys.argv[1]))
while not os.path.exists(sys.argv[2]):  # every process ready: then all claim at once
    time.sleep(0.01)
taken = []
while (trial := claim_next(study)) is not None:
    taken.append(trial.number)
print(json.dumps(taken))
"""


@pytest.mark.slow
def test_processes_racing_for_the_queue_take_each_trial_once_and_in_order(tmp_path):
    ostudy = study_in(tmp_path)
    for index in range(24):
        enqueue(ostudy, {"x": index / 24}, run_next=index % 3 == 0)
    order = queued(ostudy)
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    claimers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(tmp_path / "study.journal"), str(go)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    time.sleep(0.5)
    go.touch()
    results = []
    for claimer in claimers:
        out, _ = claimer.communicate(timeout=120)
        assert claimer.returncode == 0
        results.append(json.loads(out))
    everything = [number for taken in results for number in taken]
    assert sorted(everything) == sorted(order), "each waiting trial taken exactly once"
    for taken in results:  # each process took its trials in queue order
        assert taken == sorted(taken, key=order.index)
    assert all(t.state == TrialState.RUNNING for t in ostudy.get_trials())


# A real worker ------------------------------------------------------------------------------

FUNCTION = """
def train(params, ctx):
    ctx.progress(1)
    ctx.report(1, params["x"])
"""

STUDY = """
name: queued
n_trials: 3
sampler: {type: random, seed: 0}
pruner: {type: none}
train:
  function: "queuefn:train"
  timesteps: 1
search_space:
  x: interval(0.0, 1.0)
"""


@pytest.mark.slow
def test_a_worker_runs_a_run_next_clone_before_trials_enqueued_earlier(tmp_path):
    (tmp_path / "queuefn.py").write_text(textwrap.dedent(FUNCTION), encoding="utf-8")
    path = tmp_path / "queued.yaml"
    path.write_text(STUDY, encoding="utf-8")
    ostudy, _url = open_study(load_study(path))
    earlier = [enqueue(ostudy, {"x": value}) for value in (0.1, 0.2)]
    clone = enqueue(ostudy, {"x": 0.9}, run_next=True)
    lab = Lab(path)
    lab.pool.start(1, max_trials=2)
    try:
        assert lab.pool.wait(120), lab.logs()
    finally:
        lab.stop()
    trials = {t.number: t for t in lab.ostudy.get_trials()}
    assert trials[clone].state == TrialState.COMPLETE and trials[clone].value == 0.9
    assert trials[earlier[0]].state == TrialState.COMPLETE
    assert trials[earlier[1]].state == TrialState.WAITING, lab.logs()
    ran_first, ran_second = trials[clone].datetime_start, trials[earlier[0]].datetime_start
    assert ran_first is not None and ran_second is not None and ran_first < ran_second
