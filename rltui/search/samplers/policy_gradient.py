"""A REINFORCE (policy-gradient) sampler for Optuna, for mixed discrete/continuous spaces."""

from __future__ import annotations

import copy
import math
import threading
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import StudyDirection
from optuna.trial import TrialState

from rltui.search.optuna_internals import storage_of, study_id_of

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial

_Numeric = FloatDistribution | IntDistribution
_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8
# The mean's Adam step is this many times learning_rate, in units of the current std: a
# mean lagging behind a shrinking std stalls the search (tuned on bench/sampler_accuracy.py).
_MEAN_STEP = 4.0
_ADV_CLIP = 3.0  # clip normalised advantages: one outlier must not dominate a batch


@dataclass
class _Param:
    """Learnable policy of one parameter: logits, or [mean, log_std] in unit coordinates."""

    dist: BaseDistribution
    theta: np.ndarray
    m: np.ndarray  # Adam first moment
    v: np.ndarray  # Adam second moment
    t: int = 0  # Adam step count (per parameter: parameters can appear late)


@dataclass
class _Policy:
    """Policy state after replaying some number of batches of finished trials."""

    params: dict[str, _Param] = field(default_factory=dict)
    baseline: float | None = None
    n_updates: int = 0


@dataclass
class _Record:
    number: int
    params: dict[str, Any]
    dists: dict[str, BaseDistribution]
    reward: float


@dataclass
class _Cache:
    n_finished: int = -1
    n_usable: int = 0
    numbers: list[int] = field(default_factory=list)  # trial numbers consumed, batch by batch
    checkpoints: list[_Policy] = field(default_factory=lambda: [_Policy()])


def _to_unit(dist: _Numeric, value: float) -> float:
    """Map a value of a numeric distribution into [0, 1] (log-scaled for ``log=True``)."""
    if dist.log:
        return (math.log(value) - math.log(dist.low)) / (math.log(dist.high) - math.log(dist.low))
    return (value - dist.low) / (dist.high - dist.low)


def _from_unit(dist: _Numeric, u: float) -> float | int:
    """Inverse of :func:`_to_unit`, clipped into range and rounded onto the ``step`` grid."""
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


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


class PolicyGradientSampler(BaseSampler):
    """Sampler that learns a factorised search policy with REINFORCE (policy-gradient search).

    Method: every parameter gets an independent learnable distribution. A
    :class:`~optuna.distributions.CategoricalDistribution` gets a softmax over learnable
    logits. A :class:`~optuna.distributions.FloatDistribution` or
    :class:`~optuna.distributions.IntDistribution` gets a Gaussian with learnable mean and
    log standard deviation in a unit coordinate ``u`` in ``[0, 1]`` that spans the range
    (linearly, or in log space when ``log=True``, so learning rates are scale-free); samples
    are clipped into range and rounded for ints and ``step``. After ``n_startup_trials``
    uniformly random trials, parameters are drawn from the policy. Finished trials are
    consumed in trial-number order in batches of ``batch_size``. A trial's reward is the
    quantile of its objective (negated for ``minimize``) among all trials consumed so far,
    which keeps rewards on one scale while the objective's spread shrinks by orders of
    magnitude. Per batch, advantages are the rewards minus a moving-average baseline,
    divided by the batch's standard deviation and clipped, and the policy takes one Adam
    ascent step on the advantage-weighted log-likelihood (REINFORCE; cf. PEPG). The Gaussian
    means move in units of the current standard deviation (a natural-gradient
    preconditioning), so steps shrink as the search narrows.
    ``min_std`` and ``min_prob`` floor the policy so that it keeps exploring.

    Contract: COMPLETE trials count with their value; PRUNED trials with their last
    intermediate value (skipped when they have none); FAIL, RUNNING and WAITING trials are
    ignored. No state is shared in memory: the policy is a pure function of the study's
    finished trials and of this sampler's constructor options (not of ``seed``), replayed
    batch by batch and cached per process by the number of finished trials, so workers in
    other processes that share the storage compute the same policy. A trial that finishes
    late, out of number order, makes the cache replay from the last batch it precedes.
    The relative search space is the intersection of the finished trials' spaces;
    parameters outside it (conditional or not yet seen) are drawn from their learned
    marginal if they have one, else uniformly at random. Single-objective studies only.
    Random draws use a generator seeded from ``(seed, trial number)``, so a seeded study is
    reproducible and parallel workers with the same seed do not repeat each other.

    Example:
        .. code-block:: python

            import optuna
            from rltui.search.samplers import PolicyGradientSampler

            def objective(trial: optuna.Trial) -> float:
                lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
                layers = trial.suggest_int("layers", 1, 4)
                act = trial.suggest_categorical("act", ["relu", "tanh"])
                return (math.log10(lr) + 3) ** 2 + layers + (act == "tanh")

            study = optuna.create_study(sampler=PolicyGradientSampler(seed=0))
            study.optimize(objective, n_trials=200)

    Args:
        batch_size: Finished trials per policy update.
        learning_rate: Adam step size. Logits and log standard deviations move by at most
            about this much per update, the Gaussian means by about four times this many
            standard deviations.
        baseline_decay: Decay of the reward baseline, an exponential moving average of the
            batch mean reward (0 means the baseline is the current batch's mean).
        init_std: Initial standard deviation of the Gaussians, as a fraction of the
            (normalised) range.
        min_std: Floor on the Gaussians' standard deviation, as a fraction of the range.
        min_prob: Floor, roughly, on each categorical choice's probability (relative to the
            most likely choice), so discarded choices are still revisited now and then.
        seed: Seed for the random draws (``None``: drawn from the OS). It does not affect
            the learned policy, only which values are drawn from it.
        n_startup_trials: Finished trials to collect with uniform random sampling before
            drawing from the policy (``None``: ``batch_size``). They also feed the updates.
    """

    def __init__(
        self,
        *,
        batch_size: int = 8,
        learning_rate: float = 0.1,
        baseline_decay: float = 0.9,
        init_std: float = 0.3,
        min_std: float = 0.002,
        min_prob: float = 0.02,
        seed: int | None = None,
        n_startup_trials: int | None = None,
    ) -> None:
        if batch_size < 2:
            raise ValueError("batch_size must be at least 2 (advantages are normalised).")
        if not (0.0 <= baseline_decay < 1.0):
            raise ValueError("baseline_decay must be in [0, 1).")
        if not (0.0 < min_std <= init_std):
            raise ValueError("need 0 < min_std <= init_std.")
        if not (0.0 < min_prob < 1.0):
            raise ValueError("min_prob must be in (0, 1).")
        self._batch_size = batch_size
        self._lr = learning_rate
        self._decay = baseline_decay
        self._init_std = init_std
        self._min_std = min_std
        self._min_prob = min_prob
        self._n_startup = batch_size if n_startup_trials is None else n_startup_trials
        self._fixed_seed = seed
        self._seed = seed if seed is not None else int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]  # an int when not given one
        self._space = IntersectionSearchSpace(include_pruned=True)
        self._caches: dict[tuple[int, int], _Cache] = {}
        self._lock = threading.Lock()  # n_jobs > 1 runs trials in threads sharing this object

    def reseed_rng(self) -> None:
        """Draw a fresh seed, unless one was given (draws are already distinct per trial)."""
        if self._fixed_seed is None:
            self._seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]  # an int when not given one

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """Return the intersection of the finished trials' spaces (single values excluded)."""
        self._raise_error_if_multi_objective(study)
        space = self._space.calculate(study)
        return {name: dist for name, dist in space.items() if not dist.single()}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Draw every parameter of ``search_space`` from the current policy."""
        if not search_space:
            return {}
        policy, n_usable = self._policy(study)
        if n_usable < self._n_startup:
            return {}  # startup: sample_independent draws uniformly
        rng = np.random.default_rng([self._seed, trial.number, 0])
        return {
            name: self._draw(policy, name, dist, rng) for name, dist in sorted(search_space.items())
        }

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Draw from the parameter's learned marginal if it has one, else uniformly."""
        rng = np.random.default_rng([self._seed, trial.number, 1 + zlib.crc32(param_name.encode())])
        policy, n_usable = self._policy(study)
        p = policy.params.get(param_name)
        if n_usable >= self._n_startup and p is not None and p.dist == param_distribution:
            return self._draw(policy, param_name, param_distribution, rng)
        if isinstance(param_distribution, CategoricalDistribution):
            return param_distribution.choices[int(rng.integers(len(param_distribution.choices)))]
        assert isinstance(param_distribution, (FloatDistribution, IntDistribution))
        d = param_distribution
        if d.step is not None and not d.log:
            # Uniform over the grid, so the end points are not half as likely as the others.
            n = round((d.high - d.low) / d.step) + 1
            return _from_unit(d, int(rng.integers(n)) * d.step / (d.high - d.low))
        return _from_unit(d, float(rng.uniform()))

    def policy_snapshot(self, study: Study) -> dict[str, Any]:
        """Return the current policy as plain data (for display and tests).

        Numeric parameters map to ``{"mean", "std"}`` in unit coordinates; categorical ones
        to ``{"probs": {repr(choice): probability}}``. Also ``baseline``, ``n_updates`` and
        ``n_trials_used`` (finished trials with a usable value).
        """
        policy, n_usable = self._policy(study)
        params: dict[str, Any] = {}
        for name, p in sorted(policy.params.items()):
            if isinstance(p.dist, CategoricalDistribution):
                probs = _softmax(p.theta)
                params[name] = {
                    "probs": {repr(c): float(q) for c, q in zip(p.dist.choices, probs, strict=True)}
                }
            else:
                params[name] = {"mean": float(p.theta[0]), "std": float(math.exp(p.theta[1]))}
        return {
            "params": params,
            "baseline": policy.baseline,
            "n_updates": policy.n_updates,
            "n_trials_used": n_usable,
        }

    # -- policy ---------------------------------------------------------------------------

    def _new_param(self, dist: BaseDistribution) -> _Param:
        if isinstance(dist, CategoricalDistribution):
            theta = np.zeros(len(dist.choices))
        else:
            theta = np.array([0.5, math.log(self._init_std)])
        return _Param(dist, theta, np.zeros_like(theta), np.zeros_like(theta))

    def _draw(
        self, policy: _Policy, name: str, dist: BaseDistribution, rng: np.random.Generator
    ) -> Any:
        p = policy.params.get(name)
        if p is None or p.dist != dist:
            p = self._new_param(dist)  # not learned yet: the initial policy
        if isinstance(dist, CategoricalDistribution):
            return dist.choices[int(rng.choice(len(dist.choices), p=_softmax(p.theta)))]
        assert isinstance(dist, (FloatDistribution, IntDistribution))
        return _from_unit(dist, rng.normal(p.theta[0], math.exp(p.theta[1])))

    def _record(self, trial: FrozenTrial, sign: float) -> _Record | None:
        if trial.state == TrialState.COMPLETE:
            value = trial.value
        elif trial.state == TrialState.PRUNED and trial.intermediate_values:
            value = trial.intermediate_values[max(trial.intermediate_values)]
        else:
            return None
        if value is None or math.isnan(value):
            return None
        return _Record(trial.number, trial.params, trial.distributions, sign * float(value))

    def _policy(self, study: Study) -> tuple[_Policy, int]:
        """Replay the updates over the finished trials, reusing this process's cache."""
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        key = (id(storage_of(study)), study_id_of(study))
        with self._lock:
            cache = self._caches.setdefault(key, _Cache())
            # Finished trials never change again, so an unchanged count means an unchanged set.
            if len(trials) == cache.n_finished:
                return cache.checkpoints[-1], cache.n_usable
            sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
            records = sorted(
                (r for t in trials if (r := self._record(t, sign)) is not None),
                key=lambda r: r.number,
            )
            # Batches before the first trial that is new to us are still valid; a trial that
            # finished late with a lower number invalidates the batches from its position on.
            k = 0
            while (
                k < len(cache.numbers)
                and k < len(records)
                and cache.numbers[k] == records[k].number
            ):
                k += 1
            n_keep = k // self._batch_size
            del cache.checkpoints[n_keep + 1 :]
            del cache.numbers[n_keep * self._batch_size :]
            policy = copy.deepcopy(cache.checkpoints[-1])
            bs = self._batch_size
            for start in range(n_keep * bs, len(records) - bs + 1, bs):
                batch = records[start : start + bs]
                self._update(policy, batch, records[: start + bs])
                cache.checkpoints.append(copy.deepcopy(policy))
                cache.numbers.extend(r.number for r in batch)
            cache.n_finished = len(trials)
            cache.n_usable = len(records)
            return cache.checkpoints[-1], cache.n_usable

    def _update(self, policy: _Policy, batch: list[_Record], history: list[_Record]) -> None:
        """One REINFORCE step on ``policy`` from ``batch``; ``history`` ends with it."""
        # Reward = quantile of the signed objective among all trials so far: scale-free (the
        # objective's scale shrinks by orders of magnitude as the search converges) and
        # robust to outliers and infinities, so the moving-average baseline stays meaningful.
        seen = np.sort([rec.reward for rec in history])
        raw = np.array([rec.reward for rec in batch], dtype=float)
        r = (np.searchsorted(seen, raw, "left") + np.searchsorted(seen, raw, "right")) / (
            2.0 * len(seen)
        )
        mean, sd = float(r.mean()), float(r.std())
        base = mean if policy.baseline is None else policy.baseline
        policy.baseline = self._decay * base + (1.0 - self._decay) * mean
        policy.n_updates += 1
        if sd < 1e-12:
            return  # no signal in this batch (e.g. a flat objective)
        adv = np.clip((r - base) / sd, -_ADV_CLIP, _ADV_CLIP)

        names = sorted({name for rec in batch for name in rec.dists})
        for name in names:
            dist = next(rec.dists[name] for rec in batch if name in rec.dists)
            if dist.single():
                continue
            p = policy.params.get(name)
            if p is None:
                p = policy.params[name] = self._new_param(dist)
            rows = [
                (i, rec.params[name])
                for i, rec in enumerate(batch)
                if name in rec.params and rec.dists.get(name) == p.dist
            ]
            if not rows:
                continue
            a = adv[[i for i, _ in rows]]
            if isinstance(p.dist, CategoricalDistribution):
                idx = [int(p.dist.to_internal_repr(value)) for _, value in rows]
                onehot = np.eye(len(p.theta))[idx]
                grad = (a[:, None] * (onehot - _softmax(p.theta))).mean(axis=0)
            else:
                u = np.array([_to_unit(p.dist, value) for _, value in rows])  # type: ignore[arg-type]
                z = (u - p.theta[0]) / math.exp(p.theta[1])
                # d/d(mean) is taken in units of std (natural-gradient scaling, see docstring).
                grad = np.array([(a * z).mean(), (a * (z * z - 1.0)).mean()])
            step = self._adam(p, grad)
            if isinstance(p.dist, CategoricalDistribution):
                p.theta += step
                p.theta -= p.theta.max()  # logits are shift-invariant; keep them bounded
                np.maximum(p.theta, math.log(self._min_prob), out=p.theta)
            else:
                p.theta[0] = min(
                    max(p.theta[0] + _MEAN_STEP * step[0] * math.exp(p.theta[1]), 0.0), 1.0
                )
                p.theta[1] = min(max(p.theta[1] + step[1], math.log(self._min_std)), math.log(1.0))

    def _adam(self, p: _Param, grad: np.ndarray) -> np.ndarray:
        """Adam ascent step for ``grad``; updates the parameter's moments."""
        p.t += 1
        p.m = _ADAM_B1 * p.m + (1.0 - _ADAM_B1) * grad
        p.v = _ADAM_B2 * p.v + (1.0 - _ADAM_B2) * grad * grad
        m_hat = p.m / (1.0 - _ADAM_B1**p.t)
        v_hat = p.v / (1.0 - _ADAM_B2**p.t)
        return self._lr * m_hat / (np.sqrt(v_hat) + _ADAM_EPS)
