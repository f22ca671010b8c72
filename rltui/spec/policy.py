"""Policy options and dotted names: what each policy class accepts, and where a name points.

Policy options are given flat (``net_arch: small``), in a ``policy_kwargs`` mapping, or as
rl-baselines3-zoo writes them, a string ``"dict(net_arch=[64, 64], activation_fn=nn.ReLU)"``
that is read by a small parser of literals (never evaluated). A dotted name reaches inside a
value, as Hydra writes nested keys: ``policy_kwargs.ortho_init``, ``net_arch.pi``,
``clip_range.start`` (a part of a schedule), ``optimizer_kwargs.eps``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rltui.spec import algorithms as algos
from rltui.spec import limits
from rltui.spec.model import TrainSpec
from rltui.spec.problems import KeyPath, Problem, did_you_mean, show_value
from rltui.spec.schedules import SCHEDULE_KEYS
from rltui.spec.zoo import LiteralError, parse_zoo

# Policy keyword arguments, by algorithm and policy name (the ``policy_aliases`` of its class),
# compared with each policy class's signature by a test. Arguments that need Python objects
# (features_extractor_class, ...) are left out, and so is use_sde: the algorithm passes its
# own on to the policy.
_OPTIMIZER = frozenset({"normalize_images", "optimizer_class", "optimizer_kwargs"})
_ACTOR_CRITIC = _OPTIMIZER | {
    "net_arch",
    "activation_fn",
    "ortho_init",
    "log_std_init",
    "full_std",
    "use_expln",
    "squash_output",
    "share_features_extractor",
}
_Q_NET = _OPTIMIZER | {"net_arch", "activation_fn"}
_TD3 = _Q_NET | {"n_critics", "share_features_extractor"}
_SAC = _TD3 | {"log_std_init", "use_expln", "clip_mean"}
_LSTM = {"lstm_hidden_size", "n_lstm_layers", "shared_lstm", "enable_critic_lstm", "lstm_kwargs"}
_BATCH_NORM = {"batch_norm", "batch_norm_momentum", "batch_norm_eps", "renorm_warmup_steps"}
_SB3 = ("MlpPolicy", "CnnPolicy", "MultiInputPolicy")
_SB3_LSTM = ("MlpLstmPolicy", "CnnLstmPolicy", "MultiInputLstmPolicy")

POLICY_ARGS: dict[str, dict[str, frozenset[str]]] = {
    "ppo": dict.fromkeys(_SB3, _ACTOR_CRITIC),
    "a2c": dict.fromkeys(_SB3, _ACTOR_CRITIC),
    "dqn": dict.fromkeys(_SB3, _Q_NET),
    "sac": dict.fromkeys(_SB3, _SAC),
    "td3": dict.fromkeys(_SB3, _TD3),
    "ddpg": dict.fromkeys(_SB3, _TD3),
    "tqc": dict.fromkeys(_SB3, _SAC | {"n_quantiles"}),
    "qrdqn": dict.fromkeys(_SB3, _Q_NET | {"n_quantiles"}),
    "trpo": dict.fromkeys(_SB3, _ACTOR_CRITIC),
    "ars": {
        "MlpPolicy": frozenset({"net_arch", "activation_fn", "with_bias", "squash_output"}),
        "LinearPolicy": frozenset({"with_bias", "squash_output"}),
    },
    "recurrentppo": dict.fromkeys(_SB3_LSTM, _ACTOR_CRITIC | _LSTM),
    "crossq": {"MlpPolicy": _SAC | _BATCH_NORM},
}
# The networks a ``net_arch`` mapping sizes: an actor-critic's policy and value networks, an
# off-policy actor-critic's policy and Q-networks. A lone Q-network (DQN) or ARS's policy
# takes a list only.
_PI_VF, _PI_QF = ("pi", "vf"), ("pi", "qf")
NET_ARCH_NETWORKS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("ppo", "a2c", "trpo", "recurrentppo"), _PI_VF),
    **dict.fromkeys(("sac", "td3", "ddpg", "tqc", "crossq"), _PI_QF),
    **dict.fromkeys(("dqn", "qrdqn", "ars"), ()),
}
NETWORK_WORDS = {"pi": "the policy", "vf": "the value function", "qf": "the Q-functions"}
# Policy arguments whose value is a mapping of keyword arguments, handed on as it is.
KWARGS_MAPPINGS = frozenset({"optimizer_kwargs", "lstm_kwargs"})
POLICY_KWARGS = "policy_kwargs"


def policy_names(algorithm: str) -> tuple[str, ...]:
    """The policies ``algorithm`` can be trained with, its default first."""
    return tuple(POLICY_ARGS[algorithm])


def policy_of(train: TrainSpec) -> str:
    """The policy a study trains: ``train.policy`` when the file sets it, else the algorithm's
    first (MlpPolicy; RecurrentPPO's MlpLstmPolicy)."""
    if "policy" in train.model_fields_set or train.algorithm not in POLICY_ARGS:
        return train.policy
    return policy_names(train.algorithm)[0]


def policy_args(algorithm: str, policy: str | None = None) -> frozenset[str]:
    """The options of ``policy`` (an unknown one: of the algorithm's default policy)."""
    policies = POLICY_ARGS[algorithm]
    return policies.get(policy or "") or next(iter(policies.values()))


def accepted_hyperparameters(algorithm: str, policy: str | None = None) -> frozenset[str]:
    """Every top-level key a study may set or search for ``algorithm`` trained with
    ``policy`` (lower-case algorithm name; the default policy when None)."""
    return (
        algos.ALGORITHM_ARGS[algorithm]
        | policy_args(algorithm, policy)
        | algos.EXTRA_ARGS[algorithm]
        | {POLICY_KWARGS}
    )


@dataclass(frozen=True)
class Slot:
    """Where a hyperparameter's name points. ``name`` is the argument whose values are checked;
    ``part`` is empty for its whole value, else a part of it (``start`` of a schedule, ``pi``
    of net_arch, an entry of optimizer_kwargs). ``target`` is where the value lands in what
    the training layer builds: ``("policy", "net_arch", "pi")``, ``("args", "clip_range")``."""

    name: str
    part: str = ""
    target: tuple[str, ...] = ()


class BadName(Exception):
    """A dotted name that points nowhere; ``message`` and ``hint`` say why."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


def resolve(algorithm: str, policy: str | None, name: str) -> Slot | None:
    """Where ``name`` points for ``algorithm`` and ``policy``; None for an unknown top-level
    name (reported with its own did-you-mean); :class:`BadName` for a dotted one that
    points nowhere."""
    head, *rest = name.split(".")
    if not all((head, *rest)):
        raise BadName(f"'{name}' has an empty part", "write parts as policy_kwargs.ortho_init")
    options = policy_args(algorithm, policy)
    if head == POLICY_KWARGS:
        if not rest:
            return Slot(POLICY_KWARGS, target=("policy",))
        key, *rest = rest
        if key not in options:
            raise BadName(*not_an_option(algorithm, policy, key))
        return _inside(algorithm, key, rest, ("policy", key))
    if head not in accepted_hyperparameters(algorithm, policy):
        return None
    target = ("policy", head) if head in options else ("args", head)
    return _inside(algorithm, head, rest, target)


def _inside(algorithm: str, name: str, rest: list[str], target: tuple[str, ...]) -> Slot:
    if not rest:
        return Slot(name, target=target)
    part = rest[0]
    if name in algos.SCHEDULABLE[algorithm]:
        parts: tuple[str, ...] = SCHEDULE_KEYS
    elif name == "net_arch":
        parts = NET_ARCH_NETWORKS[algorithm]
    else:
        parts = ()
    if len(rest) == 1 and (part in parts or (name in KWARGS_MAPPINGS and part.isidentifier())):
        return Slot(name, part, (*target, part))
    inner = ".".join(rest)
    if parts:
        guess = did_you_mean(part, parts)
        hint = f"did you mean '{name}.{guess}'?" if guess else f"its parts: {', '.join(parts)}"
    elif name == "net_arch":
        hint = f"{algos.display_name(algorithm)} takes one list of layer sizes, e.g. [64, 64]"
    else:
        hint = f"{name} is one value: set it as {name}"
    raise BadName(f"'{name}' has no part '{inner}'", hint)


def not_an_option(algorithm: str, policy: str | None, key: str) -> tuple[str, str]:
    options = policy_args(algorithm, policy)
    policy = policy if policy in POLICY_ARGS[algorithm] else policy_names(algorithm)[0]
    message = f"{algos.display_name(algorithm)}'s {policy} has no option '{key}'"
    guess = did_you_mean(key, options)
    if guess:
        return message, f"did you mean '{guess}'?"
    if key in algos.ALGORITHM_ARGS[algorithm] or key in algos.EXTRA_ARGS[algorithm]:
        return message, f"'{key}' is an argument of the algorithm: set it as {key}"
    return message, f"its options: {', '.join(sorted(options))}"


def nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """Flat values, dotted names and all, folded into nested mappings:
    ``{"clip_range": {"schedule": "linear"}, "clip_range.start": 0.3}`` ->
    ``{"clip_range": {"schedule": "linear", "start": 0.3}}``. A ``policy_kwargs`` string is
    read first. Values of a checked study never collide; the deeper name wins otherwise."""
    out: dict[str, Any] = {}
    for name in sorted(values, key=lambda n: n.count(".")):  # whole values before their parts
        value = values[name]
        if name == POLICY_KWARGS and isinstance(value, str):
            value = parse_zoo(value)
        *outer, last = name.split(".")
        here = out
        for key in outer:
            inner = here.get(key)
            here[key] = inner = dict(inner) if isinstance(inner, Mapping) else {}
            here = inner
        here[last] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class Given:
    """A hyperparameter as a study gives it: its name, where, where it points, and the values
    it may take in a trial (a fixed value, the choices, or the ends of a range)."""

    name: str
    path: KeyPath
    slot: Slot
    values: tuple[Any, ...]


def overlap_problems(given: list[Given]) -> list[Problem]:
    """Names that set the same thing twice: ``net_arch`` beside ``policy_kwargs.net_arch``,
    ``clip_range: 0.2`` beside ``clip_range.start``. Both would have to win: neither does.
    One exception: a searched name that sets exactly what a fixed one (``given`` before it)
    sets wins over it, with a note (see :func:`rltui.spec.space.without_searched`)."""
    problems = []
    exact: dict[tuple[str, ...], Given] = {}
    deeper: dict[tuple[str, ...], Given] = {}  # proper prefixes of what is set
    wholes: dict[tuple[str, ...], Given] = {}  # where each name points
    for entry in given:
        targets = _targets(entry)
        whole = wholes.setdefault(entry.slot.target, entry)
        if whole is entry:  # or a fixed mapping gives what this one gives whole
            whole = exact.get(entry.slot.target, entry)
        replacing = whole.name != entry.name and whole.path[0] != entry.path[0]
        if replacing:
            problems.append(_searched_over(entry, whole))  # a whole value for a whole value
        for target in [] if replacing else targets:
            above = (exact.get(target[:i]) for i in range(1, len(target)))
            same = exact.get(target)
            other = same or deeper.get(target) or next(filter(None, above), None)
            if other is None or other.name == entry.name:
                continue
            if other is same and other.path[0] != entry.path[0]:
                problems.append(_searched_over(entry, other))
            else:
                problems.append(_overlap(entry, other, target))
            break
        for target in targets:
            exact.setdefault(target, entry)
            for i in range(1, len(target)):
                deeper.setdefault(target[:i], entry)
    return problems


def _searched_over(entry: Given, other: Given) -> Problem:
    return Problem(
        entry.path,
        f"'{entry.name}' is searched, so '{other.name}' in hyperparameters is not used",
        "the search wins; remove one of the two to say it once",
        severity="note",
    )


def _targets(entry: Given) -> list[tuple[str, ...]]:
    """Where ``entry`` sets values: one place, or one per key of a mapping it gives whole."""
    slot = entry.slot
    if slot.part:
        return [slot.target]
    keys: list[str] = []
    for value in entry.values:
        if slot.name == POLICY_KWARGS and isinstance(value, str):
            try:
                value = parse_zoo(value)
            except LiteralError:
                continue  # reported with the value
        if not isinstance(value, Mapping):
            # A policy_kwargs that is no mapping is reported with its value; it sets nothing.
            return [] if slot.name == POLICY_KWARGS else [slot.target]
        keys += [str(key) for key in value if str(key) not in keys]
    return [(*slot.target, key) for key in keys]


def _overlap(entry: Given, other: Given, target: tuple[str, ...]) -> Problem:
    what = ".".join(target[1:])
    if entry.name.startswith(POLICY_KWARGS) != other.name.startswith(POLICY_KWARGS):
        hint = "a policy option goes either flat or in policy_kwargs: keep one of the two"
    elif len(other.slot.target) < len(target) and not other.slot.part:
        example = f" (e.g. {other.name}: {{schedule: linear}})" if target[0] == "args" else ""
        hint = (
            f"'{other.name}' gives all of it: give it as a mapping of its other parts"
            f"{example}, or remove it"
        )
    else:
        hint = "set it in one place only"
    return Problem(entry.path, f"'{entry.name}' and '{other.name}' both set {what}", hint)


def net_arch_problem(
    algorithm: str, value: Any, path: KeyPath, nested: bool = False
) -> Problem | None:
    """What is wrong with a ``net_arch`` value: a preset name, one layer size, a list of them,
    or (at the top) a mapping of those per network (``{pi: small, qf: [64, 64]}``)."""
    if isinstance(value, str):
        if value in algos.NET_ARCH_PRESETS:
            return None
        guess = did_you_mean(value, algos.NET_ARCH_PRESETS)
        return Problem(
            path,
            f"{show_value(value)} is not a net_arch preset",
            f"did you mean '{guess}'?"
            if guess
            else f"use a list of layer sizes or one of {', '.join(algos.NET_ARCH_PRESETS)}",
        )
    if isinstance(value, Mapping) and not nested:
        return _networks_problem(algorithm, value, path)
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping) and not nested:
        # SB3 before 1.8 took [dict(pi=..., vf=...)], and rl-baselines3-zoo's files still do;
        # SB3 reads it as the mapping, and so does rltui.
        found = _networks_problem(algorithm, value[0], (*path, 0))
        return found or Problem(
            path,
            "net_arch is a list holding a mapping, as SB3 before 1.8 took it: read as the mapping",
            "write the mapping without the list around it, e.g. {pi: [64], vf: [64]}",
            severity="warning",
        )
    layers = value if isinstance(value, list) else [value]
    if len(layers) > limits.MAX_LAYERS:
        return Problem(
            path,
            f"{len(layers):,} hidden layers",
            f"a network has at most {limits.MAX_LAYERS} layers here",
        )
    bound = limits.SIZES["net_arch"]
    for index, units in enumerate(layers):
        where = (*path, index) if isinstance(value, list) else path
        number = isinstance(units, int | float) and not isinstance(units, bool)
        if number and units > bound.most:
            return Problem(
                where, f"a layer of {_units(units)} units is too large", bound.hint("a layer")
            )
        if isinstance(units, Mapping):
            return Problem(
                where,
                "layers shared by the networks before a mapping were removed in SB3 1.8",
                "give each network all its layers, e.g. net_arch: {pi: [64, 64], vf: [64, 64]}",
            )
        if not isinstance(units, int) or isinstance(units, bool):
            example = "e.g. net_arch: [64, 64], or a preset such as small"
            if isinstance(units, float) and units.is_integer():
                example = f"write {int(units)}"
            message = f"a layer size must be a whole number, got {show_value(units)}"
            return Problem(where, message, example)
        if units <= 0:
            return Problem(where, "a layer size must be above 0")
    return None


def _networks_problem(algorithm: str, value: Mapping[str, Any], path: KeyPath) -> Problem | None:
    networks = NET_ARCH_NETWORKS[algorithm]
    name = algos.display_name(algorithm)
    for key in value:
        if key not in NETWORK_WORDS:
            guess = did_you_mean(str(key), networks or NETWORK_WORDS)
            names = ", ".join(f"{k} ({NETWORK_WORDS[k]})" for k in networks or NETWORK_WORDS)
            hint = f"did you mean '{guess}'?" if guess else f"use {names}"
            return Problem((*path, key), f"'{key}' is not a network of net_arch", hint)
    for key, part in value.items():
        if not networks:
            return Problem(
                path,
                f"{name} has one network: its net_arch is a list of layer sizes",
                "e.g. net_arch: [64, 64]",
            )
        if key not in networks:
            names = " and ".join(f"{k} ({NETWORK_WORDS[k]})" for k in networks)
            return Problem(
                (*path, key), f"{name}'s net_arch has no network '{key}'", f"use {names}"
            )
        found = net_arch_problem(algorithm, part, (*path, key), nested=True)
        if found is not None:
            return found
    return None


def _units(value: float) -> str:
    whole = isinstance(value, float) and value.is_integer()
    return f"{int(value):,}" if whole or isinstance(value, int) else str(value)
