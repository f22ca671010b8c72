"""The shipped sample studies: each is valid as shipped and says what its README line says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rltui.search.lifecycle import TrialStatus
from rltui.spec import load_study
from tests.conftest import needs_extra
from tests.worker.helpers import Lab

SAMPLES = Path(__file__).resolve().parents[1] / "sample_studies"
FILES = sorted(SAMPLES.glob("*.yaml"))


def _extra(path: Path) -> pytest.MarkDecorator | None:
    """The optional extra a sample needs (its env or algorithm), as a skip mark."""
    text = path.read_text(encoding="utf-8")
    if re.search(r"env: (ALE/|\w+NoFrameskip-v4)", text):
        return needs_extra("ale_py", "atari")
    if re.search(r"env: (Hopper|HalfCheetah|Walker2d|Ant|Humanoid|InvertedPendulum|Swimmer)", text):
        return needs_extra("mujoco", "mujoco")
    if re.search(r"algorithm: (tqc|qrdqn|trpo|ars|recurrentppo|crossq)\b", text):
        return needs_extra("sb3_contrib", "contrib")
    return None


SAMPLE_PARAMS = [pytest.param(p, id=p.stem, marks=[m] if (m := _extra(p)) else []) for p in FILES]


@pytest.mark.parametrize("path", SAMPLE_PARAMS)
def test_every_sample_study_is_valid_without_warnings(path: Path) -> None:
    study = load_study(path)
    assert not study.warnings, [p.message for p in study.warnings]


def test_the_grid_sample_runs_each_of_its_six_combinations_once() -> None:
    study = load_study(SAMPLES / "grid_ppo.yaml")
    assert study.space.all_grid and study.n_trials == 6
    assert len(study.space.grid_points()) == 6


def test_the_hydra_sample_searches_what_a_ddpg_user_tunes() -> None:
    study = load_study(SAMPLES / "pendulum_ddpg_hydra.yaml")
    assert study.spec.train.algorithm == "ddpg" and study.spec.train.env == "Pendulum-v1"
    searched = set(study.space.distributions)
    assert {
        "learning_rate", "batch_size", "gamma", "tau", "action_noise",
        "action_noise_sigma", "net_arch", "activation_fn",
    } <= searched  # fmt: skip
    # Written in the grammar, with floats such as 1e-5 read as floats.
    assert study.space.distributions["learning_rate"].low == pytest.approx(1e-5)


HANDPICKED = SAMPLES / "cartpole_dqn_handpicked.yaml"


def test_the_handpicked_dqn_settings_differ_only_where_they_should() -> None:
    study = load_study(HANDPICKED)
    fixed = study.spec.hyperparameters
    assert study.spec.train.algorithm == "dqn" and study.spec.train.env == "CartPole-v1"
    assert {
        k: fixed[k]
        for k in ("batch_size", "buffer_size", "train_freq", "learning_starts", "max_grad_norm")
    } == {
        "batch_size": 32,
        "buffer_size": 10_000,
        "train_freq": 8,
        "learning_starts": 1000,
        "max_grad_norm": 10,
    }
    assert fixed["net_arch"] == [256, 256]
    # Ten updates of train_freq 8: SB3 counts the target interval in env steps.
    assert fixed["target_update_interval"] == 10 * fixed["train_freq"]
    good, bad = study.spec.enqueue
    assert {k for k in good if good[k] != bad[k]} == {
        "gamma", "gradient_steps", "exploration_fraction", "exploration_final_eps",
    }  # fmt: skip
    assert good["learning_rate"] == bad["learning_rate"] == pytest.approx(1.6e-4)
    assert (good["gamma"], bad["gamma"]) == (0.99, 0.95)
    assert (good["gradient_steps"], bad["gradient_steps"]) == (16, 4)
    budget = study.spec.train.timesteps
    assert good["exploration_fraction"] * budget == pytest.approx(10_000, abs=1)
    assert bad["exploration_fraction"] * budget == pytest.approx(1_000, abs=1)
    assert (good["exploration_final_eps"], bad["exploration_final_eps"]) == (0.15, 0.2)


@pytest.mark.slow
def test_the_handpicked_trials_run_first_with_exactly_their_settings(tmp_path: Path) -> None:
    # The sample with a tiny budget: the two hand-picked trials are the first two, trained
    # by real workers with exactly the enqueued values.
    text = HANDPICKED.read_text(encoding="utf-8")
    for old, new in [
        ("n_trials: 12", "n_trials: 2"),
        ("timesteps: 30000", "timesteps: 600"),
        ("every: 10000", "every: 300"),
        ("episodes: 20", "episodes: 2"),
        ("learning_starts: 1000", "learning_starts: 100"),
        ("buffer_size: 10000", "buffer_size: 1000"),
        ("net_arch: [256, 256]", "net_arch: [8]"),
    ]:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / HANDPICKED.name
    path.write_text(text, encoding="utf-8")
    lab = Lab(path)
    lab.run_to_end(2)
    rows = lab.snap().rows
    enqueued = load_study(path).spec.enqueue
    assert [rows[n].params for n in (0, 1)] == [
        {k: pytest.approx(v) for k, v in entry.items()} for entry in enqueued
    ]
    assert all(rows[n].status == TrialStatus.COMPLETE for n in (0, 1))
    assert [step for step, _ in rows[0].curve] == [300, 600]
