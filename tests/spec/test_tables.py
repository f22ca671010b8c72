"""The allow-lists kept as data must match the libraries they describe.

sb3-contrib's algorithms are compared when the ``contrib`` extra is installed (CI installs
every extra); without it their tests skip and say why.
"""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium
import numpy as np
import pytest

from rltui.search import sampling
from rltui.spec import algorithms as algos
from rltui.spec import policy as pol
from rltui.spec.hyperparameters import NAMED_VALUES, check_value
from rltui.spec.optuna_options import PRUNER_OPTIONS, SAMPLER_OPTIONS
from tests.conftest import needs_extra

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
# Policy arguments a study cannot set: given by the algorithm itself, or Python objects.
NOT_POLICY_OPTIONS = {
    "self",
    "observation_space",
    "action_space",
    "lr_schedule",
    "use_sde",
    "features_extractor_class",
    "features_extractor_kwargs",
}
needs_contrib = needs_extra("sb3_contrib", "contrib")
ALGORITHMS = [
    pytest.param(name, marks=needs_contrib) if name in algos.CONTRIB else name
    for name in algos.algorithm_names()
]


def _cls(name: str) -> Any:
    from rltui.train.hyperparams import algorithm_class

    return algorithm_class(name)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_algorithm_args_match_the_library(name):
    params = set(inspect.signature(_cls(name).__init__).parameters) - NOT_SETTABLE
    assert algos.ALGORITHM_ARGS[name] == params


@pytest.mark.parametrize("name", ALGORITHMS)
def test_policy_options_match_each_policy_class(name):
    aliases = _cls(name).policy_aliases
    assert set(pol.policy_names(name)) == set(aliases)
    assert pol.policy_names(name)[0] in ("MlpPolicy", "MlpLstmPolicy")
    for alias, policy in aliases.items():
        params = set(inspect.signature(policy.__init__).parameters) - NOT_POLICY_OPTIONS
        assert pol.POLICY_ARGS[name][alias] == params, alias


@pytest.mark.parametrize("name", ALGORITHMS)
def test_schedulable_arguments_match_the_signatures(name):
    params = inspect.signature(_cls(name).__init__).parameters
    takes_a_function = {n for n, p in params.items() if "Callable" in str(p.annotation)}
    assert algos.SCHEDULABLE[name] == takes_a_function


def test_contrib_names_are_the_library_classes():
    assert set(algos.CONTRIB) == set(algos.ALGORITHM_ARGS) - {
        "ppo", "a2c", "dqn", "sac", "td3", "ddpg",
    }  # fmt: skip
    for name, cls in algos.CONTRIB.items():
        assert algos.display_name(name) == cls and cls.lower() == name


@pytest.mark.parametrize(
    "name", [n for n in SAMPLER_OPTIONS if n not in ("grid", "policy_gradient", "pbt")]
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


@pytest.mark.parametrize("name", ALGORITHMS)
def test_action_spaces_match_the_library(name):
    acts_in = set()
    for kind, space in SPACES.items():
        try:
            _cls(name)(pol.policy_names(name)[0], _ActingIn(space), _init_setup_model=False)
        except AssertionError:
            continue
        acts_in.add(kind)
    assert set(algos.ACTION_SPACES[name]) == acts_in


def _acting_env(name: str) -> gymnasium.Env:
    box = "Box" in algos.ACTION_SPACES[name]
    env = gymnasium.make("Pendulum-v1" if box else "CartPole-v1")
    return env


@pytest.mark.parametrize("name", ALGORITHMS)
def test_net_arch_mappings_size_the_networks_the_tables_name(name):
    networks = pol.NET_ARCH_NETWORKS[name]
    arch: Any = {key: [8] for key in networks} if networks else [8]
    env = _acting_env(name)
    try:
        _cls(name)(pol.policy_names(name)[0], env, policy_kwargs={"net_arch": arch})
        if not networks:  # a mapping is refused, as the spec layer says
            with pytest.raises(KeyError):
                _cls(name)(pol.policy_names(name)[0], env, policy_kwargs={"net_arch": {"pi": [8]}})
    finally:
        env.close()


# Arguments that are checked by name (or hold Python objects), not as numbers.
NOT_NUMBERS = {"net_arch", "policy_kwargs", *pol.KWARGS_MAPPINGS, *NAMED_VALUES}


def test_every_number_and_flag_has_a_kind():
    every = set()
    for name in algos.algorithm_names():
        for policy in pol.policy_names(name):
            every |= pol.accepted_hyperparameters(name, policy)
    assert every - NOT_NUMBERS == set(algos.ARG_KINDS)


def _defaults(cls: Any, names: frozenset[str]) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters
    return {
        n: params[n].default
        for n in names
        if n in params and params[n].default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize("name", ALGORITHMS)
def test_library_defaults_fit_their_kinds(name):
    cls = _cls(name)
    defaults = _defaults(cls, algos.ALGORITHM_ARGS[name])
    for policy in pol.policy_names(name):
        defaults |= _defaults(cls.policy_aliases[policy], pol.POLICY_ARGS[name][policy])
    for arg, default in defaults.items():
        if arg not in NOT_NUMBERS:
            assert check_value(name, arg, default, (arg,)) is None, (arg, default)


@pytest.mark.parametrize("name", algos.algorithm_names())
def test_examples_in_hints_are_valid(name):
    for arg in pol.accepted_hyperparameters(name) - NOT_NUMBERS:
        kind = algos.arg_kind(name, arg)
        assert kind is not None
        assert check_value(name, arg, kind.example, (arg,)) is None, arg


def test_whole_floats_are_accepted_only_where_training_casts_them():
    from rltui.train.hyperparams import _algorithm_value

    for name in algos.CAST_TO_INT:
        value = _algorithm_value("ppo", name, 64.0)
        assert value == 64 and type(value) is int
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
