"""From a study's policy options and schedules to the model SB3 builds: every form of
policy_kwargs, dotted names, and schedules that run over the trial's budget."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm

from rltui.search.sampling import suggest_all
from rltui.spec import StudyFile, load_study
from rltui.spec.schedules import Schedule
from rltui.train.envs import make_envs
from rltui.train.hyperparams import ModelRefused, algorithm_class, model_kwargs
from rltui.train.trainer import TrialFailed, build_model, train_sb3
from tests.conftest import needs_extra
from tests.train.reporters import STUDY, ScriptedReporter

PPO = {"n_steps": 64, "batch_size": 32, "n_epochs": 1}


@pytest.fixture
def study(tmp_path: Path) -> Callable[..., StudyFile]:
    def make(
        algorithm: str = "ppo", env: str = "Pendulum-v1", timesteps: int = 256, every: int = 128
    ) -> StudyFile:
        path = tmp_path / f"{algorithm}.yaml"
        path.write_text(
            STUDY.format(algorithm=algorithm, env=env, timesteps=timesteps, every=every)
        )
        return load_study(path)

    return make


@pytest.fixture
def built(study: Callable[..., StudyFile]) -> Iterator[Callable[..., BaseAlgorithm]]:
    """Builds models as a trial would, and closes their envs afterwards."""
    models: list[BaseAlgorithm] = []

    def build(params: dict[str, Any], **study_args: Any) -> BaseAlgorithm:
        made = study(**study_args)
        envs = make_envs(made, 1)
        model = build_model(made, params, envs, seed=1, device="cpu")
        models.append(model)
        return model

    yield build
    for model in models:
        env = model.get_env()
        if env is not None:
            env.close()


MAPPING = {
    "net_arch": {"pi": [16], "vf": [8]},
    "activation_fn": "relu",
    "ortho_init": False,
    "log_std_init": -1.5,
    "optimizer_class": "rmsprop",
    "optimizer_kwargs": {"eps": 1e-5, "alpha": 0.9},
}
ZOO = (
    "dict(net_arch=dict(pi=[16], vf=[8]), activation_fn=nn.ReLU, ortho_init=False, "
    "log_std_init=-1.5, optimizer_class=th.optim.RMSprop, optimizer_kwargs=dict(eps=1e-5, "
    "alpha=0.9))"
)
DOTTED = {f"policy_kwargs.{key}": value for key, value in MAPPING.items()}


@pytest.mark.parametrize(
    "params",
    [
        {"policy_kwargs": MAPPING},
        {"policy_kwargs": ZOO},
        DOTTED,
        MAPPING,  # flat, as before policy_kwargs
        {"policy_kwargs": {"net_arch": {"pi": [16]}}, "policy_kwargs.net_arch.vf": [8],
         **{k: v for k, v in DOTTED.items() if k != "policy_kwargs.net_arch"}},
    ],
    ids=["mapping", "zoo string", "dotted", "flat", "merged"],
)  # fmt: skip
def test_every_form_of_policy_options_builds_the_same_policy(params, built):
    policy = built({**PPO, **params}).policy
    assert policy.net_arch == {"pi": [16], "vf": [8]}
    assert policy.mlp_extractor.policy_net[0].out_features == 16
    assert policy.mlp_extractor.value_net[0].out_features == 8
    assert policy.activation_fn is torch.nn.ReLU and policy.ortho_init is False
    assert policy.log_std.tolist() == [-1.5]
    assert isinstance(policy.optimizer, torch.optim.RMSprop)
    assert policy.optimizer.defaults["eps"] == 1e-5 and policy.optimizer.defaults["alpha"] == 0.9


def test_the_study_values_are_not_changed_by_building(built):
    options = {"net_arch": {"pi": [16]}, "optimizer_kwargs": {"betas": [0.8, 0.9]}}
    params = {**PPO, "policy_kwargs": options, "policy_kwargs.net_arch.vf": [8]}
    model = built(params)
    assert model.policy.optimizer.defaults["betas"] == (0.8, 0.9)
    assert options == {"net_arch": {"pi": [16]}, "optimizer_kwargs": {"betas": [0.8, 0.9]}}


@pytest.mark.parametrize(
    ("value", "at_start", "halfway"),
    [
        ("lin_0.2", 0.2, 0.1),
        ({"schedule": "linear", "start": 0.3, "end": 0.1}, 0.3, 0.2),
        ({"schedule": "exponential", "start": 0.4, "end": 0.1}, 0.4, 0.2),
        ({"schedule": "constant", "start": 0.25}, 0.25, 0.25),
    ],
)
def test_clip_range_schedules(value, at_start, halfway, built):
    model = built({**PPO, "clip_range": value, "clip_range_vf": value})
    for schedule in (model.clip_range, model.clip_range_vf):
        assert schedule(1.0) == pytest.approx(at_start)
        assert schedule(0.5) == pytest.approx(halfway)


def test_a_schedule_given_in_parts_is_one_schedule(built):
    model = built(
        {
            **PPO,
            "learning_rate": {"schedule": "exponential", "end": 1e-5},
            "learning_rate.start": 1e-3,
            "clip_range.schedule": "linear",
            "clip_range.start": 0.3,
        }
    )
    assert model.lr_schedule(1.0) == pytest.approx(1e-3)
    assert model.lr_schedule(0.5) == pytest.approx(1e-4)
    assert model.clip_range(0.5) == pytest.approx(0.15)


def test_schedules_reach_every_algorithm_that_takes_them():
    space = spaces.Discrete(2)
    for algorithm in ("a2c", "dqn", "sac", "td3", "ddpg"):
        kwargs = model_kwargs(algorithm, {"learning_rate": "lin_1e-3"}, space)
        assert kwargs["learning_rate"] == Schedule("linear", 1e-3)
    constant = {"learning_rate": {"schedule": "constant", "start": 1e-3}}
    assert model_kwargs("ppo", constant, space)["learning_rate"] == 1e-3  # a plain number


@pytest.mark.slow
def test_a_schedule_runs_over_the_whole_budget_across_chunks_and_a_pause(study, tmp_path):
    # Training learns in chunks (one rollout here) and a paused trial resumes in a new process:
    # the schedule must still see the share of the trial's budget left, not of a chunk.
    made = study(timesteps=256, every=128)
    params = {**PPO, "net_arch": [8], "clip_range": "lin_0.2", "learning_rate": "lin_1e-3"}
    straight = train_sb3(
        made, params, ScriptedReporter(), device="cpu", seed=1,
        checkpoint_dir=tmp_path / "trial-0",
    )  # fmt: skip
    pausing = ScriptedReporter("pause", at=128)
    first = train_sb3(
        made, params, pausing, device="cpu", seed=1, checkpoint_dir=tmp_path / "trial-1"
    )
    assert first.stopped == "pause" and first.checkpoint is not None
    pausing.done = True
    resumed = train_sb3(
        made, params, pausing, device="cpu", seed=1, checkpoint_dir=tmp_path / "trial-1",
        resume=first.checkpoint,
    )  # fmt: skip
    assert resumed.evaluations == straight.evaluations


@pytest.mark.slow
def test_the_schedule_sees_the_budget_left(built):
    model = built({**PPO, "net_arch": [8], "clip_range": "lin_0.2"}, timesteps=256)
    model.learn(128, reset_num_timesteps=False)  # the first of two chunks
    assert model._current_progress_remaining == pytest.approx(0.5)
    assert model.clip_range(model._current_progress_remaining) == pytest.approx(0.1)


@needs_extra("sb3_contrib", "contrib")  # to check the study before the import is blocked
def test_a_contrib_algorithm_without_the_extra_fails_its_trial_with_the_way_out(monkeypatch, study):
    made = study(algorithm="tqc")  # checked while sb3-contrib is importable
    # None in sys.modules is how Python marks a module that cannot be imported.
    monkeypatch.setitem(sys.modules, "sb3_contrib", None)
    with pytest.raises(ModelRefused, match=r"pip install 'rltui\[contrib\]'"):
        algorithm_class("tqc")
    envs = make_envs(made, 1)
    with pytest.raises(TrialFailed, match=r"TQC comes from sb3-contrib.*rltui\[contrib\]"):
        build_model(made, {}, envs, seed=1, device="cpu")


def test_the_zoos_older_net_arch_in_a_list_builds_the_mapping(built):
    policy = built({**PPO, "policy_kwargs": "dict(net_arch=[dict(pi=[16], vf=[8])])"}).policy
    assert policy.net_arch == {"pi": [16], "vf": [8]}
    sac = built({"policy_kwargs": {"net_arch": [{"pi": [16], "qf": [8]}]}}, algorithm="sac")
    assert sac.actor.latent_pi[0].out_features == 16
    assert sac.critic.qf0[0].out_features == 8


@pytest.mark.slow
def test_a_trial_of_the_zoo_preset_builds_and_trains(tmp_path):
    path = tmp_path / "zoo.yaml"
    text = STUDY.format(algorithm="ppo", env="CartPole-v1", timesteps=64, every=64)
    path.write_text(text + "search_space: {preset: zoo}\n")
    made = load_study(path)
    ostudy = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    ostudy.enqueue_trial({"n_steps_pow": 5, "batch_size_pow": 4, "n_epochs": 1})  # tiny
    params = suggest_all(ostudy.ask(), made.space)
    envs = make_envs(made, 1)
    model = build_model(made, made.hyperparameters_for(params), envs, seed=1, device="cpu")
    try:
        model.learn(64)
    finally:
        envs.close()
    assert (model.n_steps, model.batch_size, model.n_epochs) == (32, 16, 1)
    assert model.gamma == 1 - params["one_minus_gamma"]
    assert model.gae_lambda == 1 - params["one_minus_gae_lambda"]
    layers = {"tiny": [64], "small": [64, 64], "medium": [256, 256]}[params["net_arch"]]
    assert model.policy.net_arch == {"pi": layers, "vf": layers}
    assert model.policy.activation_fn.__name__.lower() == params["activation_fn"].replace("_", "")
    assert model.num_timesteps == 64
