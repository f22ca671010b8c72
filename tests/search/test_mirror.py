"""rltui's facts copied into user attributes, where optuna-dashboard and
``study.trials_dataframe()`` show them: every ending, pause and requeue, a worker's claim,
and the real worker's writes."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from rltui.search import attrs, endings, mirror
from rltui.search.control import Controller
from rltui.search.lifecycle import ControlAction, StopCause, TrialStatus, status_of
from rltui.search.optuna_internals import storage_of, trial_id_of
from rltui.search.storage import StudyHome
from tests.conftest import require_extra
from tests.worker.helpers import Lab, wait_for

CHECKPOINT = {"checkpoint": "/c/checkpoints/trial-0/step-1000", "timesteps": 1000}


@pytest.fixture
def study() -> optuna.Study:
    return optuna.create_study(storage=optuna.storages.InMemoryStorage(), direction="maximize")


def _claimed(study: optuna.Study, worker: str = "w1") -> int:
    """A trial a worker has claimed, as the worker records its claim."""
    trial = study.ask()
    trial.report(3.0, 100)
    storage, tid = storage_of(study), trial_id_of(trial)
    mirror.claimed(storage, tid, worker, storage.get_trial(tid).user_attrs)
    return tid


def _mirrored(study: optuna.Study, tid: int) -> dict[str, object]:
    return {
        key.removeprefix("rltui_"): value
        for key, value in storage_of(study).get_trial(tid).user_attrs.items()
    }


def test_a_paused_trial_says_paused_where_optuna_says_running(study):
    tid = _claimed(study)
    endings.pause(storage_of(study), tid, {**CHECKPOINT, "reason": "user"})
    frozen = storage_of(study).get_trial(tid)
    assert frozen.state.name == "RUNNING" and status_of(frozen) == TrialStatus.PAUSED
    assert _mirrored(study, tid) == {
        "state": "PAUSED",
        "reason": mirror.PAUSED_BY_USER,
        "worker": "w1",
    }


def test_the_dataframe_shows_the_mirrored_columns(study):
    require_extra("pandas", "test")  # trials_dataframe() needs it
    paused, done = _claimed(study), _claimed(study, "w2")
    endings.pause(storage_of(study), paused, {**CHECKPOINT, "reason": "interrupted"})
    mirror.timesteps(storage_of(study), done, 2048)
    endings.end(study, done, None, value=9.0)
    frame = study.trials_dataframe()
    columns = [f"user_attrs_rltui_{fact}" for fact in ("state", "reason", "worker", "timesteps")]
    assert set(columns) <= set(frame.columns)
    rows = frame.set_index("number")[columns].to_dict("index")
    assert rows[0]["user_attrs_rltui_state"] == "PAUSED"
    assert rows[0]["user_attrs_rltui_reason"] == mirror.PAUSED_WITH_WORKER
    assert rows[1]["user_attrs_rltui_state"] == "COMPLETE"
    assert rows[1]["user_attrs_rltui_worker"] == "w2"
    assert rows[1]["user_attrs_rltui_timesteps"] == 2048


def test_resume_requeues_then_a_claim_runs_it_again(study):
    tid = _claimed(study)
    storage = storage_of(study)
    endings.pause(storage, tid, {**CHECKPOINT, "reason": "user"})
    assert endings.requeue(storage, tid, CHECKPOINT)
    assert _mirrored(study, tid)["state"] == "WAITING"
    assert _mirrored(study, tid)["reason"] == "queued to resume from 1,000 timesteps"
    mirror.claimed(storage, tid, "w2", storage.get_trial(tid).user_attrs)
    assert _mirrored(study, tid) == {"state": "RUNNING", "reason": None, "worker": "w2"}


@pytest.mark.parametrize(
    ("cause", "state", "reason"),
    [
        (None, "COMPLETE", None),
        (StopCause.PRUNE, "PRUNED", mirror.PRUNED_BY_USER),
        (StopCause.PRUNER, "PRUNED", mirror.PRUNED_BY_PRUNER),
        (StopCause.KILL, "FAIL", endings.STOPPED_BY_USER),
    ],
)
def test_every_ending_says_its_state_and_why(study, cause, state, reason):
    tid = _claimed(study)
    assert endings.end(study, tid, cause, value=1.0)
    assert _mirrored(study, tid)["state"] == state == storage_of(study).get_trial(tid).state.name
    assert _mirrored(study, tid).get("reason") == reason


def test_a_failure_says_its_message(study):
    tid = _claimed(study)
    endings.fail(study, tid, "worker w1 lost (no heartbeat for 20 s)")
    assert _mirrored(study, tid)["state"] == "FAIL"
    assert _mirrored(study, tid)["reason"] == "worker w1 lost (no heartbeat for 20 s)"


def test_a_waiting_trial_ended_without_tell_is_mirrored(study):
    study.enqueue_trial({})
    (trial,) = study.get_trials(deepcopy=False)
    endings.end(study, trial_id_of(trial), StopCause.asked(ControlAction.KILL))
    assert _mirrored(study, trial_id_of(trial)) == {
        "state": "FAIL",
        "reason": endings.STOPPED_BY_USER,
    }


def test_a_retry_after_a_lost_worker_says_so(study):
    tid = _claimed(study)
    endings.requeue(storage_of(study), tid, {**CHECKPOINT, "retry": 1})
    assert _mirrored(study, tid)["reason"] == "retry 1: queued to resume from 1,000 timesteps"


def test_a_refused_guard_writes_nothing_more(study):
    tid = _claimed(study)
    before = _mirrored(study, tid)
    assert not endings.requeue(storage_of(study), tid, None, guard=lambda: False)
    assert _mirrored(study, tid) == before


def _journal_lines(path: Path) -> int:
    return len(path.read_bytes().splitlines())


def test_values_already_stored_are_not_written_again(tmp_path):
    from rltui.search.journal import open_journal

    path = tmp_path / "study.journal"
    storage = open_journal(path)
    study = optuna.create_study(storage=storage, study_name="s")
    tid = _claimed(study)
    lines = _journal_lines(path)
    mirror.claimed(storage, tid, "w1", storage.get_trial(tid).user_attrs)
    assert _journal_lines(path) == lines


# -- the real worker -----------------------------------------------------------------------


@pytest.mark.slow
def test_a_worker_mirrors_its_claim_a_pause_and_the_end(study_file):
    path = study_file(name="mirror", n_trials=1, timesteps=8192, every=512)
    lab = Lab(path)
    lab.pool.start(1)
    try:
        wait_for(lambda: (r := lab.trial(0)) and r.timesteps > 600, what="trial 0 training")
        Controller(lab.ostudy).request(0, "pause")
        wait_for(lambda: lab.trial(0).status == TrialStatus.PAUSED, what="trial 0 paused")
        paused = lab.ostudy.trials[0]
        record = paused.system_attrs[attrs.PAUSED]
        assert paused.user_attrs["rltui_state"] == "PAUSED"
        assert paused.user_attrs["rltui_reason"] == mirror.PAUSED_BY_USER
        assert paused.user_attrs["rltui_worker"] == paused.system_attrs[attrs.TRIAL_WORKER]
        assert paused.user_attrs["rltui_timesteps"] == record["timesteps"]
        Controller(lab.ostudy).request(0, "resume")
        lab.pool.start(1)  # the first worker leaves when it has nothing more to claim
        wait_for(lambda: lab.trial(0).status == TrialStatus.COMPLETE, what="trial 0 complete")
    finally:
        lab.stop()
    done = lab.ostudy.trials[0]
    assert done.user_attrs["rltui_state"] == "COMPLETE"
    assert done.user_attrs["rltui_reason"] is None
    assert done.user_attrs["rltui_timesteps"] == 8192
    # Few writes: the state and the reason where they change (a value already there is not
    # written again), the worker at each claim by another worker, and the timesteps at each
    # stint's end and at most every 30 s between: far fewer than the progress records.
    lines = [json.loads(line) for line in StudyHome.beside(path).journal.read_bytes().splitlines()]
    mirrored = [next(iter(line["user_attr"])) for line in lines if "user_attr" in line]
    progress = [line for line in lines if attrs.PROGRESS in line.get("system_attr", {})]
    assert mirrored.count("rltui_state") == 5  # RUNNING, PAUSED, WAITING, RUNNING, COMPLETE
    assert mirrored.count("rltui_reason") == 3  # paused by user, queued to resume, cleared
    assert mirrored.count("rltui_worker") in (1, 2)  # 1 if the first worker took it again
    assert mirrored.count("rltui_timesteps") < len(progress)
