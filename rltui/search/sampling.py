"""Samplers and pruners by name, built from a study file's options."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any

import numpy as np
import optuna
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler

from rltui.spec import Problem, SearchSpace, StudyFile
from rltui.spec.problems import show_value
from rltui.spec.source import YamlSyntaxError, parse_yaml

_SAMPLERS: dict[str, Any] = {
    "tpe": optuna.samplers.TPESampler,
    "random": optuna.samplers.RandomSampler,
    "cmaes": optuna.samplers.CmaEsSampler,
    "qmc": optuna.samplers.QMCSampler,
    "gp": optuna.samplers.GPSampler,
    "nsgaii": optuna.samplers.NSGAIISampler,
}
_PRUNERS: dict[str, Any] = {
    "median": optuna.pruners.MedianPruner,
    "percentile": optuna.pruners.PercentilePruner,
    "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    "hyperband": optuna.pruners.HyperbandPruner,
    "threshold": optuna.pruners.ThresholdPruner,
    "wilcoxon": optuna.pruners.WilcoxonPruner,
    "none": optuna.pruners.NopPruner,
}


def worker_seed(seed: int, worker_index: int) -> int:
    """The sampler seed of worker ``worker_index`` in a study seeded ``seed``.

    Worker 0 keeps the study's seed, so a one-worker study draws what Optuna's sampler with
    that seed draws. The others get seeds derived from both numbers: with ``seed + index``,
    the studies seeded 1 and 2 shared a worker's draws, so a study repeated over seeds
    repeated half its trials."""
    if worker_index == 0:
        return seed
    state = np.random.SeedSequence([seed % 2**32, worker_index]).generate_state(1)
    return int(state[0])


def make_sampler(study: StudyFile, worker_index: int = 0) -> BaseSampler:
    """The study's sampler for one worker.

    A seeded sampler gets a seed of its own per worker (:func:`worker_seed`) so that parallel
    workers do not propose the same parameters; TPE lies about running trials
    (``constant_liar``) for the same reason.
    """
    spec = study.spec.sampler
    options = dict(spec.options)
    if options.get("seed") is not None:
        options["seed"] = worker_seed(int(options["seed"]), worker_index)
    kind = spec.type
    if kind == "tpe":
        options.setdefault("constant_liar", True)
    if kind == "policy_gradient":
        from rltui.search.samplers import PolicyGradientSampler

        return PolicyGradientSampler(**options)
    if kind == "pbt":
        # A member's first values are drawn at random; later ones come from exploit and
        # explore (rltui.search.pbt), enqueued with the member's next segment.
        return optuna.samplers.RandomSampler(seed=options.get("seed"))
    if kind == "grid":
        # Grid points are enqueued when the study is published; a grid study's sampler only
        # fills parameters outside the grid, randomly.
        return optuna.samplers.RandomSampler(seed=options.get("seed"))
    return _SAMPLERS[kind](**options)


def make_pruner(study: StudyFile) -> BasePruner:
    spec = study.spec.pruner
    if spec.type == "none":
        return optuna.pruners.NopPruner()
    return _PRUNERS[spec.type](**spec.options)


def check_sampler_and_pruner(study: StudyFile) -> list[Problem]:
    """Bad sampler and pruner options, located in the study file, before any worker starts.

    Each option's value is checked against the type its Optuna constructor declares (Optuna
    takes ``n_startup_trials: abc`` without a word and every trial fails later); then the
    sampler and pruner are built once, so that values Optuna refuses are reported too.
    """
    problems = []
    for key, spec, classes in (
        ("sampler", study.spec.sampler, _sampler_classes()),
        ("pruner", study.spec.pruner, _PRUNERS),
    ):
        cls = classes.get(spec.type)
        if cls is not None:
            problems += _option_type_problems(key, spec.type, cls, spec.options)
    for key, build in (
        ("sampler", lambda: make_sampler(study)),
        ("pruner", lambda: make_pruner(study)),
    ):
        if any(p.path[0] == key for p in problems):
            continue  # building would only repeat the type problem less clearly
        try:
            build()
        except (TypeError, ValueError) as exc:
            problems.append(Problem((key,), f"Optuna rejected the {key} options: {exc}"))
    return _placed(study, problems)


def _sampler_classes() -> dict[str, Any]:
    from rltui.search.samplers import PolicyGradientSampler

    # The grid sampler is a random sampler underneath (see make_sampler).
    return {**_SAMPLERS, "policy_gradient": PolicyGradientSampler, "grid": _SAMPLERS["random"]}


# Names in a constructor's annotation that a YAML value can be checked against; an annotation
# naming anything else (a callable, a class) is not checked here.
_YAML_TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "bool": bool,
    "str": str,
    "None": type(None),
}
_TYPE_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def _option_type_problems(key: str, kind: str, cls: Any, options: dict[str, Any]) -> list[Problem]:
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return []
    problems = []
    for name, value in options.items():
        param = params.get(name)
        allowed = _declared_types(param) if param is not None else None
        if not allowed or any(_is(value, t) for t in allowed):
            continue
        wanted = " or ".join(_TYPE_WORDS.get(t, "null") for t in allowed)
        default = param.default if param is not None else inspect.Parameter.empty
        example = "" if default in (inspect.Parameter.empty, None) else f", such as {default!r}"
        names = "|".join(t.__name__ if t is not type(None) else "None" for t in allowed)
        problems.append(
            Problem(
                (key, name),
                f"must be {wanted}, got {show_value(value)}",
                f"the {kind} {key}'s {name} takes {names}{example}",
            )
        )
    return problems


def _declared_types(param: inspect.Parameter) -> tuple[type, ...] | None:
    """``int | None`` -> (int, NoneType) from a parameter's annotation or default; None when
    the annotation names something a YAML value cannot be checked against."""
    annotation = param.annotation
    if annotation is inspect.Parameter.empty:
        default = param.default
        if default is inspect.Parameter.empty or default is None:
            return None
        return (type(default),) if type(default) in _TYPE_WORDS else None
    if isinstance(annotation, str):
        parts = [part.strip() for part in annotation.split("|")]
        if not all(part in _YAML_TYPES for part in parts):
            return None
        return tuple(_YAML_TYPES[part] for part in parts)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
    else:
        members = (annotation,)
    if not all(m in _TYPE_WORDS or m is type(None) for m in members):
        return None
    return tuple(members)


def _is(value: Any, expected: type) -> bool:
    # YAML's true is no number, and a whole number is a fine float.
    if expected is bool or isinstance(value, bool):
        return isinstance(value, bool) and expected is bool
    if expected is float:
        return isinstance(value, int | float)
    return isinstance(value, expected)


def _placed(study: StudyFile, problems: list[Problem]) -> list[Problem]:
    if not problems:
        return problems
    try:
        source = parse_yaml(study.text)
    except YamlSyntaxError:
        return problems
    return [source.place(p) for p in problems]


def suggest_all(
    trial: optuna.Trial,
    space: SearchSpace | Mapping[str, optuna.distributions.BaseDistribution],
) -> dict[str, Any]:
    """Ask the sampler for every searched parameter (fixed values of enqueued trials win).

    Given the whole :class:`SearchSpace`, a parameter whose range depends on one sampled
    before it (a preset's DQN subsample_steps: 1..min(train_freq, 8)) gets the range that
    value makes, as rl-baselines3-zoo samples it; given only the distributions, its widest.
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    params: dict[str, Any] = {}
    distributions = space.distributions if isinstance(space, SearchSpace) else space
    for name, dist in distributions.items():
        if isinstance(space, SearchSpace):
            dist = space.distribution_given(name, params)
        if isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
    return params
