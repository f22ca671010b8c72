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
from rltui.search.samplers._reinforce import (
    Policy,
    Record,
    UpdateRule,
    from_unit,
    new_param,
    softmax,
    update,
)

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial


@dataclass
class _Cache:
    n_finished: int = -1
    n_usable: int = 0
    numbers: list[int] = field(default_factory=list)  # trial numbers consumed, batch by batch
    checkpoints: list[Policy] = field(default_factory=lambda: [Policy()])


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
    divided by the batch's standard deviation and clipped, and the policy takes one ascent
    step on the advantage-weighted log-likelihood (REINFORCE; cf. PEPG). The Gaussians take
    an Adam step, their means in units of the current standard deviation (a natural-gradient
    preconditioning), so steps shrink as the search narrows. The logits take a natural-
    gradient step: each drawn choice's logit moves by ``learning_rate`` times the sum of its
    trials' advantages over (trials drawn times the choice's probability), at most 2 per
    update (a trust region), and undrawn choices keep theirs. A draw of a rare choice thus
    counts as much as a draw of a common one, so a categorical with many choices is not
    slowed down by their small probabilities. Nothing depends on the choices' order or
    labels: categoricals are unordered (declare ordered values with ``suggest_int`` or
    ``suggest_float`` to let the sampler use their order).
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
        learning_rate: Step size. Log standard deviations move by at most about this much
            per update (Adam), the Gaussian means by about four times this many standard
            deviations; a choice's logit by this times its trials' summed advantage over
            (trials drawn times its probability), clipped to 2.
        baseline_decay: Decay of the reward baseline, an exponential moving average of the
            batch mean reward (0 means the baseline is the current batch's mean).
        init_std: Initial standard deviation of the Gaussians, as a fraction of the
            (normalised) range.
        min_std: Floor on the Gaussians' standard deviation, as a fraction of the range.
        min_prob: Floor, roughly, on the chance of drawing a categorical parameter's other
            choices together, relative to its most likely choice (each of ``k`` choices
            keeps at least ``min_prob / (k - 1)`` times the top one's probability), so
            discarded choices are still revisited now and then.
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
        self._rule = UpdateRule(learning_rate, baseline_decay, init_std, min_std, min_prob)
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
            return from_unit(d, int(rng.integers(n)) * d.step / (d.high - d.low))
        return from_unit(d, float(rng.uniform()))

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
                probs = softmax(p.theta)
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

    def _draw(
        self, policy: Policy, name: str, dist: BaseDistribution, rng: np.random.Generator
    ) -> Any:
        p = policy.params.get(name)
        if p is None or p.dist != dist:
            p = new_param(dist, self._rule)  # not learned yet: the initial policy
        if isinstance(dist, CategoricalDistribution):
            return dist.choices[int(rng.choice(len(dist.choices), p=softmax(p.theta)))]
        assert isinstance(dist, (FloatDistribution, IntDistribution))
        return from_unit(dist, rng.normal(p.theta[0], math.exp(p.theta[1])))

    def _record(self, trial: FrozenTrial, sign: float) -> Record | None:
        if trial.state == TrialState.COMPLETE:
            value = trial.value
        elif trial.state == TrialState.PRUNED and trial.intermediate_values:
            value = trial.intermediate_values[max(trial.intermediate_values)]
        else:
            return None
        if value is None or math.isnan(value):
            return None
        return Record(trial.number, trial.params, trial.distributions, sign * float(value))

    def _policy(self, study: Study) -> tuple[Policy, int]:
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
                update(policy, batch, records[: start + bs], self._rule)
                cache.checkpoints.append(copy.deepcopy(policy))
                cache.numbers.extend(r.number for r in batch)
            cache.n_finished = len(trials)
            cache.n_usable = len(records)
            return cache.checkpoints[-1], cache.n_usable
