"""A several-seed trial's value seed by seed (``train.seeds``), from what the worker stored.

The worker keeps every seed's evaluations in the trial's ``rltui:seed_values`` attribute; the
trial's value is the mean over the seeds, taken as the study file's objective says. The trial
detail shows the spread, and ``rltui export`` writes it into ``trials.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna

from rltui.search import attrs
from rltui.spec import StudyFile


@dataclass(frozen=True)
class SeedSpread:
    """A several-seed trial's value seed by seed (``train.seeds``).

    ``values[i]`` is seed ``seeds[i]``'s evaluation(s) at the points the trial's value was
    taken from (the last one, the mean of the last k, or the best point of the mean curve), so
    the mean of ``values`` is the trial's value. ``std`` is their population standard
    deviation, as the training log's ``eval/seed_std``. ``curves`` holds every evaluation of
    each seed, in order.
    """

    seeds: tuple[int, ...]
    values: tuple[float, ...]
    std: float
    curves: tuple[tuple[float, ...], ...]


def seed_spread(seed_values: Any, kind: str, k: int, maximize: bool) -> SeedSpread | None:
    """The spread of a trial's value from its ``rltui:seed_values`` attribute.

    ``seed_values`` maps each seed (as a string, in ``train.seeds`` order) to that seed's
    evaluations. ``kind`` and ``k`` are the study file's objective; a PRUNED trial's value is
    its last evaluation, so pass ``"last"`` for it. None when there is nothing to spread.
    """
    if not isinstance(seed_values, dict) or len(seed_values) < 2:
        return None
    try:
        seeds = tuple(int(seed) for seed in seed_values)
        curves = tuple(tuple(float(v) for v in values) for values in seed_values.values())
    except (TypeError, ValueError):
        return None
    count = min(len(curve) for curve in curves)
    if count == 0:
        return None
    if kind == "mean_last":
        points = list(range(max(0, count - k), count))
    elif kind == "best":
        mean = [sum(curve[i] for curve in curves) / len(curves) for i in range(count)]
        pick = max if maximize else min
        points = [pick(range(count), key=lambda i: mean[i])]
    else:
        points = [count - 1]
    values = tuple(sum(curve[i] for i in points) / len(points) for curve in curves)
    centre = sum(values) / len(values)
    std = (sum((v - centre) ** 2 for v in values) / len(values)) ** 0.5
    return SeedSpread(seeds, values, std, curves)


def trial_spread(trial: optuna.trial.FrozenTrial, study: StudyFile) -> SeedSpread | None:
    """:func:`seed_spread` of a finished trial, under the study file ``study`` it ran with."""
    objective = study.spec.train.objective
    pruned = trial.state == optuna.trial.TrialState.PRUNED
    kind = "last" if pruned else objective.type
    return seed_spread(
        trial.system_attrs.get(attrs.SEED_VALUES),
        kind,
        objective.k,
        study.spec.maximize_reward,
    )
