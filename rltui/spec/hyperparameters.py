"""Checking hyperparameters: names the algorithm takes, and values it can use.

Every value a trial could receive is checked here — fixed ones, grid values, categorical
choices and the ends of numeric ranges — against :data:`rltui.spec.algorithms.ARG_KINDS`, so
that ``gamma: interval(0.9, 1.2)`` is an error in the editor rather than a failed trial.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution

from rltui.spec import algorithms as algos
from rltui.spec import limits
from rltui.spec.algorithms import ArgKind
from rltui.spec.grammar import coerce_scalar
from rltui.spec.model import StudySpec
from rltui.spec.problems import KeyPath, Problem, did_you_mean, show_value
from rltui.spec.space import SearchSpace

_PER_PARAMETER = 5  # problems listed for the values of one parameter: the rest are alike
NAMED_VALUES: dict[str, tuple[str, ...]] = {
    "activation_fn": algos.ACTIVATIONS,
    "optimizer_class": algos.OPTIMIZERS,
    "action_noise": algos.ACTION_NOISES,
    "learning_rate_schedule": algos.LR_SCHEDULES,
}


def check_hyperparameters(spec: StudySpec, space: SearchSpace) -> list[Problem]:
    """Names the algorithm does not take, and values it cannot use, fixed or searched."""
    algorithm = spec.train.algorithm
    assert algorithm is not None
    accepted = algos.accepted_hyperparameters(algorithm)
    problems = _unknown_names(algorithm, spec, accepted)
    for name, value in spec.hyperparameters.items():
        if name in accepted:
            problems += _value_problems(algorithm, name, value, ("hyperparameters", name))
    for name, param in space.params.items():
        if name not in accepted:
            continue
        raw = spec.search_space.get(name)
        path: KeyPath = ("search_space", name)
        if param.is_fixed:
            problems += _value_problems(algorithm, name, param.fixed, path)
        elif param.grid is not None:
            mapped = isinstance(raw, Mapping)
            found: list[Problem] = []
            for index, value in enumerate(param.grid):
                where = (*path, "grid_search", index) if mapped else path
                found += _value_problems(algorithm, name, value, where)
                if len(found) >= _PER_PARAMETER:
                    break
            problems += found
        elif param.distribution is not None:
            problems += _distribution_problems(algorithm, name, param.distribution, path, raw)
    return problems


def check_value(algorithm: str, name: str, value: Any, path: KeyPath) -> Problem | None:
    """The first thing wrong with ``value`` for ``name``, or None (also for unknown names)."""
    if name not in algos.accepted_hyperparameters(algorithm):
        return None
    found = _value_problems(algorithm, name, value, path)
    return found[0] if found else None


def describe(kind: ArgKind) -> str:
    """``a whole number of at least 1, or [n, step|episode]``: what ``kind`` accepts."""
    if kind.type is bool:
        text = "true or false"
    else:
        noun = "a whole number" if kind.type is int else "a number"
        low, high = _num(kind.low), _num(kind.high)
        if kind.low is not None and kind.high is not None:
            above = f"{noun} above {low} and at most {high}"
            text = above if kind.above else f"{noun} from {low} to {high}"
        elif kind.low is not None:
            text = f"{noun} above {low}" if kind.above else f"{noun} of at least {low}"
        elif kind.high is not None:
            text = f"{noun} of at most {high}"
        else:
            text = noun
    extras = [f"[n, {'|'.join(kind.units)}]"] if kind.units else []
    extras += [repr(w) for w in kind.words]
    extras += [kind.word_help] if kind.word_help else []
    extras += ["null"] if kind.null else []
    return ", or ".join([text, *extras])


def _unknown_names(algorithm: str, spec: StudySpec, accepted: frozenset[str]) -> list[Problem]:
    problems = []
    for section, names in (
        ("hyperparameters", spec.hyperparameters),
        ("search_space", spec.search_space),
    ):
        for name in names:
            if name in accepted:
                continue
            guess = did_you_mean(name, accepted)
            others = [a for a in algos.ALGORITHM_ARGS if name in algos.accepted_hyperparameters(a)]
            if guess:
                hint = f"did you mean '{guess}'?"
            else:
                hint = f"it belongs to {', '.join(others)}" if others else "see the README's list"
            problems.append(
                Problem(
                    (section, name), f"{algorithm.upper()} has no hyperparameter '{name}'", hint
                )
            )
    return problems


def _value_problems(algorithm: str, name: str, value: Any, path: KeyPath) -> list[Problem]:
    named = _named_value_problem(name, value, path)
    if named is not None:
        return [named]
    kind = algos.arg_kind(algorithm, name)
    if kind is None or _fits(name, kind, value):
        return []
    if kind.units and isinstance(value, list):
        return [_pair_problem(name, kind, value, path)]
    message = f"must be {describe(kind)}, got {show_value(value)}"
    return [Problem(path, message, _hint(name, kind, value))]


def _named_value_problem(name: str, value: Any, path: KeyPath) -> Problem | None:
    if name in NAMED_VALUES and value not in NAMED_VALUES[name]:
        guess = did_you_mean(str(value), NAMED_VALUES[name])
        return Problem(
            path,
            f"'{value}' is not a known {name}",
            f"did you mean '{guess}'?" if guess else f"use one of {', '.join(NAMED_VALUES[name])}",
        )
    if name == "net_arch":
        return _net_arch_problem(value, path)
    return None


_NETWORKS = {"pi": "the policy", "vf": "the value function", "qf": "the Q-function"}


def _net_arch_problem(value: Any, path: KeyPath, nested: bool = False) -> Problem | None:
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
    if isinstance(value, dict) and not nested:
        for key, part in value.items():
            if key not in _NETWORKS:
                guess = did_you_mean(key, _NETWORKS)
                names = ", ".join(f"{k} ({what})" for k, what in _NETWORKS.items())
                hint = f"did you mean '{guess}'?" if guess else f"use {names}"
                return Problem((*path, key), f"'{key}' is not a network of net_arch", hint)
            found = _net_arch_problem(part, (*path, key), nested=True)
            if found is not None:
                return found
        return None
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
                where, f"a layer of {_num(units)} units is too large", bound.hint("a layer")
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


def _fits(name: str, kind: ArgKind, value: Any) -> bool:
    if value is None:
        return kind.null
    if isinstance(value, bool):
        return kind.type is bool
    if isinstance(value, str):
        pattern = kind.word_pattern
        return value in kind.words or bool(pattern and re.fullmatch(pattern, value))
    if isinstance(value, list):
        return (
            bool(kind.units)
            and len(value) == 2
            and _fits(name, ArgKind(kind.type, low=kind.low), value[0])
            and value[1] in kind.units
        )
    if not isinstance(value, int | float) or kind.type is bool:
        return False
    whole = isinstance(value, int) or (
        name in algos.CAST_TO_INT and math.isfinite(value) and value.is_integer()
    )
    if kind.type is int and not whole:
        return False
    return _in_range(kind, value)


def _in_range(kind: ArgKind, value: float) -> bool:
    if math.isnan(value):
        return False
    if kind.low is not None and (value <= kind.low if kind.above else value < kind.low):
        return False
    return kind.high is None or value <= kind.high


def _hint(name: str, kind: ArgKind, value: Any) -> str:
    bound = limits.SIZES.get(name)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if bound is not None and kind.high is not None and numeric and value > kind.high:
        return bound.hint(name)
    if isinstance(value, str):
        number = coerce_scalar(value)
        if number != value and _fits(name, kind, number):
            return "write it without quotes"
        guess = did_you_mean(value, kind.words)
        if guess:
            return f"did you mean '{guess}'?"
    return f"e.g. {name}: {show_value(kind.example)}"


def _pair_problem(name: str, kind: ArgKind, value: list[Any], path: KeyPath) -> Problem:
    units = "|".join(kind.units)
    if len(value) != 2:
        return Problem(
            path,
            f"{name} as a list needs two items, [n, {units}]",
            f"e.g. [{kind.example}, {kind.units[0]}]",
        )
    count, unit = value
    if not _fits(name, ArgKind(kind.type, low=kind.low), count):
        return Problem(
            (*path, 0),
            f"the count of {name} must be {describe(ArgKind(kind.type, low=kind.low))}, "
            f"got {show_value(count)}",
            f"e.g. [{kind.example}, {kind.units[0]}]",
        )
    guess = did_you_mean(str(unit), kind.units)
    return Problem(
        (*path, 1),
        f"{show_value(unit)} is not a unit of {name}",
        f"did you mean '{guess}'?" if guess else f"use one of {', '.join(kind.units)}",
    )


def _distribution_problems(
    algorithm: str, name: str, dist: BaseDistribution, path: KeyPath, raw: Any
) -> list[Problem]:
    mapped = isinstance(raw, Mapping)
    if name == "net_arch" and not isinstance(dist, CategoricalDistribution):
        # A searched number is one layer of that many units (see rltui.train.hyperparams).
        for end in (getattr(dist, "low", 0), getattr(dist, "high", 0)):
            whole = isinstance(end, float) and end.is_integer() and abs(end) < 1e15
            found = _net_arch_problem(int(end) if whole else end, path)
            if found is not None:
                return [found]
        return []
    if isinstance(dist, CategoricalDistribution):
        problems = []
        for index, choice in enumerate(dist.choices):
            where = (*path, "choices", index) if mapped and "choices" in raw else path
            problems += _value_problems(algorithm, name, choice, where)
            if len(problems) >= _PER_PARAMETER:
                break
        return problems
    kind = algos.arg_kind(algorithm, name)
    if kind is None:
        return []
    if kind.type is bool:
        return [Problem(path, f"{name} is true or false", "search it with choice(true, false)")]
    low, high = getattr(dist, "low", None), getattr(dist, "high", None)
    if kind.type is int and isinstance(dist, FloatDistribution) and not _whole_steps(name, dist):
        return [
            Problem(
                path,
                f"{name} takes whole numbers, but this range samples fractions",
                f"use int(interval({_num(low)}, {_num(high)})) or "
                f"{{type: int, low: {_num(low)}, high: {_num(high)}}}",
            )
        ]
    numeric = isinstance(kind.example, int | float) and not isinstance(kind.example, bool)
    hint = f"narrow the range, e.g. around {kind.example}" if numeric else "narrow the range"
    problems = []
    for end, value in (("low", low), ("high", high)):
        if value is not None and not _in_range(kind, value):
            problems.append(
                Problem(
                    (*path, end) if mapped and end in raw else path,
                    f"the search reaches {_num(value)}, but {name} must be {describe(kind)}",
                    _hint(name, kind, value) if end == "high" and name in limits.SIZES else hint,
                )
            )
    return problems


def _whole_steps(name: str, dist: FloatDistribution) -> bool:
    # A float range on a grid of whole numbers only ever proposes whole floats, which the
    # training layer turns into ints for the arguments in CAST_TO_INT.
    step = dist.step
    return (
        name in algos.CAST_TO_INT
        and step is not None
        and float(step).is_integer()
        and float(dist.low).is_integer()
    )


def _num(value: float | None) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"  # 1,000,000: a bound the reader takes in at a glance
    return str(value)
