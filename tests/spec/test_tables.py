"""The allow-lists kept as data must match the libraries they describe."""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium
import numpy as np
import pytest

from rltui.search import sampling
from rltui.spec import algorithms as algos
from rltui.spec.hyperparameters import NAMED_VALUES, check_value
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
    cls = sampling._SAMPLERS[name]
    assert SAMPLER_OPTIONS[name] <= set(inspect.signature(cls.__init__).parameters)


@pytest.mark.parametrize("name", [n for n in PRUNER_OPTIONS if n != "none"])
def test_pruner_options_exist(name):
    assert PRUNER_OPTIONS[name] <= set(
        inspect.signature(sampling._PRUNERS[name].__init__).parameters
    )


def test_policy_gradient_options_exist():
    from rltui.search.samplers import PolicyGradientSampler

    assert SAMPLER_OPTIONS["policy_gradient"] <= set(
        inspect.signature(PolicyGradientSampler.__init__).parameters
    )


class _ActingIn(gymnasium.Env):
    """An env with nothing but the action space under test."""

    def __init__(self, action_space: gymnasium.Space) -> None:
        self.observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = action_space


SPACES = {
    "Box": gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32),
    "Discrete": gymnasium.spaces.Discrete(3),
    "MultiDiscrete": gymnasium.spaces.MultiDiscrete([2, 3]),
    "MultiBinary": gymnasium.spaces.MultiBinary(2),
}


@pytest.mark.parametrize("name", algos.algorithm_names())
def test_action_spaces_match_sb3(name):
    from rltui.train.trainer import ALGORITHMS

    acts_in = set()
    for kind, space in SPACES.items():
        try:
            ALGORITHMS[name]("MlpPolicy", _ActingIn(space), _init_setup_model=False)
        except AssertionError:
            continue
        acts_in.add(kind)
    assert set(algos.ACTION_SPACES[name]) == acts_in


# Arguments that are checked by name (or hold Python objects), not as numbers.
NOT_NUMBERS = {"net_arch", "optimizer_kwargs", *NAMED_VALUES}


def test_every_number_and_flag_has_a_kind():
    every = set().union(*(algos.accepted_hyperparameters(a) for a in algos.algorithm_names()))
    assert every - NOT_NUMBERS == set(algos.ARG_KINDS)


def _defaults(cls: Any, names: frozenset[str]) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters
    return {
        n: params[n].default
        for n in names
        if n in params and params[n].default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize("name", algos.algorithm_names())
def test_sb3_defaults_fit_their_kinds(name):
    from rltui.train.trainer import ALGORITHMS

    cls = ALGORITHMS[name]
    defaults = _defaults(cls, algos.ALGORITHM_ARGS[name])
    defaults |= _defaults(cls.policy_aliases["MlpPolicy"], algos.POLICY_ARGS[name])
    for arg, default in defaults.items():
        if arg not in NOT_NUMBERS:
            assert check_value(name, arg, default, (arg,)) is None, (arg, default)


@pytest.mark.parametrize("name", algos.algorithm_names())
def test_examples_in_hints_are_valid(name):
    for arg in algos.accepted_hyperparameters(name) - NOT_NUMBERS:
        kind = algos.arg_kind(name, arg)
        assert kind is not None
        assert check_value(name, arg, kind.example, (arg,)) is None, arg


def test_whole_floats_are_accepted_only_where_training_casts_them():
    from rltui.train.hyperparams import _algorithm_value

    for name in algos.CAST_TO_INT:
        assert _algorithm_value(name, 64.0) == 64 and type(_algorithm_value(name, 64.0)) is int
    assert check_value("td3", "policy_delay", 2.0, ("policy_delay",)) is not None


def _option_classes() -> dict[str, dict[str, Any]]:
    return {"sampler": sampling._sampler_classes(), "pruner": sampling._PRUNERS}


@pytest.mark.parametrize(
    ("key", "kind"),
    [("sampler", n) for n in SAMPLER_OPTIONS] + [("pruner", n) for n in PRUNER_OPTIONS],
)
def test_option_defaults_pass_the_type_check(key, kind):
    table = SAMPLER_OPTIONS if key == "sampler" else PRUNER_OPTIONS
    cls = _option_classes()[key].get(kind)
    if cls is None:
        return
    params = inspect.signature(cls.__init__).parameters
    defaults = {
        n: params[n].default
        for n in table[kind]
        if params[n].default is not inspect.Parameter.empty
    }
    assert sampling._option_type_problems(key, kind, cls, defaults) == []
