"""The trainer in-process: reproducibility, pause/resume at a chunk boundary, objectives."""

from __future__ import annotations

from pathlib import Path

import pytest

from rltui.spec import load_study
from rltui.train import checkpoint
from rltui.train.trainer import objective, train_sb3
from tests.train.reporters import ScriptedReporter

PARAMS = {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "net_arch": [8], "learning_rate": 1e-3}
DQN_STUDY = """
name: dqn
train:
  algorithm: dqn
  env: CartPole-v1
  timesteps: 3000
  eval: {every: 1000, episodes: 2}
  seed: 3
"""
DQN_PARAMS = {
    "learning_starts": 200,
    "train_freq": 4,
    "buffer_size": 5000,
    "batch_size": 16,
    "net_arch": [8],
    "exploration_fraction": 0.5,
    "target_update_interval": 50,
}


def _run(study, params, reporter, tmp_path: Path, resume: Path | None = None):
    return train_sb3(
        study,
        params,
        reporter,
        device="cpu",
        seed=study.spec.train.seed,
        checkpoint_dir=tmp_path / "ckpt",
        resume=resume,
    )


def test_same_seed_same_curve(study_file, tmp_path):
    study = load_study(study_file(timesteps=384, every=128))
    first = _run(study, PARAMS, ScriptedReporter(), tmp_path)
    second = _run(study, PARAMS, ScriptedReporter(), tmp_path)
    assert [s for s, _ in first.evaluations] == [128, 256, 384]
    assert first.evaluations == second.evaluations


@pytest.mark.parametrize("kind", ["ppo", "dqn"])
def test_pause_and_resume_equals_straight_run(kind, study_file, tmp_path):
    if kind == "ppo":
        study, params, at = load_study(study_file(timesteps=512, every=128)), PARAMS, 192
    else:
        study, params, at = load_study(study_file(name="dqn", text=DQN_STUDY)), DQN_PARAMS, 1000
    straight = _run(study, params, ScriptedReporter(), tmp_path / "a")

    pausing = ScriptedReporter("pause", at=at)
    first = _run(study, params, pausing, tmp_path / "b")
    assert first.stopped == "pause" and first.checkpoint is not None
    assert first.timesteps < study.spec.train.timesteps
    if kind == "dqn":
        assert (checkpoint.latest(first.checkpoint / "seed-0") / "replay.pkl").exists()
    pausing.done = True
    resumed = _run(study, params, pausing, tmp_path / "b", resume=first.checkpoint)

    assert resumed.stopped is None
    assert resumed.timesteps == straight.timesteps == study.spec.train.timesteps
    steps = [s for s, _ in resumed.evaluations]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert resumed.evaluations == straight.evaluations


def test_objectives():
    evals = [(1, 10.0), (2, 30.0), (3, 20.0)]
    assert objective(evals, "last", 3, True) == 20.0
    assert objective(evals, "best", 3, True) == 30.0
    assert objective(evals, "best", 3, False) == 10.0
    assert objective(evals, "mean_last", 2, True) == 25.0
    assert objective([], "last", 1, True) is None


def test_several_seeds_report_their_mean_and_pause_together(study_file, tmp_path):
    path = study_file(timesteps=384, every=128)
    path.write_text(path.read_text().replace("  seed: 0\n", "  seeds: [0, 1]\n"))
    study = load_study(path)
    straight = _run(study, PARAMS, ScriptedReporter(), tmp_path / "a")
    assert set(straight.extra["seed_values"]) == {"0", "1"}
    per_seed = list(straight.extra["seed_values"].values())
    assert [v for _, v in straight.evaluations] == [
        (a + b) / 2 for a, b in zip(*per_seed, strict=True)
    ]
    assert len({tuple(v) for v in per_seed}) == 2, "both seeds gave the same curve"

    pausing = ScriptedReporter("pause", at=192)
    first = _run(study, PARAMS, pausing, tmp_path / "b")
    assert first.stopped == "pause"
    assert {p.name for p in first.checkpoint.iterdir()} == {"seed-0", "seed-1"}
    pausing.done = True
    resumed = _run(study, PARAMS, pausing, tmp_path / "b", resume=first.checkpoint)
    assert resumed.evaluations == straight.evaluations


def test_reports_land_on_planned_steps_whatever_the_rollout_size(study_file, tmp_path):
    # Optuna's median pruner compares trials only at equal steps.
    study = load_study(study_file(timesteps=384, every=128))
    for n_steps in (64, 96):
        reporter = ScriptedReporter()
        out = _run(study, {**PARAMS, "n_steps": n_steps}, reporter, tmp_path / str(n_steps))
        assert [s for s, _ in reporter.reports] == [128, 256, 384]
        assert out.evaluations == reporter.reports


def test_training_leaves_nothing_in_the_temp_dir(study_file, tmp_path, monkeypatch):
    # SB3 makes an SB3-<date> folder per learn() call unless the model has a logger, and a
    # trial learns in many chunks: a long study would litter /tmp with thousands of them.
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = study_file(timesteps=384, every=128)
    path.write_text(path.read_text().replace("  seed: 0\n", "  seeds: [0, 1]\n"))
    _run(load_study(path), PARAMS, ScriptedReporter(), tmp_path)
    assert list(scratch.iterdir()) == []
