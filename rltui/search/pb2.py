"""PB2's explore (Parker-Holder et al., 2020): new values for a member that exploited, chosen
by a Gaussian-process bandit instead of at random.

Every finished segment is one observation: where it was in training (its start over the
budget) and the values it trained with, against how much it gained (its value minus the value
of the segment it started from). A Gaussian process fitted to those predicts the gain of any
values at the time now; the member takes the values with the highest upper confidence bound
(mean plus ``beta`` standard deviations) among random candidates inside the search space. So
values that gained before are tried again, and values nobody tried yet get their chance.

The numeric parameters that may change are chosen so (a log range on its log scale); the rest
(lists of choices) are perturbed as PBT does. With fewer than :data:`MIN_DATA` observations
there is nothing to learn from yet, and every parameter is perturbed as PBT does.
Pure Python and NumPy; the Gaussian process is a plain one (an RBF kernel on values scaled to
[0, 1], noise fitted from the data's spread), as PB2's own is, small enough for a few hundred
segments.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from rltui.search import pbt
from rltui.search.segments import Settings, segment_of

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

MIN_DATA = 4  # observations before the bandit chooses
CANDIDATES = 1000  # random points the acquisition is maximised over
LENGTH_SCALE = 0.3  # of the RBF kernel, on values scaled to [0, 1]
BETA = 2.0  # standard deviations of optimism
LATEST = 200  # newest observations kept: the fit is cubic in their number


def explore(
    params: dict[str, Any],
    distributions: Mapping[str, BaseDistribution],
    mutable: frozenset[str],
    settings: Settings,
    rng: random.Random,
    trials: list[FrozenTrial],
    *,
    now: int,
    total: int,
) -> tuple[dict[str, Any], dict[str, str]]:
    """``params`` with the numeric mutable ones chosen by the bandit at timestep ``now`` (the
    rest as :func:`rltui.search.pbt.perturb` does), and what became of each."""
    numeric = sorted(n for n in mutable & params.keys() if _numeric(distributions.get(n)))
    data = observations(trials, numeric, distributions, total)
    rest = frozenset(mutable - set(numeric)) if len(data[0]) >= MIN_DATA else mutable
    out, told = pbt.perturb(params, distributions, rest, settings, rng)
    if len(data[0]) < MIN_DATA or not numeric:
        return out, told
    x, y = data
    seed = rng.randrange(2**32)
    best = _choose(x, y, now / max(total, 1), len(numeric), np.random.default_rng(seed))
    for name, unit in zip(numeric, best, strict=True):
        out[name] = _from_unit(distributions[name], float(unit))
        told[name] = f"pb2 {_shown(params[name])} -> {_shown(out[name])}"
    return out, told


def observations(
    trials: list[FrozenTrial],
    names: list[str],
    distributions: Mapping[str, BaseDistribution],
    total: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: each finished segment's [start / total, its values scaled to [0, 1]] and
    what it gained over the segment it started from; the newest :data:`LATEST`."""
    from optuna.trial import TrialState

    values = {t.number: t.value for t in trials if t.state == TrialState.COMPLETE}
    rows, gains = [], []
    for trial in sorted(trials, key=lambda t: t.number):
        segment = segment_of(trial)
        if segment is None or trial.number not in values or segment.parent is None:
            continue
        before, after = values.get(segment.parent), values[trial.number]
        if before is None or after is None or not all(n in trial.params for n in names):
            continue
        if not (math.isfinite(before) and math.isfinite(after)):
            continue
        scaled = [_to_unit(distributions[n], float(trial.params[n])) for n in names]
        rows.append([segment.start / max(total, 1), *scaled])
        gains.append(after - before)
    x = np.array(rows[-LATEST:], dtype=float).reshape(-1, len(names) + 1)
    return x, np.array(gains[-LATEST:], dtype=float)


def _choose(x: np.ndarray, y: np.ndarray, time: float, dims: int, gen: Any) -> np.ndarray:
    """The values (scaled to [0, 1]) with the highest upper confidence bound at ``time``."""
    spread = float(y.std()) or 1.0
    target = (y - y.mean()) / spread
    noise = 0.1  # of the standardised gains: segments' results are noisy evaluations
    kernel = _rbf(x, x) + noise * np.eye(len(x))
    factor = np.linalg.cholesky(kernel)
    alpha = np.linalg.solve(factor.T, np.linalg.solve(factor, target))
    candidates = np.column_stack([np.full(CANDIDATES, time), gen.random((CANDIDATES, dims))])
    cross = _rbf(candidates, x)
    mean = cross @ alpha
    v = np.linalg.solve(factor, cross.T)
    variance = np.clip(1.0 - np.sum(v * v, axis=0), 1e-12, None)
    ucb = mean + BETA * np.sqrt(variance)
    best: np.ndarray = candidates[int(np.argmax(ucb)), 1:]
    return best


def _rbf(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    distance = np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1)
    kernel: np.ndarray = np.exp(-0.5 * distance / LENGTH_SCALE**2)
    return kernel


def _numeric(dist: Any) -> bool:
    from optuna.distributions import FloatDistribution, IntDistribution

    return isinstance(dist, FloatDistribution | IntDistribution) and dist.high > dist.low


def _to_unit(dist: Any, value: float) -> float:
    low, high, value = float(dist.low), float(dist.high), min(max(value, dist.low), dist.high)
    if dist.log:
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (value - low) / (high - low)


def _from_unit(dist: Any, unit: float) -> Any:
    from optuna.distributions import IntDistribution

    low, high = float(dist.low), float(dist.high)
    if dist.log:
        value = math.exp(math.log(low) + unit * (math.log(high) - math.log(low)))
    else:
        value = low + unit * (high - low)
    value = pbt.inside(dist, value)
    return round(value) if isinstance(dist, IntDistribution) else value


def _shown(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
