"""The policy-gradient sampler's policy and its REINFORCE update (pure functions of trials)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

Numeric = FloatDistribution | IntDistribution
_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8
# The mean's Adam step is this many times learning_rate, in units of the current std: a
# mean lagging behind a shrinking std stalls the search (tuned on bench/sampler_accuracy.py).
_MEAN_STEP = 4.0
_ADV_CLIP = 3.0  # clip normalised advantages: one outlier must not dominate a batch
# Trust region of the categorical step: no choice's log-probability moves by more than this
# in one update (as PPO clips the probability ratio). Without it, one lucky draw of a rare
# choice (whose natural-gradient step grows as 1 / probability) takes the whole policy.
_CAT_TRUST = 2.0


@dataclass
class Param:
    """Learnable policy of one parameter: logits, or [mean, log_std] in unit coordinates."""

    dist: BaseDistribution
    theta: np.ndarray
    m: np.ndarray  # Adam first moment (numeric parameters)
    v: np.ndarray  # Adam second moment (numeric parameters)
    t: int = 0  # Adam step count (per parameter: parameters can appear late)


@dataclass
class Policy:
    """Policy state after replaying some number of batches of finished trials."""

    params: dict[str, Param] = field(default_factory=dict)
    baseline: float | None = None
    n_updates: int = 0


@dataclass
class Record:
    """A finished trial as the update sees it: its parameters and signed objective."""

    number: int
    params: dict[str, Any]
    dists: dict[str, BaseDistribution]
    reward: float


@dataclass(frozen=True)
class UpdateRule:
    """The sampler options that shape the policy (all of them but the seed)."""

    learning_rate: float
    baseline_decay: float
    init_std: float
    min_std: float
    min_prob: float


def to_unit(dist: Numeric, value: float) -> float:
    """Map a value of a numeric distribution into [0, 1] (log-scaled for ``log=True``)."""
    if dist.log:
        return (math.log(value) - math.log(dist.low)) / (math.log(dist.high) - math.log(dist.low))
    return (value - dist.low) / (dist.high - dist.low)


def from_unit(dist: Numeric, u: float) -> float | int:
    """Inverse of :func:`to_unit`, clipped into range and rounded onto the ``step`` grid."""
    u = min(max(float(u), 0.0), 1.0)
    lo, hi = dist.low, dist.high
    if dist.log:
        x = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    else:
        x = lo + u * (hi - lo)
    if dist.step is not None:
        x = lo + round((x - lo) / dist.step) * dist.step
    x = min(max(x, lo), hi)
    return round(x) if isinstance(dist, IntDistribution) else float(x)


def softmax(z: np.ndarray) -> np.ndarray:
    """Probabilities from logits."""
    e = np.exp(z - z.max())
    return e / e.sum()


def new_param(dist: BaseDistribution, rule: UpdateRule) -> Param:
    """The initial policy of a parameter: uniform choices, or a centred Gaussian."""
    if isinstance(dist, CategoricalDistribution):
        theta = np.zeros(len(dist.choices))
    else:
        theta = np.array([0.5, math.log(rule.init_std)])
    return Param(dist, theta, np.zeros_like(theta), np.zeros_like(theta))


def update(policy: Policy, batch: list[Record], history: list[Record], rule: UpdateRule) -> None:
    """One REINFORCE step on ``policy`` from ``batch``; ``history`` ends with it."""
    # Reward = quantile of the signed objective among all trials so far: scale-free (the
    # objective's scale shrinks by orders of magnitude as the search converges) and robust
    # to outliers and infinities, so the moving-average baseline stays meaningful.
    seen = np.sort([rec.reward for rec in history])
    raw = np.array([rec.reward for rec in batch], dtype=float)
    r = (np.searchsorted(seen, raw, "left") + np.searchsorted(seen, raw, "right")) / (
        2.0 * len(seen)
    )
    mean, sd = float(r.mean()), float(r.std())
    base = mean if policy.baseline is None else policy.baseline
    policy.baseline = rule.baseline_decay * base + (1.0 - rule.baseline_decay) * mean
    policy.n_updates += 1
    if sd < 1e-12:
        return  # no signal in this batch (e.g. a flat objective)
    adv = np.clip((r - base) / sd, -_ADV_CLIP, _ADV_CLIP)

    for name in sorted({name for rec in batch for name in rec.dists}):
        dist = next(rec.dists[name] for rec in batch if name in rec.dists)
        if dist.single():
            continue
        p = policy.params.get(name)
        if p is None:
            p = policy.params[name] = new_param(dist, rule)
        rows = [
            (i, rec.params[name])
            for i, rec in enumerate(batch)
            if name in rec.params and rec.dists.get(name) == p.dist
        ]
        if not rows:
            continue
        a = adv[[i for i, _ in rows]]
        if isinstance(p.dist, CategoricalDistribution):
            idx = np.array([int(p.dist.to_internal_repr(value)) for _, value in rows])
            _categorical_step(p, idx, a, rule)
        else:
            u = np.array([to_unit(p.dist, value) for _, value in rows])  # type: ignore[arg-type]
            _gaussian_step(p, u, a, rule)


def _categorical_step(p: Param, idx: np.ndarray, adv: np.ndarray, rule: UpdateRule) -> None:
    """Natural-gradient step on the logits, in a trust region, above the exploration floor."""
    # The natural gradient of the batch's advantage-weighted log-likelihood (the Fisher
    # metric's inverse applied to the softmax gradient) moves each drawn choice's logit by
    # its summed advantage over (number of draws * its probability), and leaves undrawn
    # choices alone. The plain softmax gradient instead scales a choice's step by its
    # probability, so with many choices (each rare) it hardly moves; and Adam's per-logit
    # normalisation would turn the undrawn choices' tiny gradients (-probability * mean
    # advantage) into full steps of noise. The step treats every choice alike, whatever
    # its label or position in the list.
    summed = np.zeros(len(p.theta))
    np.add.at(summed, idx, adv)
    step = rule.learning_rate * summed / (len(adv) * softmax(p.theta))
    p.theta += np.clip(step, -_CAT_TRUST, _CAT_TRUST)
    p.theta -= p.theta.max()  # logits are shift-invariant; keep them bounded
    # Floor: the other choices together keep at least about min_prob times the most likely
    # one's probability. A floor of min_prob per choice would, with 100 choices, cap the
    # most likely one at about a third and never let the search settle.
    floor = math.log(rule.min_prob / max(len(p.theta) - 1, 1))
    np.maximum(p.theta, floor, out=p.theta)


def _gaussian_step(p: Param, u: np.ndarray, adv: np.ndarray, rule: UpdateRule) -> None:
    """Adam step on [mean, log_std]; the mean moves in units of the current std."""
    std = math.exp(p.theta[1])
    z = (u - p.theta[0]) / std
    # d/d(mean) is taken in units of std (natural-gradient scaling, see the sampler's doc).
    grad = np.array([(adv * z).mean(), (adv * (z * z - 1.0)).mean()])
    step = _adam(p, grad, rule.learning_rate)
    p.theta[0] = min(max(p.theta[0] + _MEAN_STEP * step[0] * std, 0.0), 1.0)
    p.theta[1] = min(max(p.theta[1] + step[1], math.log(rule.min_std)), math.log(1.0))


def _adam(p: Param, grad: np.ndarray, lr: float) -> np.ndarray:
    """Adam ascent step for ``grad``; updates the parameter's moments."""
    p.t += 1
    p.m = _ADAM_B1 * p.m + (1.0 - _ADAM_B1) * grad
    p.v = _ADAM_B2 * p.v + (1.0 - _ADAM_B2) * grad * grad
    m_hat = p.m / (1.0 - _ADAM_B1**p.t)
    v_hat = p.v / (1.0 - _ADAM_B2**p.t)
    return lr * m_hat / (np.sqrt(v_hat) + _ADAM_EPS)
