"""Studies as rl-baselines3-zoo hyperparams files: every setting in the zoo's own form, what the
zoo cannot express said in the file and in the result, and a file the zoo really trains."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest
import yaml

from rltui.convert import ConversionError
from rltui.convert.zoo_export import (
    DEFAULT_LEARNING_RATES,
    export_zoo,
    trial_hyperparameters,
    write_zoo_file,
    zoo_entry,
)
from rltui.convert.zoo_import import import_zoo
from rltui.spec import algorithms as algos
from rltui.spec import parse_study
from rltui.spec.zoo import parse_zoo
from tests.conftest import needs_extra
from tests.convert.test_zoo_import import zoo_file

TINY = """
name: tiny-zoo
n_trials: 2
device: cpu
train:
  algorithm: ppo
  env: CartPole-v1
  n_envs: 2
  normalize: {obs: true, reward: false}
  env_wrapper:
    - TimeLimit: {max_episode_steps: 200}
  timesteps: 2000
  eval: {every: 500, episodes: 2}
  seed: 3
hyperparameters:
  n_steps: 64
  batch_size: 32
  n_epochs: 1
  net_arch: {pi: [8], vf: [16]}
  activation_fn: relu
  optimizer_kwargs: {eps: 1.0e-5}
  clip_range: lin_0.3
  learning_rate_schedule: linear
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-2))
  gamma: choice(0.95, 0.99)
"""
TRIAL = {"learning_rate": 1e-3, "gamma": 0.95}


def test_a_trial_becomes_an_entry_in_the_zoos_own_forms():
    study = parse_study(TINY)
    entry = zoo_entry(study, trial_hyperparameters(study, TRIAL))
    assert entry == {
        "n_timesteps": 2000,
        "policy": "MlpPolicy",
        "n_envs": 2,
        "normalize": "dict(norm_obs=True, norm_reward=False)",
        "env_kwargs": {"max_episode_steps": 200},  # a TimeLimit, as gym.make applies it
        "n_steps": 64,
        "batch_size": 32,
        "n_epochs": 1,
        "clip_range": "lin_0.3",
        "learning_rate": "lin_0.001",  # learning_rate_schedule: linear from the trial's value
        "gamma": 0.95,
        "policy_kwargs": "dict(net_arch=dict(pi=[8], vf=[16]), activation_fn=nn.ReLU, "
        "optimizer_kwargs=dict(eps=1e-05))",
    }


def test_the_file_says_how_to_train_it_and_what_it_left_out(tmp_path):
    study = parse_study(
        TINY.replace("clip_range: lin_0.3", "clip_range: {start: 0.3, end: 0.1, schedule: linear}")
    )
    done = write_zoo_file(study, tmp_path / "zoo.yml")
    assert (tmp_path / "zoo.yml").read_text() == done.text and done.name == "tiny-zoo-zoo"
    header = [line for line in done.text.splitlines() if line.startswith("#")]
    assert (
        f"# Train it with: python -m rl_zoo3.train --algo ppo --env CartPole-v1 -conf "
        f"{tmp_path / 'zoo.yml'} --eval-freq 500 --eval-episodes 2 --seed 3 --device cpu"
    ) in header
    left = {item.key: item.hint for item in done.unmapped}
    assert set(left) == {
        "hyperparameters.clip_range",
        "search_space.learning_rate",
        "search_space.gamma",
    }
    assert "linear down to 0" in left["hyperparameters.clip_range"]
    assert "--trial N" in left["search_space.gamma"]
    assert sum(line.startswith("#   ") for line in header) == 3
    entry = yaml.safe_load(done.text)["CartPole-v1"]  # as the zoo reads it
    assert entry["clip_range"] == "lin_0.3" and "gamma" not in entry
    assert entry["learning_rate"] == "lin_0.0003"  # PPO's own default, falling linearly


def test_action_noise_wrappers_and_schedules_take_the_zoos_names():
    study = parse_study(
        """
name: sac-noise
train:
  algorithm: sac
  env: Pendulum-v1
  env_wrapper: [ClipAction, {my_wrappers:Shaped: {scale: 2}}]
  timesteps: 1000
hyperparameters:
  action_noise: ornstein_uhlenbeck
  action_noise_sigma: 0.2
  learning_rate: {schedule: constant, start: 0.001}
  buffer_size: 1.0e4
  net_arch: {pi: [64], qf: small}
""",
        check_env=False,
    )
    entry = zoo_entry(study, trial_hyperparameters(study, {}))
    assert entry["env_wrapper"] == [
        "gymnasium.wrappers.ClipAction",
        {"my_wrappers.Shaped": {"scale": 2}},
    ]
    assert (entry["noise_type"], entry["noise_std"]) == ("ornstein-uhlenbeck", 0.2)
    assert entry["learning_rate"] == 0.001 and entry["buffer_size"] == 10_000
    small = algos.NET_ARCH_PRESETS["small"]  # a preset is written as its layer sizes
    assert entry["policy_kwargs"] == f"dict(net_arch=dict(pi=[64], qf={small}))"


def test_a_study_of_a_training_function_has_no_zoo_form(tmp_path):
    (tmp_path / "mine.py").write_text("def train(params, ctx):\n    return 0.0\n")
    text = "name: f\ntrain: {function: 'mine:train', timesteps: 100}\n"
    study = parse_study(text, str(tmp_path / "study.yaml"))
    with pytest.raises(ConversionError, match="trains a function of its own"):
        export_zoo(study)


@needs_extra("rl_zoo3", "zoo")
@pytest.mark.parametrize(
    ("file", "env"),
    [
        ("ppo.yml", "CartPole-v1"),
        ("dqn.yml", "CartPole-v1"),
        ("sac.yml", "Pendulum-v1"),
        ("ppo.yml", "MountainCarContinuous-v0"),
        ("td3.yml", "Pendulum-v1"),
    ],
)
def test_a_zoo_entry_comes_back_as_it_went_in(file, env):
    original = {"n_envs": 1, **yaml.safe_load(zoo_file(file).read_text())[env]}
    study = parse_study(import_zoo(zoo_file(file), env).text)
    back = zoo_entry(study, trial_hyperparameters(study, {}))
    for key in ("policy_kwargs", "normalize"):
        if isinstance(original.get(key), str):
            original[key], back[key] = parse_zoo(original[key]), parse_zoo(back[key])
    assert back == original


def test_the_default_learning_rates_are_the_algorithms_own():
    classes = {
        name: ("stable_baselines3", name.upper())
        for name in ("ppo", "a2c", "dqn", "sac", "td3", "ddpg")
    }
    classes.update((name, ("sb3_contrib", cls)) for name, cls in algos.CONTRIB.items())
    assert DEFAULT_LEARNING_RATES.keys() == algos.ALGORITHM_ARGS.keys()
    for name, (module, cls) in classes.items():
        try:
            found = getattr(importlib.import_module(module), cls)
        except ImportError:
            continue  # sb3-contrib not installed: its table is checked where it is
        default = inspect.signature(found).parameters["learning_rate"].default
        assert DEFAULT_LEARNING_RATES[name] == default, name


@pytest.mark.slow
@needs_extra("rl_zoo3", "zoo")
def test_the_zoo_trains_an_exported_study_unchanged(tmp_path):
    study = parse_study(TINY)
    conf = tmp_path / "cartpole.yml"
    write_zoo_file(study, conf, TRIAL, trial=0)
    logs = tmp_path / "logs"
    command = [
        sys.executable,
        "-m",
        "rl_zoo3.train",
        "--algo",
        "ppo",
        "--env",
        "CartPole-v1",
        "-conf",
        str(conf),
        "-n",
        "1000",
        "--log-folder",
        str(logs),
        "--device",
        "cpu",
        "--seed",
        "3",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [run] = (logs / "ppo").glob("CartPole-v1_*")
    assert (run / "0.monitor.csv").read_text().count("\n") > 3  # episodes were played

    import torch
    from stable_baselines3 import PPO

    model = PPO.load(run / "CartPole-v1.zip", device="cpu")
    assert model.num_timesteps >= 1000
    assert (model.n_steps, model.batch_size, model.n_epochs, model.gamma) == (64, 32, 1, 0.95)
    assert model.policy_kwargs["net_arch"] == {"pi": [8], "vf": [16]}
    assert model.policy_kwargs["activation_fn"] is torch.nn.ReLU
    assert model.policy_kwargs["optimizer_kwargs"] == {"eps": 1e-5}
    assert model.learning_rate(1.0) == pytest.approx(1e-3)  # lin_0.001
    assert model.learning_rate(0.5) == pytest.approx(5e-4)
