"""The allow-lists kept as data must match the libraries they describe."""

from __future__ import annotations

import inspect

import pytest

from rltui.search import optimizers
from rltui.spec import algorithms as algos
from rltui.spec.optuna_options import PRUNER_OPTIONS, SAMPLER_OPTIONS

NOT_SETTABLE = {
    "self",
    "policy",
    "env",
    "tensorboard_log",
    "policy_kwargs",
    "verbose",
    "seed",
    "device",
    "_init_setup_model",
    "stats_window_size",
    "replay_buffer_class",
    "replay_buffer_kwargs",
    "rollout_buffer_class",
    "rollout_buffer_kwargs",
    "action_noise",
    "supported_action_spaces",
    "monitor_wrapper",
}


@pytest.mark.parametrize("name", algos.algorithm_names())
def test_algorithm_args_match_sb3(name):
    from rltui.train.trainer import ALGORITHMS

    params = set(inspect.signature(ALGORITHMS[name].__init__).parameters) - NOT_SETTABLE
    assert algos.ALGORITHM_ARGS[name] == params


@pytest.mark.parametrize("name", algos.algorithm_names())
def test_policy_args_exist(name):
    from rltui.train.trainer import ALGORITHMS

    policy = ALGORITHMS[name].policy_aliases["MlpPolicy"]
    assert algos.POLICY_ARGS[name] <= set(inspect.signature(policy.__init__).parameters)


@pytest.mark.parametrize(
    "name", [n for n in SAMPLER_OPTIONS if n not in ("grid", "policy_gradient")]
)
def test_sampler_options_exist(name):
    cls = optimizers._SAMPLERS[name]
    assert SAMPLER_OPTIONS[name] <= set(inspect.signature(cls.__init__).parameters)


@pytest.mark.parametrize("name", [n for n in PRUNER_OPTIONS if n != "none"])
def test_pruner_options_exist(name):
    assert PRUNER_OPTIONS[name] <= set(
        inspect.signature(optimizers._PRUNERS[name].__init__).parameters
    )


def test_policy_gradient_options_exist():
    from rltui.search.samplers import PolicyGradientSampler

    assert SAMPLER_OPTIONS["policy_gradient"] <= set(
        inspect.signature(PolicyGradientSampler.__init__).parameters
    )
