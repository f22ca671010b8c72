"""The shipped sample studies: each is valid as shipped and says what its README line says."""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from rltui.search.lifecycle import TrialStatus
from rltui.search.trial_logs import read_progress
from rltui.spec import load_study
from rltui.train.function import train_function
from rltui.train.progress import ProgressLog
from rltui.train.trainer import Outcome
from tests.conftest import needs_extra
from tests.train.reporters import ScriptedReporter
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
    # Compared over several seeds, on long greedy evaluations: one seed of DQN is noise.
    assert len(study.spec.train.seed_list) >= 3
    assert study.spec.train.eval.episodes >= 100 and study.spec.train.eval.deterministic
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
        ("episodes: 100", "episodes: 2"),
        ("seeds: [0, 1, 2]", "seeds: [0, 1]"),
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


# -- PyTorch Lightning's DQN example, run by examples/torch_dqn.py -----------------------------
LIGHTNING = SAMPLES / "cartpole_torch_dqn_lightning.yaml"


def test_the_lightning_study_is_the_examples_configuration() -> None:
    # reinforce_learn_Qnet.py's command-line defaults, in the function's names.
    study = load_study(LIGHTNING)
    assert study.spec.train.function == "examples.torch_dqn:train"
    fixed = study.spec.hyperparameters
    assert {k: v for k, v in fixed.items() if not k.startswith(("eval_", "log_"))} == {
        "env_id": "CartPole-v0",  # episodes end at 200
        "learning_rate": 1e-2,
        "batch_size": 16,
        "buffer_size": 1000,  # replay_size
        "gamma": 0.99,
        "hidden": [128],  # DQN(hidden_size=128): one hidden layer
        "warm_up_steps": 1000,  # populate(warm_start_steps): uniformly random actions
        "learning_starts": 0,  # training_step starts right after populate
        "train_every": 1,  # one env step and one gradient step per training_step
        "sync_every": 10,  # sync_rate
        "eps_start": 1.0,
        "eps_end": 0.01,
        "eps_decay_steps": 1000,  # eps_last_frame, counted after the warm-up
        "loss": "mse",  # dqn_mse_loss
        "max_grad_norm": None,  # the Trainer clips nothing by default
    }
    # The warm-up, then Lightning's default 1,000 epochs of ceil(200 / 16) = 13 batches.
    assert study.spec.train.timesteps == 1000 + 1000 * 13
    # One trial per seed: a training function gets its seed as a parameter, not train.seeds.
    assert study.space.all_grid and study.n_trials == 3
    assert sorted(p["seed"] for p in study.space.grid_points()) == [0, 1, 2]


@pytest.fixture(scope="module")
def torch_dqn() -> Iterator[ModuleType]:
    """examples/torch_dqn.py, imported as rltui imports it: from the study file's folder."""
    sys.path.insert(0, str(SAMPLES))
    try:
        yield importlib.import_module("examples.torch_dqn")
    finally:
        sys.path.remove(str(SAMPLES))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"loss": "l1"}, "loss: 'l1' is not one of 'huber', 'mse'"),
        ({"warm_up_steps": -1}, "warm_up_steps: -1 is not a whole number >= 0"),
        ({"warm_up_steps": 1.5}, "warm_up_steps: 1.5"),
        ({"eps_decay_steps": 0}, "eps_decay_steps: 0 is not a whole number >= 1"),
        ({"max_grad_norm": 0}, "max_grad_norm: 0 is not a number > 0"),
        ({"max_grad_norm": True}, "max_grad_norm: True"),
    ],
)
def test_the_dqn_refuses_values_it_cannot_use(
    torch_dqn: ModuleType, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        torch_dqn.check_params({**torch_dqn.DEFAULTS, **change})


def test_the_dqn_epsilon_schedule_with_and_without_a_warm_up(torch_dqn: ModuleType) -> None:
    eps = torch_dqn.epsilon
    # Without a warm-up (the default): from step 0 over eps_fraction of the budget.
    default = dict(torch_dqn.DEFAULTS)
    assert [eps(s, 10_000, default) for s in (0, 1000, 2000, 5000)] == pytest.approx(
        [1.0, 0.525, 0.05, 0.05]
    )
    # With one: 1 (uniformly random) throughout it, then the schedule starts.
    lightning = {**default, **load_study(LIGHTNING).spec.hyperparameters}
    assert [eps(s, 14_000, lightning) for s in (0, 999, 1000, 1500, 2000, 9000)] == (
        pytest.approx([1.0, 1.0, 1.0, 0.505, 0.01, 0.01])
    )


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread, as in a worker: several threads on shared cores are many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _train_lightning(
    tmp_path: Path, timesteps: int, **params: Any
) -> tuple[Outcome, list[dict[str, Any]]]:
    """The Lightning study with a tiny budget, trained once; its outcome and progress log."""
    text = LIGHTNING.read_text(encoding="utf-8").replace(
        "timesteps: 14000", f"timesteps: {timesteps}"
    )
    (tmp_path / LIGHTNING.name).write_text(text, encoding="utf-8")
    study = load_study(tmp_path / LIGHTNING.name)
    # Imported from the sample's folder, as the shipped study file is.
    study = dataclasses.replace(study, path=LIGHTNING)
    folder = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    log = ProgressLog(folder / "progress.jsonl")
    fixed = {**study.spec.hyperparameters, "eval_every": 100, "eval_episodes": 1}
    out = train_function(
        study,
        {**fixed, **params},
        ScriptedReporter(),
        device="cpu",
        seed=study.spec.train.seed,
        checkpoint_dir=folder / "trial-0",
        log=log,
    )
    log.close()
    return out, read_progress(folder / "progress.jsonl")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*CartPole-v0 is out of date")
def test_the_dqn_warm_up_acts_at_random_and_learns_nothing(tmp_path, one_thread) -> None:
    out, rows = _train_lightning(tmp_path, 300, seed=0, warm_up_steps=300)
    assert out.timesteps == 300 and [s for s, _ in out.evaluations] == [100, 200, 300]
    assert {r["rollout/exploration_rate"] for r in rows if "rollout/exploration_rate" in r} == {1.0}
    assert not any("train/loss" in r for r in rows)  # no gradient step during the warm-up
    # log_episodes: every finished training episode's return, at the step it ended.
    episodes = [r for r in rows if "rollout/ep_return" in r]
    assert episodes and all(r["rollout/ep_return"] >= 8 for r in episodes)
    assert episodes[-1]["timesteps"] == sum(r["rollout/ep_return"] for r in episodes) <= 300


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*CartPole-v0 is out of date")
def test_the_dqn_loss_and_seed_parameters_change_the_training(tmp_path, one_thread) -> None:
    short = {"warm_up_steps": 100, "eps_decay_steps": 100}

    def losses(rows: list[dict[str, Any]]) -> list[float]:
        return [r["train/loss"] for r in rows if "train/loss" in r]

    _, mse = _train_lightning(tmp_path, 300, seed=0, **short)
    _, again = _train_lightning(tmp_path, 300, seed=0, **short)
    _, huber = _train_lightning(tmp_path, 300, seed=0, loss="huber", max_grad_norm=10.0, **short)
    _, other_seed = _train_lightning(tmp_path, 300, seed=1, **short)
    assert len(losses(mse)) == 2  # logged at steps 200 and 300, after the warm-up
    assert losses(again) == losses(mse)  # one seed, one run
    assert losses(huber) != losses(mse)
    assert losses(other_seed) != losses(mse)
