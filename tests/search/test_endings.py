"""Every way a trial ends, written by one module: states, reasons, checkpoints."""

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from rltui.search import attrs, endings
from rltui.search.lifecycle import ControlAction, StopCause, TrialStatus, status_of
from rltui.search.optuna_internals import storage_of, trial_id_of


@pytest.fixture
def study() -> optuna.Study:
    return optuna.create_study(storage=optuna.storages.InMemoryStorage(), direction="maximize")


def _running(study: optuna.Study, value: float | None = 3.0) -> optuna.Trial:
    trial = study.ask()
    if value is not None:
        trial.report(value, 100)
    return trial


def test_a_trial_that_ran_its_budget_completes_with_its_value(study: optuna.Study) -> None:
    trial = _running(study)
    assert endings.end(study, trial_id_of(trial), None, value=7.5)
    assert study.trials[0].state == TrialState.COMPLETE and study.trials[0].value == 7.5


@pytest.mark.parametrize("cause", [StopCause.PRUNE, StopCause.PRUNER])
def test_pruned_by_user_or_pruner_keeps_its_last_value(
    study: optuna.Study, cause: StopCause
) -> None:
    trial = _running(study, 3.0)
    endings.end(study, trial_id_of(trial), cause)
    assert study.trials[0].state == TrialState.PRUNED and study.trials[0].value == 3.0


def test_a_kill_fails_the_trial_stopped_by_user_with_why(study: optuna.Study) -> None:
    trial = _running(study)
    endings.end(study, trial_id_of(trial), StopCause.KILL, reason="it did not stop")
    frozen = study.trials[0]
    assert frozen.state == TrialState.FAIL
    assert frozen.system_attrs[attrs.REASON] == "stopped by user (it did not stop)"


def test_a_waiting_trial_is_pruned_or_killed_without_tell(study: optuna.Study) -> None:
    study.enqueue_trial({})
    study.enqueue_trial({})
    first, second = study.get_trials(deepcopy=False)
    endings.end(study, trial_id_of(first), StopCause.asked(ControlAction.PRUNE))
    endings.end(study, trial_id_of(second), StopCause.asked(ControlAction.KILL))
    states = [t.state for t in study.trials]
    assert states == [TrialState.PRUNED, TrialState.FAIL]


def test_a_failure_keeps_its_message_and_traceback(study: optuna.Study) -> None:
    trial = _running(study)
    endings.fail(study, trial_id_of(trial), "ValueError: nan reward", traceback="tb")
    frozen = study.trials[0]
    assert frozen.state == TrialState.FAIL
    assert frozen.system_attrs[attrs.REASON] == "ValueError: nan reward"
    assert frozen.system_attrs[attrs.ERROR]["traceback"] == "tb"


def test_pause_then_requeue_then_claim(study: optuna.Study) -> None:
    trial = _running(study)
    storage, tid = storage_of(study), trial_id_of(trial)
    endings.pause(storage, tid, {"checkpoint": "/c/trial-0/step-1", "timesteps": 1})
    assert status_of(storage.get_trial(tid)) == TrialStatus.PAUSED
    assert endings.requeue(storage, tid, {"checkpoint": "/c/trial-0/step-1", "timesteps": 1})
    frozen = storage.get_trial(tid)
    assert frozen.state == TrialState.WAITING
    assert frozen.system_attrs[attrs.PAUSED] is None
    assert frozen.system_attrs[attrs.RESUME]["timesteps"] == 1


def test_a_pause_is_not_an_ending(study: optuna.Study) -> None:
    with pytest.raises(ValueError):
        endings.end(study, trial_id_of(_running(study)), StopCause.PAUSE)


def test_a_guard_that_says_no_stops_before_any_write(study: optuna.Study) -> None:
    trial = _running(study)
    assert not endings.fail(study, trial_id_of(trial), "lost", guard=lambda: False)
    frozen = study.trials[0]
    assert frozen.state == TrialState.RUNNING and attrs.REASON not in frozen.system_attrs


def test_an_ending_removes_checkpoints_only_of_the_trials_shape(
    study: optuna.Study, tmp_path: Path
) -> None:
    trial = _running(study)
    shaped = tmp_path / "checkpoints" / "trial-0" / "step-000000000100"
    other = tmp_path / "elsewhere" / "step-000000000100"
    for folder in (shaped, other):
        folder.mkdir(parents=True)
    storage, tid = storage_of(study), trial_id_of(trial)
    storage.set_trial_system_attr(tid, attrs.CHECKPOINT, {"checkpoint": str(shaped)})
    endings.end(study, tid, None, value=1.0)  # no study file stored: checkpoints are kept
    assert shaped.exists()
    assert endings.checkpoint_folders(study.trials[0]) == [shaped.parent]
    planted = _running(study)
    storage.set_trial_system_attr(trial_id_of(planted), attrs.PAUSED, {"checkpoint": str(other)})
    assert endings.checkpoint_folders(study.trials[1]) == []  # not a trial-N folder: never removed


def test_an_ending_removes_only_checkpoints_under_this_studys_folder(tmp_path: Path) -> None:
    """A record is a hint: whoever can write to the storage must not make an ending delete
    another study's folder, or the place a link leads to."""
    from rltui.search.study import create_or_join
    from rltui.spec import parse_study

    text = (
        "name: ends\ntrain:\n  algorithm: ppo\n  env: CartPole-v1\n  timesteps: 64\n"
        "search_space:\n  gamma: choice(0.9, 0.99)\n"
    )
    study = create_or_join(parse_study(text), optuna.storages.InMemoryStorage())
    ours = tmp_path / "ends.rltui" / "checkpoints"
    theirs = tmp_path / "other.rltui" / "checkpoints"
    storage = storage_of(study)

    def ended_with(record_path: Path) -> optuna.Trial:
        trial = _running(study)
        storage.set_trial_system_attr(
            trial_id_of(trial), attrs.CHECKPOINT, {"checkpoint": str(record_path)}
        )
        endings.end(study, trial_id_of(trial), None, value=1.0, checkpoints=ours)
        return trial

    mine = ours / "trial-0" / "step-000000000100"
    mine.mkdir(parents=True)
    ended_with(mine)
    assert not mine.parent.exists()  # this study's own checkpoint went

    planted = theirs / "trial-1" / "step-000000000100"
    planted.mkdir(parents=True)
    ended_with(planted)
    assert planted.exists()  # another study's trial-1: the same shape, another folder

    target = tmp_path / "precious"
    (target / "step-000000000100").mkdir(parents=True)
    (ours / "trial-2").symlink_to(target, target_is_directory=True)
    ended_with(ours / "trial-2" / "step-000000000100")
    assert (target / "step-000000000100").exists()  # a link out of the folder is not followed

    kept = ours / "trial-3"
    kept.mkdir()
    trial = _running(study)
    storage.set_trial_system_attr(trial_id_of(trial), attrs.CHECKPOINT, {"checkpoint": str(kept)})
    endings.end(study, trial_id_of(trial), None, value=1.0)  # no folder given: nothing goes
    assert kept.exists()
