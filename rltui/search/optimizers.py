"""Samplers and pruners by name, built from a study file's options."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler

from rltui.spec import Problem, Study

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


def make_sampler(study: Study, worker_index: int = 0) -> BaseSampler:
    """The study's sampler for one worker.

    A seeded sampler gets ``seed + worker_index`` so that parallel workers do not propose the
    same parameters; TPE lies about running trials (``constant_liar``) for the same reason.
    """
    spec = study.spec.sampler
    options = dict(spec.options)
    if options.get("seed") is not None:
        options["seed"] = int(options["seed"]) + worker_index
    kind = spec.type
    if kind == "tpe":
        options.setdefault("constant_liar", True)
    if kind == "policy_gradient":
        from rltui.search.samplers import PolicyGradientSampler

        return PolicyGradientSampler(**options)
    if kind == "grid":
        # Grid points are enqueued when the study is published; a grid study's sampler only
        # fills parameters outside the grid, randomly.
        return optuna.samplers.RandomSampler(seed=options.get("seed"))
    return _SAMPLERS[kind](**options)


def make_pruner(study: Study) -> BasePruner:
    spec = study.spec.pruner
    if spec.type == "none":
        return optuna.pruners.NopPruner()
    return _PRUNERS[spec.type](**spec.options)


def check_optimizers(study: Study) -> list[Problem]:
    """Build the sampler and pruner once, so bad option values are reported before any worker
    starts."""
    problems = []
    for key, build in (
        ("sampler", lambda: make_sampler(study)),
        ("pruner", lambda: make_pruner(study)),
    ):
        try:
            build()
        except (TypeError, ValueError) as exc:
            problems.append(Problem((key,), f"Optuna rejected the {key} options: {exc}"))
    return problems
