"""``preset: zoo``: rl-baselines3-zoo's search spaces, compared with the zoo's own samplers, and
the keys that change a preset."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest
from gymnasium import spaces

from rltui.cli import main
from rltui.search.sampling import suggest_all
from rltui.spec import StudyFile, check_text
from rltui.spec import algorithms as algos
from rltui.spec import policy as pol
from rltui.spec.presets import ZOO
from tests.conftest import needs_extra, zoo_samplers

needs_zoo = needs_extra("rl_zoo3", "zoo")
needs_contrib = needs_extra("sb3_contrib", "contrib")
DISCRETE = {"dqn", "qrdqn"}
CONTINUOUS = algos.CONTINUOUS_ONLY
ZOO_NAMES = {"recurrentppo": "ppo_lstm"}  # rltui's name -> the zoo's, where they differ

STUDY = """\
name: zoo
train:
  algorithm: {algorithm}
  env: {env}
  timesteps: 1000
hyperparameters:
{fixed}
search_space:
  preset: {preset}
{searched}
"""


def check(
    algorithm: str = "ppo", searched: str = "", fixed: str = "", preset: str = "zoo"
) -> tuple[StudyFile | None, list[str]]:
    env = "Pendulum-v1" if algorithm in CONTINUOUS else "CartPole-v1"
    text = STUDY.format(
        algorithm=algorithm,
        env=env,
        fixed=fixed or "  {}",
        preset=preset,
        searched=searched,
    ).replace("hyperparameters:\n  {}", "hyperparameters: {}")
    study, problems = check_text(text, "z.yaml", check_env=False)
    return study, [p.format("z.yaml") for p in problems]


def algorithm_param(name: str) -> Any:
    return pytest.param(name, marks=needs_contrib) if name in algos.CONTRIB else name


ALGORITHMS = [algorithm_param(name) for name in ZOO]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_preset_validates_for_every_algorithm_the_zoo_samples(algorithm):
    study, problems = check(algorithm)
    assert study is not None, problems
    assert problems == []
    space = study.space
    for key in {*space.fixed, *(d.key for d in space.derived)} | {
        p.setting for p in space.params.values() if p.setting
    }:
        assert pol.resolve(algorithm, None, key) is not None, key


def test_an_algorithm_without_a_zoo_sampler_is_refused_with_those_that_have_one():
    study, problems = check("crossq")
    assert study is None
    [problem] = [p for p in problems if "search_space.preset" in p]
    assert "rl-baselines3-zoo has no search space for CrossQ" in problem
    assert "PPO, RecurrentPPO, TRPO, A2C, SAC, TQC, TD3, DDPG, DQN, QRDQN, ARS" in problem


@pytest.mark.parametrize(
    ("preset", "words"),
    [("zo", "unknown preset 'zo' (did you mean 'zoo'?)"), ("optuna", "(presets: zoo)")],
)
def test_an_unknown_preset_is_refused_with_a_guess(preset, words):
    study, problems = check(preset=preset)
    assert study is None
    assert any(words in p for p in problems), problems


def test_a_training_function_takes_no_preset():
    text = "name: f\ntrain: {function: 'pkg.mod:train', timesteps: 1}\n"
    text += "search_space: {preset: zoo}\n"
    study, problems = check_text(text, "f.yaml", check_env=False)
    assert study is None
    assert any("a preset searches an SB3 algorithm's hyperparameters" in str(p) for p in problems)


def space_of(algorithm: str) -> StudyFile:
    study, problems = check(algorithm)
    assert study is not None, problems
    return study


def zoo_sample(algorithm: str, trial: Any, n_actions: int) -> dict[str, Any]:
    sampler = zoo_samplers()[ZOO_NAMES.get(algorithm, algorithm)]
    args = {"using_her_replay_buffer": False, "her_kwargs": {}}  # the zoo adds its own marks
    result: dict[str, Any] = sampler(trial, n_actions, 1, args)
    return result


@needs_zoo
def test_the_zoo_has_a_preset_for_each_of_its_samplers_that_rltui_trains():
    samplers = zoo_samplers()
    theirs = {name for name in samplers if name in algos.ALGORITHM_ARGS}
    theirs |= {ours for ours, name in ZOO_NAMES.items() if name in samplers}
    assert theirs == set(ZOO)


@needs_zoo
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("seed", range(4))
def test_the_preset_samples_what_the_zoo_samples(algorithm, seed):
    space = space_of(algorithm).space
    ostudy = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = ostudy.ask()
    zoo_sample(algorithm, trial, n_actions=2)
    # Same names, same distributions, a narrowed range narrowed by the same value.
    expected = {name: space.distribution_given(name, trial.params) for name in space.distributions}
    assert trial.distributions == expected


def by_name(value: Any) -> Any:
    """Classes by name, noise by kind and size: what the zoo and rltui build, comparable."""
    if isinstance(value, type):
        return value.__name__
    if hasattr(value, "_sigma"):
        return type(value).__name__, np.asarray(value._sigma).tolist()
    if isinstance(value, dict):
        return {key: by_name(item) for key, item in value.items()}
    return value


@needs_zoo
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("seed", range(6))
def test_a_sampled_point_trains_with_what_the_zoo_would_train_with(algorithm, seed):
    from rltui.train.hyperparams import model_kwargs

    study = space_of(algorithm)
    ostudy = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    params = suggest_all(ostudy.ask(), study.space)
    action_space: spaces.Space = (
        spaces.Box(-1, 1, (2,)) if algorithm in CONTINUOUS else spaces.Discrete(2)
    )
    theirs = zoo_sample(algorithm, optuna.trial.FixedTrial(params), n_actions=2)
    ours = model_kwargs(algorithm, study.hyperparameters_for(params), action_space)
    assert by_name(ours) == by_name(theirs)


def test_a_setting_beside_the_preset_replaces_what_the_preset_computes_for_it():
    study, problems = check(searched="  gamma: choice(0.9, 0.99)")
    assert study is not None, problems
    assert "one_minus_gamma" not in study.space.distributions
    assert "gae_lambda" in {d.key for d in study.space.derived}
    assert any("replaces preset zoo's gamma, one_minus_gamma (not sampled)" in p for p in problems)
    params = suggest_all(optuna.create_study().ask(), study.space)
    assert study.hyperparameters_for(params)["gamma"] == params["gamma"]


@pytest.mark.parametrize(
    ("key", "nested"),
    [
        ("net_arch", {"net_arch": [32, 32]}),
        ("policy_kwargs.net_arch", {"policy_kwargs": {"net_arch": [32, 32]}}),
        ("model.net_arch", {"net_arch": [32, 32]}),
    ],
)
def test_net_arch_beside_the_preset_is_searched_as_written(key, nested):
    study, problems = check(searched=f"  {key}: choice([32, 32], small)")
    assert study is not None, problems
    assert "policy_kwargs.net_arch" not in {d.key for d in study.space.derived}
    assert [name for name in study.space.params if "net_arch" in name] == [key]
    values = study.hyperparameters_for({key: "[32, 32]"})
    assert pol.nest(values) == nested  # the preset's other parameters are not in this trial


def test_a_preset_parameter_beside_it_changes_its_range_and_keeps_the_conversion():
    study, problems = check(searched="  one_minus_gamma: tag(log, interval(0.001, 0.1))")
    assert study is not None, problems
    assert study.space.distributions["one_minus_gamma"].low == 0.001  # type: ignore[attr-defined]
    assert study.hyperparameters_for({"one_minus_gamma": 0.01})["gamma"] == 1 - 0.01


def test_a_range_beside_the_preset_that_makes_a_bad_setting_is_refused_there():
    study, problems = check(searched="  one_minus_gamma: interval(0.5, 2)")
    assert study is None
    assert any(
        "z.yaml:9:3: search_space.one_minus_gamma: gamma from one_minus_gamma: must be" in p
        for p in problems
    ), problems


@needs_contrib
def test_replacing_train_freq_drops_the_gradient_steps_computed_from_it():
    study, problems = check("dqn", searched="  train_freq: choice([4, episode], [1, step])")
    assert study is not None, problems
    assert {"subsample_steps", "one_minus_gamma"} & set(study.space.params) == {"one_minus_gamma"}
    assert "gradient_steps" not in {d.key for d in study.space.derived}
    assert any("train_freq, gradient_steps, subsample_steps (not sampled)" in p for p in problems)
    assert study.hyperparameters_for({"train_freq": "[4, episode]"})["train_freq"] == [4, "episode"]


def test_a_narrowed_range_follows_the_value_sampled_before():
    study = space_of("dqn")
    narrowed = study.space.distribution_given("subsample_steps", {"train_freq": 3})
    assert (narrowed.low, narrowed.high) == (1, 3)  # type: ignore[attr-defined]
    widest = study.space.distributions["subsample_steps"]
    assert (widest.low, widest.high) == (1, 8)  # type: ignore[attr-defined]
    values = study.hyperparameters_for({"train_freq": 7, "subsample_steps": 2})
    assert (values["train_freq"], values["gradient_steps"]) == (7, 3)


def test_a_fixed_hyperparameter_the_preset_searches_is_overridden_with_a_note(tmp_path, capsys):
    fixed = '  gamma: 0.9\n  policy_kwargs: "dict(net_arch=[32], ortho_init=False)"'
    study, problems = check(fixed=fixed)
    assert study is not None, problems
    notes = [p for p in problems if "is searched, so" in p]
    assert len(notes) == 2, problems
    values = study.hyperparameters_for({"one_minus_gamma": 0.01, "net_arch": "small"})
    assert values["gamma"] == 0.99
    assert pol.nest(values)["policy_kwargs"]["net_arch"] == {"pi": [64, 64], "vf": [64, 64]}
    assert pol.nest(values)["policy_kwargs"]["ortho_init"] is False
    path = tmp_path / "z.yaml"
    path.write_text(STUDY.format(algorithm="ppo", env="CartPole-v1", fixed=fixed, preset="zoo",
                                 searched=""))  # fmt: skip
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "'gamma (preset zoo)' is searched, so 'gamma' in hyperparameters is not used" in out
