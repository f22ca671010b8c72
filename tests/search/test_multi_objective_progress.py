"""The search layer's words and numbers for a study with several objectives: a trial that
completes says each objective's value, and a several-seed trial's spread follows the reward's
own direction wherever the reward stands among the objectives."""

from __future__ import annotations

import shutil
from pathlib import Path

from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, trial_id_of
from rltui.search.reader import StudyReader
from rltui.search.seeds import trial_spread
from rltui.search.study import open_study
from rltui.search.trial_progress import TRIAL_COMPLETED, steps_between
from rltui.spec import load_study

SMOKE = Path(__file__).resolve().parents[2] / "sample_studies" / "smoke.yaml"
PRUNER = "pruner:\n  type: median\n  n_startup_trials: 2\n  n_warmup_steps: 0\n"


def _file(tmp_path: Path, objectives: str, extra: str = "") -> Path:
    path = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, path)
    text = path.read_text(encoding="utf-8").replace(PRUNER, "").replace("enqueue:\n", "x:\n")
    text = text.split("x:\n", 1)[0]  # no hand-picked trial: the trials below are the study's
    text = text.replace("direction: maximize\n", f"objectives: {objectives}\n")
    train = "  objective: last\n  seed: 0\n"
    path.write_text(text.replace(train, extra or train), encoding="utf-8")
    return path


def test_a_completed_trial_says_each_objectives_value(tmp_path: Path) -> None:
    ostudy, _ = open_study(load_study(_file(tmp_path, "[reward, wall_time]"), check_env=False))
    reader = StudyReader(ostudy)
    trial = ostudy.ask()
    before = reader.poll()
    ostudy.tell(trial, [150.0, 12.5])
    steps = steps_between(before, reader.poll())
    done = [s for s in steps if s.kind == TRIAL_COMPLETED]
    assert [s.text for s in done] == ["trial 0 completed with reward 150, wall_time 12.5"]


def test_a_single_objective_trial_still_says_its_value(tmp_path: Path) -> None:
    path = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, path)
    ostudy, _ = open_study(load_study(path, check_env=False))
    reader = StudyReader(ostudy)
    trial = ostudy.ask()
    before = reader.poll()
    ostudy.tell(trial, 150.0)
    done = [s.text for s in steps_between(before, reader.poll()) if s.kind == TRIAL_COMPLETED]
    assert done == ["trial 0 completed with value 150"]


def test_the_seed_spread_follows_the_rewards_direction_not_the_first(tmp_path: Path) -> None:
    seeds = "  seeds: [7, 0]\n  objective: {type: best}\n"
    path = _file(tmp_path, "[wall_time, reward]", seeds)
    study = load_study(path, check_env=False)
    assert study.spec.directions == ("minimize", "maximize")
    ostudy, _ = open_study(study)
    trial = ostudy.ask()
    values = {"7": [10.0, 30.0, 20.0], "0": [20.0, 50.0, 40.0]}  # the mean peaks at the 2nd
    storage, trial_id = storage_of(ostudy), trial_id_of(trial)
    for step in range(3):  # as the trainer reports: the seeds' mean at each evaluation
        mean = sum(v[step] for v in values.values()) / 2
        storage.set_trial_intermediate_value(trial_id, (step + 1) * 256, mean)
    storage.set_trial_system_attr(trial_id, attrs.SEED_VALUES, values)
    ostudy.tell(trial, [12.0, 40.0])
    spread = trial_spread(ostudy.trials[0], study)
    assert spread is not None and spread.values == (30.0, 50.0)  # the highest reward's point
