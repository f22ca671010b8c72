"""Every algorithm through the trainer, and the mapping from study values to SB3 objects.

Each algorithm trains for a few hundred timesteps with a tiny network: enough to check that
a trial spends exactly its budget and reports on the planned steps, not to learn anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.vec_env import VecNormalize

from rltui.spec import StudyFile, load_study
from rltui.train.chunks import StopOnRequest, boundary, learn_to
from rltui.train.envs import make_envs
from rltui.train.trainer import ALGORITHMS, budget_aware, build_model, train_sb3
from tests.train.reporters import ScriptedReporter

STUDY = """
name: {algorithm}
device: cpu
train:
  algorithm: {algorithm}
  env: {env}
  n_envs: {n_envs}
  normalize: {normalize}
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 1}}
  seed: 1
"""
ENV = {"ppo": "CartPole-v1", "a2c": "CartPole-v1", "dqn": "CartPole-v1"}
OFF_POLICY = {"learning_starts": 50, "buffer_size": 1000, "batch_size": 16}
PARAMS: dict[str, dict[str, Any]] = {
    "ppo": {"n_steps": 64, "batch_size": 32, "n_epochs": 1},
    "a2c": {"n_steps": 8},
    "dqn": {**OFF_POLICY, "train_freq": 8, "target_update_interval": 50},
    "sac": OFF_POLICY,
    "td3": {**OFF_POLICY, "train_freq": 2, "action_noise": "normal"},
    "ddpg": {**OFF_POLICY, "action_noise": "ornstein_uhlenbeck"},
}

StudyFactory = Callable[..., StudyFile]


@pytest.fixture
def make_study(study_file: Callable[..., Path]) -> StudyFactory:
    """A study for ``algorithm`` on CartPole (discrete) or Pendulum (continuous)."""

    def make(
        algorithm: str,
        timesteps: int = 300,
        every: int = 100,
        n_envs: int = 1,
        normalize: str = "false",
    ) -> StudyFile:
        text = STUDY.format(
            algorithm=algorithm,
            env=ENV.get(algorithm, "Pendulum-v1"),
            n_envs=n_envs,
            normalize=normalize,
            timesteps=timesteps,
            every=every,
        )
        return load_study(study_file(name=algorithm, text=text))

    return make


def _train(
    study: StudyFile, params: dict[str, Any], tmp_path: Path
) -> tuple[Any, ScriptedReporter]:
    reporter = ScriptedReporter()
    out = train_sb3(
        study,
        {"net_arch": [8], **params},
        reporter,
        device="cpu",
        seed=study.spec.train.seed,
        checkpoint_dir=tmp_path / "ckpt",
    )
    return out, reporter


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algorithm", "timesteps", "every"),
    [
        ("ppo", 300, 100),  # 300 is no whole number of 64-step rollouts
        ("a2c", 300, 100),
        ("dqn", 300, 100),  # nor of train_freq 8 windows
        ("sac", 400, 200),  # off-policy chunks are ~1,000 steps: evaluations must cut them
        ("td3", 300, 100),
        ("ddpg", 300, 100),
    ],
)
def test_each_algorithm_spends_its_budget_and_reports_on_planned_steps(
    algorithm, timesteps, every, make_study, tmp_path
):
    study = make_study(algorithm, timesteps=timesteps, every=every)
    out, reporter = _train(study, PARAMS[algorithm], tmp_path)
    assert out.stopped is None
    assert out.timesteps == timesteps
    assert [s for s, _ in reporter.reports] == list(range(every, timesteps + 1, every))
    assert out.evaluations == reporter.reports


@pytest.mark.slow
def test_a_budget_inside_a_train_freq_window_is_met_exactly(make_study, tmp_path):
    # 1,500 is 187.5 windows of 8 steps: SB3 alone would stop at 1,504.
    study = make_study("dqn", timesteps=1500, every=500)
    out, reporter = _train(study, PARAMS["dqn"], tmp_path)
    assert out.timesteps == 1500
    assert [s for s, _ in reporter.reports] == [500, 1000, 1500]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algorithm", "params", "updates"),
    [
        # PPO: one update of n_epochs per rollout; the 36 steps after the last whole rollout
        # of 64 make one more, shorter rollout.
        ("ppo", {**PARAMS["ppo"], "n_epochs": 2}, 2 * 2),
        # DQN: one gradient step per window of 8 steps: 12 windows, then one of 4 steps.
        ("dqn", {**PARAMS["dqn"], "learning_starts": 0}, 13),
    ],
)
def test_the_budgets_last_shorter_window_is_learned_from(algorithm, params, updates, make_study):
    model = _model(make_study(algorithm, timesteps=100), params)
    try:
        learn_to(model, 100, 100, boundary(model), StopOnRequest(ScriptedReporter()))
        assert model.num_timesteps == 100
        assert model._n_updates == updates
        # The model keeps its own rollout size and train_freq afterwards.
        assert boundary(model) == (64 if algorithm == "ppo" else 8)
    finally:
        model.get_env().close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algorithm", "timesteps", "trained"),
    [
        ("ppo", 300, 300),
        ("dqn", 300, 300),
        # Environments step together: a budget n_envs does not divide ends just above it.
        ("ppo", 301, 302),
    ],
)
def test_several_envs_end_at_the_budget(algorithm, timesteps, trained, make_study, tmp_path):
    study = make_study(algorithm, timesteps=timesteps, every=100, n_envs=2)
    params = {**PARAMS[algorithm], "n_steps": 32} if algorithm == "ppo" else PARAMS[algorithm]
    out, reporter = _train(study, params, tmp_path)
    assert out.timesteps == trained
    steps = [s for s, _ in reporter.reports]
    assert steps[-1] == timesteps and set(steps) <= {100, 200, 300, timesteps}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algorithm", "params"),
    [
        ("dqn", {**PARAMS["dqn"], "train_freq": 4}),
        ("td3", {**OFF_POLICY, "action_noise": "ornstein_uhlenbeck"}),
    ],
)
def test_learning_in_chunks_equals_one_learn_call(algorithm, params, make_study):
    # Evaluations cut off-policy chunks anywhere a train_freq window ends: that must change
    # nothing, the state of an Ornstein-Uhlenbeck noise (which SB3 resets per learn()) included.
    study = make_study(algorithm, timesteps=400)
    straight = _model(study, params)
    straight.learn(400)
    chunked = _model(study, params)
    for _ in range(4):
        chunked.learn(100, reset_num_timesteps=False)
    assert chunked.num_timesteps == straight.num_timesteps == 400
    for a, b in zip(straight.policy.parameters(), chunked.policy.parameters(), strict=True):
        assert torch.equal(a, b)


def _model(study: StudyFile, params: dict[str, Any], device: str = "cpu") -> BaseAlgorithm:
    envs = make_envs(study, study.spec.train.seed)
    return build_model(study, {"net_arch": [8], **params}, envs, seed=1, device=device)


@pytest.fixture
def built(make_study: StudyFactory) -> Iterator[Callable[..., BaseAlgorithm]]:
    """Builds models as a trial would, and closes their envs afterwards."""
    models: list[BaseAlgorithm] = []

    def build(
        algorithm: str, params: dict[str, Any], device: str = "cpu", **study_args: Any
    ) -> BaseAlgorithm:
        model = _model(make_study(algorithm, **study_args), params, device)
        models.append(model)
        return model

    yield build
    for model in models:
        env = model.get_env()
        if env is not None:
            env.close()


@pytest.mark.parametrize(
    ("algorithm", "net_arch", "expected"),
    [
        ("ppo", "small", [64, 64]),
        ("dqn", [16, 8], [16, 8]),
        ("dqn", 8, [8]),
        ("sac", {"pi": [16], "qf": "tiny"}, {"pi": [16], "qf": [64]}),
    ],
)
def test_net_arch_presets_lists_and_per_network_mappings(algorithm, net_arch, expected, built):
    model = built(algorithm, {**PARAMS[algorithm], "net_arch": net_arch})
    assert model.policy.net_arch == expected
    if algorithm == "sac":
        assert model.actor.latent_pi[0].out_features == 16
        assert model.critic.qf0[0].out_features == 64
    elif algorithm == "dqn":
        assert model.q_net.q_net[0].out_features == expected[0]


def test_policy_options_by_name(built):
    model = built(
        "ppo",
        {**PARAMS["ppo"], "activation_fn": "relu", "ortho_init": False, "optimizer_class": "adamw"},
    )
    assert model.policy.activation_fn is torch.nn.ReLU
    assert any(isinstance(m, torch.nn.ReLU) for m in model.policy.mlp_extractor.modules())
    assert model.policy.ortho_init is False
    assert isinstance(model.policy.optimizer, torch.optim.AdamW)


@pytest.mark.parametrize(("params", "initial"), [({"learning_rate": 1e-3}, 1e-3), ({}, 3e-4)])
def test_linear_learning_rate_schedule(params, initial, built):
    # Without a learning_rate of its own, the schedule starts at SB3's default (3e-4 for PPO).
    model = built("ppo", {**PARAMS["ppo"], **params, "learning_rate_schedule": "linear"})
    assert model.lr_schedule(1.0) == pytest.approx(initial)
    assert model.lr_schedule(0.25) == pytest.approx(initial / 4)


@pytest.mark.parametrize(
    ("noise", "cls"),
    [("normal", NormalActionNoise), ("ornstein_uhlenbeck", OrnsteinUhlenbeckActionNoise)],
)
def test_action_noise(noise, cls, built):
    model = built("td3", {**OFF_POLICY, "action_noise": noise, "action_noise_sigma": 0.3})
    assert isinstance(model.action_noise, cls)
    assert model.action_noise._sigma.tolist() == [0.3]  # Pendulum has one action
    assert built("td3", {**OFF_POLICY, "action_noise": "none"}).action_noise is None


@pytest.mark.parametrize(
    ("normalize", "obs", "reward"),
    [("true", True, True), ("{obs: true, reward: false}", True, False)],
)
def test_vec_normalize_flags(normalize, obs, reward, make_study):
    study = make_study("ppo", normalize=normalize)
    envs = make_envs(study, 1)
    try:
        model = build_model(study, PARAMS["ppo"], envs, seed=1, device="cpu")
        env = model.get_env()
        assert isinstance(env, VecNormalize)
        assert (env.norm_obs, env.norm_reward, env.training) == (obs, reward, True)
        # The evaluation env shares the statistics but never learns them or scales rewards.
        assert isinstance(envs.eval, VecNormalize)
        assert (envs.eval.norm_obs, envs.eval.norm_reward, envs.eval.training) == (
            obs,
            False,
            False,
        )
    finally:
        envs.close()


def test_no_vec_normalize_by_default(built):
    assert not isinstance(built("ppo", PARAMS["ppo"]).get_env(), VecNormalize)


def test_device_auto_is_cuda_only_where_there_is_one(built):
    model = built("ppo", PARAMS["ppo"], device="auto")
    assert model.device.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_every_algorithm_is_covered():
    assert set(PARAMS) == set(ALGORITHMS)
    assert budget_aware(ALGORITHMS["ppo"]) is budget_aware(ALGORITHMS["ppo"])
