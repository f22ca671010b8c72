"""Named search spaces: rl-baselines3-zoo's samplers, as data.

``search_space: {preset: zoo}`` searches what ``rl_zoo3.hyperparams_opt`` samples for the
study's algorithm: the same Optuna parameters (``batch_size_pow``, ``one_minus_gamma``,
``net_arch``, ...) with the same distributions, turned into the algorithm's settings as the
zoo turns them (``batch_size = 2 ** batch_size_pow``, ``gamma = 1 - one_minus_gamma``, a
net_arch name into layer sizes), written as a study file writes them. A test runs the zoo's
own samplers against these tables.

What the zoo's samplers take besides the trial: ``n_envs`` changes nothing in them (the zoo's
``gradient_steps = train_freq`` is for one env, whatever n_envs is, and so it is here);
``n_actions`` sizes TD3's and DDPG's action noise, which rltui sizes from the env's action
space when it builds the noise; ``additional_args`` turn on HER's parameters, which never
apply here (rltui trains without a HER replay buffer), and mark TQC and QR-DQN, which have
tables of their own.

Keys beside ``preset`` change it (:func:`with_preset`): a key that names one of the preset's
parameters replaces that parameter; a key that sets what the preset sets (``gamma``,
``policy_kwargs.net_arch``) replaces what the preset computes for it, and a preset parameter
left with nothing to compute is not sampled (``gamma`` drops ``one_minus_gamma``). A value
computed from a replaced setting goes with it (``train_freq`` drops DQN's ``gradient_steps``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from rltui.spec import algorithms as algos
from rltui.spec import policy as pol
from rltui.spec.problems import Problem, did_you_mean, show_value
from rltui.spec.space import PRESET, Derived, SearchParam, SearchSpace

if TYPE_CHECKING:
    from rltui.spec.model import TrainSpec


def _log(low: float, high: float) -> FloatDistribution:
    return FloatDistribution(low, high, log=True)


def _cat(*choices: Any) -> CategoricalDistribution:
    return CategoricalDistribution(choices)


# The conversions of rl_zoo3.hyperparams_opt (convert_onpolicy_params, convert_offpolicy_params,
# convert_ars_params), one function per setting. Each takes what a user may have searched in
# the parameter's place and returns what it cannot convert unchanged, for the checks to report.
def _one_minus(value: float) -> float:
    return 1 - value


def _pow2(power: int) -> int | float:
    # A hostile range must not make a number of a billion digits: past 2**64 it is a float.
    return 2**power if isinstance(power, int) and 0 <= power <= 64 else 2.0 ** min(power, 64.0)


def _same(value: Any) -> Any:
    return value


def _on_policy_net(name: str) -> Any:
    layers = algos.NET_ARCH_PRESETS.get(name) if isinstance(name, str) else None
    return {"pi": list(layers), "vf": list(layers)} if layers else name


def _off_policy_net(name: str) -> Any:
    layers = algos.NET_ARCH_PRESETS.get(name) if isinstance(name, str) else None
    return list(layers) if layers else name


def _gradient_steps(train_freq: int, subsample_steps: int = 1) -> int:
    return max(train_freq // subsample_steps, 1)


def _n_top(top_frac_size: float, n_delta_pow: int) -> int:
    return max(int(top_frac_size * _pow2(n_delta_pow)), 1)


_NOISES = {"ornstein-uhlenbeck": "ornstein_uhlenbeck", "normal": "normal", None: "none"}


def _noise(noise_type: str | None) -> Any:
    return _NOISES.get(noise_type, noise_type) if isinstance(noise_type, str | None) else noise_type


# Ranges that the zoo narrows by a value sampled before (None: a value it cannot use).
def _subsample_range(train_freq: Any) -> BaseDistribution | None:
    whole = isinstance(train_freq, int) and not isinstance(train_freq, bool) and train_freq >= 1
    return IntDistribution(1, min(train_freq, 8)) if whole else None


def _top_quantiles_range(n_quantiles: Any) -> BaseDistribution | None:
    whole = isinstance(n_quantiles, int) and not isinstance(n_quantiles, bool)
    return IntDistribution(0, min(n_quantiles - 1, 5)) if whole and n_quantiles >= 1 else None


_NARROW: dict[str, tuple[str, Callable[[Any], BaseDistribution | None]]] = {
    "subsample_steps": ("train_freq", _subsample_range),
    "top_quantiles_to_drop_per_net": ("n_quantiles", _top_quantiles_range),
}

# Every setting the zoo computes, and from which of its parameters. A parameter named here is
# a source only; the others (learning_rate, train_freq, ...) are settings as they are.
_DERIVED = (
    Derived("gamma", ("one_minus_gamma",), _one_minus),
    Derived("gae_lambda", ("one_minus_gae_lambda",), _one_minus),
    Derived("batch_size", ("batch_size_pow",), _pow2),
    Derived("n_steps", ("n_steps_pow",), _pow2),
    Derived("n_delta", ("n_delta_pow",), _pow2),
    Derived("n_top", ("top_frac_size", "n_delta_pow"), _n_top),
    Derived("policy_kwargs.activation_fn", ("activation_fn",), _same),
    Derived("policy_kwargs.n_quantiles", ("n_quantiles",), _same),
    Derived("action_noise", ("noise_type",), _noise),
    Derived("action_noise_sigma", ("noise_std",), _same),
)
_ON_POLICY = (*_DERIVED, Derived("policy_kwargs.net_arch", ("net_arch",), _on_policy_net))
_OFF_POLICY = (
    *_DERIVED,
    Derived("policy_kwargs.net_arch", ("net_arch",), _off_policy_net),
    Derived("gradient_steps", ("train_freq", "subsample_steps"), _gradient_steps),
)
# SAC, TD3 and TQC sample no subsample_steps: their gradient_steps is train_freq.
_SAC_GRADIENT_STEPS = Derived("gradient_steps", ("train_freq",), _gradient_steps)
_SOURCES = frozenset(s for d in _OFF_POLICY for s in d.sources) - {"train_freq"}

_GAMMA = {"one_minus_gamma": _log(0.0001, 0.03)}
_LAMBDA = {"one_minus_gae_lambda": _log(0.0001, 0.1)}
_LR = {"learning_rate": _log(1e-5, 0.002)}
_POWERS = {"batch_size_pow": IntDistribution(2, 10), "n_steps_pow": IntDistribution(5, 12)}
_OFF_START = {
    **_GAMMA,
    "batch_size_pow": IntDistribution(2, 11),
    **_LR,
    "train_freq": IntDistribution(1, 10),
}
_TAU = {"tau": _log(0.001, 0.08)}
_BIG = {"net_arch": _cat("small", "medium", "big")}
_PPO = {
    **_POWERS,
    **_GAMMA,
    **_LAMBDA,
    **_LR,
    "ent_coef": _log(0.00000001, 0.1),
    "clip_range": _cat(0.1, 0.2, 0.3, 0.4),
    "n_epochs": _cat(1, 5, 10, 20),
    "max_grad_norm": FloatDistribution(0.3, 2),
    "net_arch": _cat("tiny", "small", "medium"),
    "activation_fn": _cat("tanh", "relu"),
}
_SAC = {**_OFF_START, **_TAU, **_BIG}
_TD3 = {
    **_OFF_START,
    **_TAU,
    "noise_type": _cat("ornstein-uhlenbeck", "normal", None),
    "noise_std": FloatDistribution(0, 0.5),
    **_BIG,
}
_DQN = {
    **_OFF_START,
    "subsample_steps": IntDistribution(1, 8),  # 1..min(train_freq, 8), see _NARROW
    "exploration_final_eps": FloatDistribution(0, 0.2),
    "exploration_fraction": FloatDistribution(0, 0.5),
    "target_update_interval": IntDistribution(1, 20000, log=True),
    **_BIG,
}

Table = tuple[dict[str, BaseDistribution], tuple[Derived, ...]]
# rl_zoo3.hyperparams_opt.HYPERPARAMS_SAMPLER, by rltui's algorithm names (RecurrentPPO is
# the zoo's ppo_lstm, which samples as PPO does). The zoo has no sampler for CrossQ.
ZOO: dict[str, Table] = {
    "ppo": (_PPO, _ON_POLICY),
    "recurrentppo": (_PPO, _ON_POLICY),
    "trpo": (
        {
            **_POWERS,
            **_GAMMA,
            **_LAMBDA,
            **_LR,
            "n_critic_updates": IntDistribution(5, 30),
            "cg_max_steps": IntDistribution(5, 30),
            "target_kl": _log(0.001, 0.1),
            "net_arch": _cat("small", "medium"),
            "activation_fn": _cat("tanh", "relu"),
        },
        _ON_POLICY,
    ),
    "a2c": (
        {
            "n_steps": _cat(32, 64, 128, 256, 512, 1024, 2048),
            **_GAMMA,
            **_LAMBDA,
            **_LR,
            "max_grad_norm": FloatDistribution(0.3, 2),
            "ent_coef": _log(0.00000001, 0.1),
            "net_arch": _cat("small", "medium"),
            "activation_fn": _cat("tanh", "relu"),
        },
        _ON_POLICY,
    ),
    "sac": (_SAC, (*_OFF_POLICY, _SAC_GRADIENT_STEPS)),
    "tqc": (
        {
            **_SAC,
            "n_quantiles": IntDistribution(5, 50),
            "top_quantiles_to_drop_per_net": IntDistribution(0, 5),  # see _NARROW
        },
        (*_OFF_POLICY, _SAC_GRADIENT_STEPS),
    ),
    "td3": (_TD3, (*_OFF_POLICY, _SAC_GRADIENT_STEPS)),
    "ddpg": (_TD3, (*_OFF_POLICY, _SAC_GRADIENT_STEPS)),  # the zoo samples DDPG as TD3
    "dqn": (_DQN, _OFF_POLICY),
    "qrdqn": ({**_DQN, "n_quantiles": IntDistribution(5, 200)}, _OFF_POLICY),
    "ars": (
        {
            "n_delta_pow": IntDistribution(2, 6),
            **_LR,
            "delta_std": FloatDistribution(0.01, 0.3),
            "top_frac_size": FloatDistribution(0.05, 1.0),
        },
        _DERIVED,
    ),
}
PRESETS: dict[str, dict[str, Table]] = {"zoo": ZOO}


def preset_space(name: str, algorithm: str) -> SearchSpace:
    """The preset ``name`` for ``algorithm``, with nothing beside it."""
    params, derived = PRESETS[name][algorithm]
    chosen = tuple(d for d in derived if all(s in params for s in d.sources))
    made = {
        n: SearchParam(n, distribution=dist, source=n in _SOURCES, narrow=_NARROW.get(n))
        for n, dist in params.items()
    }
    return SearchSpace(made, chosen, name)


def with_preset(
    space: SearchSpace, name: Any, train: TrainSpec | None
) -> tuple[SearchSpace, list[Problem]]:
    """``space`` (the keys beside ``preset``) over the preset ``name`` for ``train``'s
    algorithm, with a note for each preset parameter or setting a key replaces."""
    path = ("search_space", PRESET)
    algorithm = train.algorithm if train is not None else None
    if not isinstance(name, str) or name not in PRESETS:
        guess = did_you_mean(str(name), PRESETS) if isinstance(name, str) else None
        known = ", ".join(PRESETS)
        return space, [
            Problem(
                path,
                f"unknown preset {show_value(name)}",
                f"did you mean '{guess}'?" if guess else f"presets: {known}",
            )
        ]
    if train is None or algorithm is None:
        message = "a preset searches an SB3 algorithm's hyperparameters"
        hint = "a training function's parameters are its own: search them beside, not by preset"
        return space, [Problem(path, message, hint)]
    if algorithm not in algos.ALGORITHM_ARGS:
        return space, []  # reported with the algorithm
    table = PRESETS[name]
    if algorithm not in table:
        having = ", ".join(algos.display_name(a) for a in table)
        return space, [
            Problem(
                path,
                f"rl-baselines3-zoo has no search space for {algos.display_name(algorithm)}",
                f"preset {name} is there for {having}; search the others' hyperparameters yourself",
            )
        ]
    return _combine(preset_space(name, algorithm), space, algorithm, pol.policy_of(train))


def _combine(
    preset: SearchSpace, user: SearchSpace, algorithm: str, policy: str
) -> tuple[SearchSpace, list[Problem]]:
    def target(key: str | None) -> tuple[str, ...] | None:
        try:
            slot = pol.resolve(algorithm, policy, key) if key else None
        except pol.BadName:
            return None
        return slot.target if slot else None

    # A user's parameter is a setting when its name points somewhere; otherwise, under the
    # name of a preset's source parameter, it changes that parameter's range.
    settings = {t: u for u in user.params.values() if (t := target(u.setting)) is not None}
    replaced = {}  # preset parameter -> the user's parameter in its place
    for name, param in preset.params.items():
        by = user.params.get(name)
        if by is None and not param.source:
            by = settings.get(target(name) or ())
        if by is not None:
            replaced[name] = by
    dropped: dict[str, list[str]] = {}  # the user's parameter -> what it replaced
    kept = []
    for derived in preset.derived:
        by = settings.get(target(derived.key) or ())
        for source in derived.sources:
            if by is None and source in replaced and target(replaced[source].setting):
                by = replaced[source]
        if by is None:
            kept.append(derived)
        else:
            dropped.setdefault(by.name, []).append(derived.key)
    used = {s for d in kept for s in d.sources}
    params: dict[str, SearchParam] = {}
    for name, param in preset.params.items():
        by = replaced.get(name)
        if by is not None and by.name == name:
            feeds = param.source and name in used and target(by.setting) is None
            params[name] = replace(by, source=feeds)
            dropped.setdefault(name, []).insert(0, f"range of {name}" if feeds else name)
        elif by is not None:
            dropped.setdefault(by.name, []).insert(0, name)
        elif not param.source or name in used:
            params[name] = param
        else:
            for what in dropped.values():
                if any(d.key in what for d in preset.derived if name in d.sources):
                    what.append(f"{name} (not sampled)")
                    break
    for name, param in user.params.items():
        params.setdefault(name, param)
    notes = [
        Problem(
            ("search_space", by),
            f"replaces preset {preset.preset}'s {', '.join(what)}",
            "a key beside preset replaces what it names, and what the preset computed from it",
            severity="note",
        )
        for by, what in dropped.items()
    ]
    return SearchSpace(params, tuple(kept), preset.preset), notes
