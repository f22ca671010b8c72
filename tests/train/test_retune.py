"""New values for a loaded model between two segments of training: each name an algorithm may
change (:data:`rltui.spec.pbt.MUTABLE`) reaches what its next update reads, survives the
model being saved and loaded again, and shows in what training then does.

Real models on CartPole-v1 and Pendulum-v1, saved and loaded as checkpoints load them, with
tiny networks and budgets.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv

from rltui.spec.algorithms import CONTRIB
from rltui.spec.pbt import MUTABLE
from rltui.train.hyperparams import LinearSchedule, ModelRefused, new_model
from rltui.train.retune import HANDLED, retune

CONTRIB_INSTALLED = importlib.util.find_spec("sb3_contrib") is not None
ALGORITHMS = sorted(a for a in MUTABLE if a not in CONTRIB or CONTRIB_INSTALLED)
CONTINUOUS = {"sac", "tqc", "crossq", "td3", "ddpg"}
BUDGET = 1000

_OFF_POLICY = {"learning_starts": 16, "buffer_size": 500, "batch_size": 8}
CONFIG: dict[str, dict[str, Any]] = {
    "ppo": {"n_steps": 32, "batch_size": 16, "n_epochs": 1},
    "recurrentppo": {
        "n_steps": 32, "batch_size": 16, "n_epochs": 1, "policy_kwargs.lstm_hidden_size": 8,
    },
    "a2c": {"n_steps": 8},
    "trpo": {"n_steps": 32, "batch_size": 16},
    "dqn": {**_OFF_POLICY, "train_freq": 4, "target_update_interval": 8},
    "qrdqn": {**_OFF_POLICY, "train_freq": 4, "target_update_interval": 8,
              "policy_kwargs.n_quantiles": 5},
    "sac": _OFF_POLICY,
    "tqc": {**_OFF_POLICY, "policy_kwargs.n_quantiles": 5},
    "crossq": _OFF_POLICY,
    "td3": _OFF_POLICY,
    "ddpg": _OFF_POLICY,
    "ars": {"n_delta": 2},
}  # fmt: skip

# New values, none of them any algorithm's default or a value of CONFIG; whole numbers as
# Optuna stores them.
NEW: dict[str, Any] = {
    "learning_rate": 0.0123,
    "gamma": 0.9123,
    "gae_lambda": 0.8123,
    "ent_coef": 0.0345,
    "vf_coef": 0.345,
    "clip_range": 0.123,
    "max_grad_norm": 0.456,
    "n_epochs": 3.0,
    "batch_size": 12.0,
    "target_kl": 0.0234,
    "tau": 0.0456,
    "gradient_steps": 2.0,
    "target_update_interval": 30.0,
    "exploration_final_eps": 0.234,
    "policy_delay": 5.0,
    "target_policy_noise": 0.123,
    "target_noise_clip": 0.345,
    "top_quantiles_to_drop_per_net": 1.0,
    "delta_std": 0.0789,
}


def build(algorithm: str, tmp_path: Path, **extra: Any) -> Any:
    """A model of ``algorithm`` as a trial makes it, saved and loaded again as a checkpoint
    loads it (the class's own ``load``)."""
    env_id = "Pendulum-v1" if algorithm in CONTINUOUS else "CartPole-v1"
    env = DummyVecEnv([lambda: gym.make(env_id)])
    policy = "MlpLstmPolicy" if algorithm == "recurrentppo" else "MlpPolicy"
    params = {"net_arch": [8], **CONFIG[algorithm], **extra}
    model = new_model(algorithm, policy, params, env, seed=0, device="cpu", budget=BUDGET)
    return reload(model, tmp_path)


def reload(model: Any, tmp_path: Path) -> Any:
    path = tmp_path / "model.zip"
    model.save(path)
    return type(model).load(path, env=model.get_env(), device="cpu")


def read(model: Any, name: str) -> Any:
    """The value of ``name`` that the model's next update uses, from where SB3 reads it."""
    progress = model._current_progress_remaining
    if name == "learning_rate":
        return model.lr_schedule(progress)
    if name == "clip_range":
        return model.clip_range(progress)
    if name == "delta_std":
        return model.delta_std_schedule(progress)
    if name == "exploration_final_eps":
        return model.exploration_schedule(0.0)
    if name in ("gamma", "gae_lambda") and isinstance(model, OnPolicyAlgorithm):
        assert getattr(model.rollout_buffer, name) == getattr(model, name)
        return getattr(model.rollout_buffer, name)
    return getattr(model, name)


def expected(name: str) -> Any:
    value = NEW[name]
    return int(value) if isinstance(value, float) and value.is_integer() else value


class Recorder(KVWriter):
    """Keeps every value the model logs, as SB3's own writers receive them."""

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {}

    def write(self, key_values: dict[str, Any], key_excluded: Any, step: int = 0) -> None:
        for key, value in key_values.items():
            self.values.setdefault(key, []).append(value)


def recorded(model: BaseAlgorithm) -> Recorder:
    recorder = Recorder()
    model.set_logger(Logger(folder=None, output_formats=[recorder]))
    return recorder


def test_every_changeable_name_has_a_way_to_be_applied() -> None:
    names = set().union(*MUTABLE.values())
    assert names <= HANDLED.keys()
    assert names <= NEW.keys()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_name_reaches_what_the_next_update_reads_and_is_saved(
    algorithm: str, tmp_path: Path
) -> None:
    model = build(algorithm, tmp_path)
    names = MUTABLE[algorithm]
    for name in names:
        assert read(model, name) != expected(name), f"{name} already has its new value"

    values = {**NEW, "n_steps": 99, "seed": 7}  # a trial's other parameters are left alone
    applied = retune(model, algorithm, values)

    assert set(applied) == names
    for name in names:
        value = read(model, name)
        assert value == expected(name), name
        assert type(value) is type(expected(name)), name
    assert getattr(model, "n_steps", None) != 99

    again = reload(model, tmp_path)
    for name in names:
        assert read(again, name) == expected(name), name


def test_names_not_in_the_table_and_unknown_algorithms_change_nothing(tmp_path: Path) -> None:
    model = build("sac", tmp_path)
    assert retune(model, "sac", {"ent_coef": 0.5, "policy_delay": 4, "net_arch": [64]}) == []
    assert model.ent_coef == "auto"
    assert retune(model, "no-such-algorithm", NEW) == []
    assert model.learning_rate != NEW["learning_rate"]


def test_a_linear_learning_rate_stays_linear_from_the_new_value(tmp_path: Path) -> None:
    model = build("ppo", tmp_path, learning_rate_schedule="linear")
    model._current_progress_remaining = 0.5
    retune(model, "ppo", {"learning_rate": 0.02})
    assert isinstance(model.learning_rate, LinearSchedule)
    assert model.lr_schedule(0.5) == pytest.approx(0.01)

    retune(model, "ppo", {"learning_rate": 0.04, "learning_rate_schedule": "constant"})
    assert model.lr_schedule(0.5) == 0.04
    assert reload(model, tmp_path).lr_schedule(0.5) == 0.04


def test_trpo_takes_critic_minibatches_of_one(tmp_path: Path) -> None:
    if "trpo" not in ALGORITHMS:
        pytest.skip("needs sb3-contrib")
    model = build("trpo", tmp_path)
    assert retune(model, "trpo", {"batch_size": 1.0}) == ["batch_size"]
    assert model.batch_size == 1


def test_an_n_step_replay_buffer_discounts_with_the_new_gamma(tmp_path: Path) -> None:
    model = build("dqn", tmp_path, n_steps=3)
    assert isinstance(model.replay_buffer, NStepReplayBuffer)
    retune(model, "dqn", {"gamma": 0.9})
    assert model.replay_buffer.gamma == 0.9
    # Loaded without its buffer, the model builds a new one from its own arguments.
    again = reload(model, tmp_path)
    assert again.replay_buffer.gamma == 0.9


@pytest.mark.parametrize(
    ("algorithm", "values", "words"),
    [
        ("ppo", {"batch_size": 1.0}, "normalised"),
        ("trpo", {"batch_size": 0.0}, "needs a sample"),
        ("dqn", {"target_update_interval": 0.0}, "1 or more"),
        ("td3", {"policy_delay": 0}, "1 or more"),
        ("dqn", {"exploration_final_eps": 1.5}, "between 0 and 1"),
        ("tqc", {"top_quantiles_to_drop_per_net": 5}, "from 0 to 4"),
    ],
)
def test_values_the_algorithm_cannot_train_with_are_refused_before_any_change(
    algorithm: str, values: dict[str, Any], words: str, tmp_path: Path
) -> None:
    if algorithm not in ALGORITHMS:
        pytest.skip("needs sb3-contrib")
    model = build(algorithm, tmp_path)
    with pytest.raises(ModelRefused, match=words):
        retune(model, algorithm, {"learning_rate": 0.0123, **values})
    assert model.lr_schedule(1.0) != 0.0123


# --- what training does with them ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a in {"ppo", "recurrentppo"}])
def test_ppo_trains_with_the_new_rate_clip_range_discount_and_epochs(
    algorithm: str, tmp_path: Path
) -> None:
    model = build(algorithm, tmp_path)
    model.learn(32)
    model = reload(model, tmp_path)
    retune(model, algorithm, {"learning_rate": 0.0123, "clip_range": 0.123, "gamma": 0.9123,
                              "gae_lambda": 0.8123, "n_epochs": 3.0})  # fmt: skip
    recorder = recorded(model)
    updates = model._n_updates

    model.learn(32, reset_num_timesteps=False)
    model.logger.dump()

    assert model.policy.optimizer.param_groups[0]["lr"] == 0.0123
    assert recorder.values["train/clip_range"][-1] == 0.123
    assert model._n_updates - updates == 3  # one per epoch
    assert (model.rollout_buffer.gamma, model.rollout_buffer.gae_lambda) == (0.9123, 0.8123)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a in {"a2c", "trpo"}])
def test_other_on_policy_algorithms_train_with_the_new_rate(algorithm: str, tmp_path: Path) -> None:
    model = reload(build(algorithm, tmp_path), tmp_path)
    retune(model, algorithm, {"learning_rate": 0.0123, "gamma": 0.9123})
    model.learn(32, reset_num_timesteps=False)
    assert model.policy.optimizer.param_groups[0]["lr"] == 0.0123
    assert model.rollout_buffer.gamma == 0.9123


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a in {"dqn", "qrdqn"}])
def test_dqn_explores_with_the_new_final_rate_and_holds_its_target(
    algorithm: str, tmp_path: Path
) -> None:
    # Exploration ends after 5% of the budget; the model is past that after 64 steps.
    model = build(algorithm, tmp_path, exploration_fraction=0.05)
    model.learn(64)
    model = reload(model, tmp_path)
    retune(model, algorithm, {"exploration_final_eps": 0.234, "learning_rate": 0.0123,
                              "target_update_interval": 1e6})  # fmt: skip
    net = model.policy.quantile_net if algorithm == "qrdqn" else model.policy.q_net
    target = model.policy.quantile_net_target if algorithm == "qrdqn" else model.policy.q_net_target
    before = [p.detach().clone() for p in (*net.parameters(), *target.parameters())]

    model.learn(32, reset_num_timesteps=False)

    assert model.exploration_rate == 0.234
    assert model.policy.optimizer.param_groups[0]["lr"] == 0.0123
    after = [*net.parameters(), *target.parameters()]
    n = len(after) // 2
    assert any(not torch.equal(b, a) for b, a in zip(before[:n], after[:n], strict=True))
    # Every 8 steps before the change: the target is now left alone.
    assert all(torch.equal(b, a) for b, a in zip(before[n:], after[n:], strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a in CONTINUOUS])
def test_actor_critic_algorithms_train_with_the_new_rate_and_gradient_steps(
    algorithm: str, tmp_path: Path
) -> None:
    model = build(algorithm, tmp_path)
    model.learn(32)
    model = reload(model, tmp_path)
    extra = {"top_quantiles_to_drop_per_net": 0} if algorithm == "tqc" else {}
    retune(model, algorithm, {"learning_rate": 0.0123, "gradient_steps": 3.0, **extra})
    updates = model._n_updates

    model.learn(10, reset_num_timesteps=False)

    assert model._n_updates - updates == 30  # one train() per step, three gradient steps each
    assert model.actor.optimizer.param_groups[0]["lr"] == 0.0123
    assert model.critic.optimizer.param_groups[0]["lr"] == 0.0123


@pytest.mark.slow
@pytest.mark.skipif("td3" not in ALGORITHMS, reason="td3 not in the table")
def test_td3_delays_its_policy_as_retuned(tmp_path: Path) -> None:
    model = build("td3", tmp_path)
    model.learn(32)
    model = reload(model, tmp_path)
    retune(model, "td3", {"policy_delay": 1000.0})
    assert model._n_updates % 1000 + 10 < 1000  # no multiple of 1000 within the next updates
    actor = [p.detach().clone() for p in model.actor.parameters()]
    critic = [p.detach().clone() for p in model.critic.parameters()]

    model.learn(10, reset_num_timesteps=False)

    assert all(torch.equal(b, a) for b, a in zip(actor, model.actor.parameters(), strict=True))
    assert any(
        not torch.equal(b, a) for b, a in zip(critic, model.critic.parameters(), strict=True)
    )


@pytest.mark.slow
@pytest.mark.skipif("ars" not in ALGORITHMS, reason="needs sb3-contrib")
def test_ars_steps_and_explores_with_the_new_values(tmp_path: Path) -> None:
    model = build("ars", tmp_path)
    model.learn(50)
    model = reload(model, tmp_path)
    retune(model, "ars", {"learning_rate": 0.0123, "delta_std": 0.0789})
    recorder = recorded(model)

    model.learn(50, reset_num_timesteps=False)
    model.logger.dump()

    assert recorder.values["train/learning_rate"][-1] == 0.0123
    assert recorder.values["train/delta_std"][-1] == 0.0789
