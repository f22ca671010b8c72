"""Studies with several objectives, run by `rltui run` with real workers: Optuna holds one
value per objective for each COMPLETE trial, each with the meaning the study file names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from rltui.search.storage import open_storage
from rltui.search.study import storage_url_for
from rltui.spec import load_study

pytestmark = pytest.mark.slow

STUDY = """\
name: {name}
n_trials: {n_trials}
objectives: {objectives}
sampler: {{type: random, seed: 0}}
train:
  algorithm: ppo
  env: CartPole-v1
  timesteps: 256
  eval: {{every: 128, episodes: 2}}
hyperparameters:
  n_steps: 64
  batch_size: 32
  n_epochs: 1
  policy_kwargs: {{net_arch: [8]}}
search_space:
  learning_rate: {{type: float, low: 1.0e-4, high: 1.0e-2, log: true}}
"""


def _run(tmp_path: Path, name: str, objectives: str, n_trials: int) -> tuple[dict, optuna.Study]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        STUDY.format(name=name, objectives=objectives, n_trials=n_trials), encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "run", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    study = load_study(path)
    storage = open_storage(storage_url_for(study), create=False)
    return json.loads(done.stdout), optuna.load_study(study_name=name, storage=storage)


def test_reward_and_wall_time_are_told_to_optuna(tmp_path: Path) -> None:
    doc, ostudy = _run(tmp_path, "pareto", "[reward, wall_time]", 2)
    assert [d.name for d in ostudy.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert ostudy.metric_names == ["reward", "wall_time"]
    trials = ostudy.trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 2, doc
    for trial in trials:
        assert len(trial.values) == 2
        reward, seconds = trial.values
        # The reward is the final evaluation's mean (train.objective's default), and the
        # curve is kept although Optuna takes no report in such a study.
        assert sorted(trial.intermediate_values) == [128, 256]
        assert reward == trial.intermediate_values[256]
        duration = (trial.datetime_complete - trial.datetime_start).total_seconds()
        assert 0 < seconds <= duration
    # The summary names the front by objective; "best" is the best by the first objective.
    front = doc["pareto_front"]
    assert front and {t["number"] for t in front} <= {0, 1}
    assert set(front[0]["values"]) == {"reward", "wall_time"}
    assert doc["best"]["value"] == max(t.values[0] for t in trials)


def test_auc_and_steps_to_are_read_from_the_curve(tmp_path: Path) -> None:
    # CartPole's reward is at least 8 an episode: the threshold is reached at the first
    # evaluation; the second objective's threshold is out of reach.
    objectives = "[auc, {name: steps_to, threshold: 8}, {name: steps_to, threshold: 100000}]"
    _doc, ostudy = _run(tmp_path, "curve", objectives, 1)
    (trial,) = ostudy.trials
    assert trial.state == optuna.trial.TrialState.COMPLETE
    curve = trial.intermediate_values
    auc, reached, never = trial.values
    # Evaluations every 128 steps up to 256: the area per step is their mean.
    assert auc == pytest.approx((curve[128] + curve[256]) / 2)
    assert reached == 128
    assert never == 256 + 1  # never reached: the budget + 1
