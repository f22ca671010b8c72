"""The study reader: each poll costs what changed, and so does its summary."""

from __future__ import annotations

from pathlib import Path

import optuna

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import StudyReader
from rltui.search.storage import open_storage


def test_a_poll_with_no_change_reuses_the_rows_and_their_summary(tmp_path: Path) -> None:
    storage = open_storage(str(tmp_path / "study.journal"))
    study = optuna.create_study(storage=storage, direction="maximize")
    for value in (1.0, 3.0, 2.0):
        trial = study.ask()
        trial.suggest_float("lr", 1e-4, 1e-2, log=True)
        study.tell(trial, value)
    running = study.ask()
    running.suggest_int("layers", 1, 3)
    reader = StudyReader(study)

    first = reader.poll()
    assert first.changed == {0, 1, 2, 3}
    assert first.best is not None and first.best.number == 1
    assert first.counts == {TrialStatus.COMPLETE: 3, TrialStatus.RUNNING: 1}
    assert first.summary.running == {3}
    assert first.summary.param_names == ("layers", "lr")

    quiet = reader.poll()
    assert not quiet.changed
    assert quiet.rows is first.rows and quiet.summary is first.summary

    study.tell(running, 5.0)
    after = reader.poll()
    assert after.changed == {3} and after.rows is not first.rows
    assert after.best is not None and after.best.number == 3
    assert after.summary.running == frozenset()
    assert first.best.number == 1, "an earlier snapshot is not changed"


def test_a_waiting_trial_shows_the_parameters_it_will_run_with(tmp_path: Path) -> None:
    from rltui.search.study import enqueue

    storage = open_storage(str(tmp_path / "study.journal"))
    study = optuna.create_study(storage=storage, direction="maximize")
    whole = enqueue(study, {"lr": 3e-3, "gamma": 0.99})
    partial = enqueue(study, {"gamma": 0.95})  # lr is the sampler's to pick: not known yet
    rows = StudyReader(study).poll().rows
    assert rows[whole].status == TrialStatus.WAITING
    assert rows[whole].params == {"lr": 3e-3, "gamma": 0.99}
    assert rows[partial].params == {"gamma": 0.95}

    taken = study.ask()  # a worker takes the first: its parameters are Optuna's now
    taken.suggest_float("lr", 1e-4, 1e-2, log=True)
    rows = StudyReader(study).poll().rows
    assert rows[whole].status == TrialStatus.RUNNING and rows[whole].params == {"lr": 3e-3}
