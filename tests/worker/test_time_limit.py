"""A trial past train.time_limit is pruned where it is, inside a PPO update too, with the
reason, and its worker goes on to the next trial; a limit written ``3x`` follows the median
run time of the study's complete trials."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from rltui.search import attrs
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import row_of
from rltui.worker import time_limit
from rltui.worker.time_limit import TimeLimit
from tests.worker.helpers import Lab


def ran(
    number: int,
    seconds: float,
    earlier: float = 0.0,
    steps: int = 1000,
    frozen: float = 0.0,
    updated_ago: float = 0.0,
) -> FrozenTrial:
    """A complete trial that trained ``steps`` timesteps, its last stint taking ``seconds``
    after ``earlier`` in others; its progress record, written ``updated_ago`` seconds ago, says
    its worker was ``frozen`` for that long."""
    end = datetime.now()
    progress = {"timesteps": steps, "total": 1000, "frozen": frozen}
    system: dict = {attrs.PROGRESS: progress | {"updated": time.time() - updated_ago}}
    if earlier:
        system[attrs.ELAPSED] = earlier
    return FrozenTrial(
        number=number,
        state=TrialState.COMPLETE,
        value=1.0,
        datetime_start=end - timedelta(seconds=seconds),
        datetime_complete=end,
        params={},
        distributions={},
        user_attrs={},
        system_attrs=system,
        intermediate_values={},
        trial_id=number,
    )


def test_a_relative_limit_follows_the_pace_of_the_complete_trials(monkeypatch):
    monkeypatch.setattr(time_limit, "REFRESH_SECONDS", 0.0)
    study = optuna.create_study()
    storage, study_id = storage_of(study), study_id_of(study)
    limit = TimeLimit("3x", used=25.0, total=1000)
    study.add_trial(ran(0, 10.0))  # 10 s for the 1,000 steps of the budget
    study.add_trial(optuna.trial.create_trial(value=1.0))  # added with its result: no time
    study.add_trial(ran(2, 4.0, earlier=6.0))  # two stints, 10 s in all
    limit.refresh(storage, study_id)
    assert limit.deadline is None and not limit.passed()  # two trials ran: too few to judge
    study.add_trial(ran(3, 1.0, steps=100))  # reached its target early: 10 s at its pace
    study.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED, value=0.0))
    limit.refresh(storage, study_id)
    assert limit.seconds == pytest.approx(30.0, abs=0.1)  # 3 x 10 s
    assert not limit.passed()  # 25 s used of 30
    for number in range(5, 9):
        study.add_trial(ran(number, 2.0))
    limit.refresh(storage, study_id)
    assert limit.seconds == pytest.approx(6.0, abs=0.1) and limit.passed()  # 3 x 2 s
    assert limit.said() == (
        "train.time_limit: 3x the median complete trial's time for 1,000 timesteps, 6s"
    )


def test_time_a_worker_was_frozen_is_not_counted_as_run():
    stopped = ran(0, 25.0, frozen=15.0)  # 10 s of training, 15 s stopped
    assert time_limit.seconds_run(stopped) == pytest.approx(10.0, abs=0.1)
    assert row_of(stopped).duration == pytest.approx(10.0, abs=0.1)  # the table's time too
    # A progress record older than the stint is the last stint's: its freeze counted then.
    earlier = ran(1, 25.0, earlier=5.0, frozen=15.0, updated_ago=60.0)
    assert time_limit.seconds_run(earlier) == pytest.approx(30.0, abs=0.1)
    assert row_of(earlier).duration == pytest.approx(30.0, abs=0.1)
    study = optuna.create_study()
    for number in range(3):
        study.add_trial(ran(number, 25.0, frozen=15.0))
    assert time_limit.median_pace(storage_of(study), study_id_of(study)) == pytest.approx(
        0.01, rel=0.01
    )


def test_a_limit_in_seconds_reads_no_trial():
    limit = TimeLimit(90.0, used=89.0)
    limit.refresh(None, 0)  # type: ignore[arg-type]  # a limit in seconds reads nothing
    assert limit.seconds == 90.0 and not limit.passed()
    assert limit.said() == "train.time_limit: 90s" and TimeLimit(90.0, used=91.0).passed()
    assert TimeLimit(None).deadline is None and not TimeLimit(None).passed()


def slow_trials(study_file, name: str, n_trials: int, limit: str) -> Lab:
    """A study whose trials each take far longer than a few seconds (a 2,048-step rollout,
    then 5,120 gradient steps), limited to ``limit``."""
    path = study_file(name=name, n_trials=n_trials, timesteps=65536, every=4096)
    text = path.read_text(encoding="utf-8")
    text = text.replace("  seed: 0\n", f"  seed: 0\n  time_limit: {limit}\n")
    text = text.replace("n_steps: 64", "n_steps: 2048").replace("batch_size: 32", "batch_size: 8")
    path.write_text(text.replace("n_epochs: 1", "n_epochs: 20"), encoding="utf-8")
    return Lab(path)


def test_time_the_process_was_frozen_is_left_out(monkeypatch):
    clock = {"wall": 100.0, "cpu": 50.0}
    monkeypatch.setattr(time_limit.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(time_limit.time, "process_time", lambda: clock["cpu"])

    def run(seconds: float, cpu: float) -> None:
        clock["wall"] += seconds
        clock["cpu"] += cpu

    limit = TimeLimit(20.0)
    limit.beat()
    for _ in range(20):  # 10 s of training, a heartbeat round every half second
        run(0.5, 0.5)
        limit.beat()
    run(15.0, 0.0)  # SIGSTOP for 15 s: no CPU at all
    assert not limit.passed()  # the training thread wakes first: no prune before the round
    limit.beat()
    assert limit.frozen == 15.0 and not limit.passed()  # 10 s of the 20 run
    run(3.0, 2.9)  # a late round on a busy machine, the process training meanwhile
    limit.beat()
    assert limit.frozen == 15.0 and not limit.passed()  # 13 s run
    for _ in range(15):
        run(0.5, 0.5)
        limit.beat()
    assert limit.passed() and limit.frozen == 15.0  # 20.5 s run


@pytest.mark.slow
def test_trials_past_their_time_limit_are_pruned_and_the_worker_goes_on(study_file):
    lab = slow_trials(study_file, "timed", 2, "2s")
    lab.run_to_end(1)
    rows = lab.snap().rows
    assert [r.status for r in rows.values()] == [TrialStatus.PRUNED] * 2, lab.logs()
    for row in rows.values():
        assert row.error == "time limit reached (train.time_limit: 2s)"
        assert row.timesteps < 65536
        frozen = lab.ostudy.trials[row.number]
        assert frozen.user_attrs["rltui_reason"] == row.error  # what other tools read
    logs = lab.logs()
    assert "did not stop" not in logs and "Traceback" not in logs, logs
    assert logs.count("pruned after") == 2 and "trial budget is reached" in logs, logs


@pytest.mark.slow
def test_a_trial_far_slower_than_the_complete_ones_is_pruned(study_file):
    lab = slow_trials(study_file, "relative", 4, "3x")
    for number in range(3):  # three trials that trained the budget in a third of a second
        lab.ostudy.add_trial(ran(number, 0.3, steps=65536))
    lab.run_to_end(1)
    row = lab.trial(3)
    assert row.status is TrialStatus.PRUNED, lab.logs()
    assert row.error == (
        "time limit reached (train.time_limit: 3x the median complete trial's time for "
        "65,536 timesteps, 0.9s)"
    )
    assert row.timesteps < 65536
