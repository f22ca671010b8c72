"""Tests for the REINFORCE policy-gradient Optuna sampler."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from rltui.search.samplers import PolicyGradientSampler

optuna.logging.set_verbosity(optuna.logging.ERROR)

CHOICES = ("relu", "tanh", "elu")


def mixed_objective(trial: optuna.Trial) -> float:
    """A quadratic over a mixed space with a bonus for one categorical choice (minimise)."""
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    units = trial.suggest_int("units", 16, 256, step=16)
    q = trial.suggest_float("q", 0.0, 1.0, step=0.25)
    act = trial.suggest_categorical("act", CHOICES)
    return (
        (x - 1.5) ** 2
        + (math.log10(lr) + 3.0) ** 2
        + ((units - 128) / 64) ** 2
        + (q - 0.75) ** 2
        + (0.0 if act == "tanh" else 4.0)
    )


def test_mixed_space_respects_bounds_steps_and_choices() -> None:
    study = optuna.create_study(sampler=PolicyGradientSampler(seed=0))
    study.optimize(mixed_objective, n_trials=80)
    assert len(study.trials) == 80
    for t in study.trials:
        p = t.params
        assert -5.0 <= p["x"] <= 5.0
        assert 1e-5 <= p["lr"] <= 1e-1
        assert isinstance(p["units"], int) and 16 <= p["units"] <= 256 and p["units"] % 16 == 0
        assert p["q"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert p["act"] in CHOICES
    snap = study.sampler.policy_snapshot(study)  # type: ignore[attr-defined]
    assert snap["n_updates"] == 10
    assert set(snap["params"]) == {"x", "lr", "units", "q", "act"}


def test_improves_on_quadratic_with_categorical_bonus() -> None:
    study = optuna.create_study(sampler=PolicyGradientSampler(seed=1))
    study.optimize(mixed_objective, n_trials=150)
    values = [t.value for t in study.trials]
    first, last = np.mean(values[:30]), np.mean(values[-30:])
    assert last < 0.5 * first, (first, last)
    probs = study.sampler.policy_snapshot(study)["params"]["act"]["probs"]  # type: ignore[attr-defined]
    assert max(probs, key=probs.get) == repr("tanh")


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_both_directions(direction: str) -> None:
    sign = 1.0 if direction == "minimize" else -1.0

    def objective(trial: optuna.Trial) -> float:
        return sign * (trial.suggest_float("x", 0.0, 10.0) - 7.0) ** 2

    study = optuna.create_study(direction=direction, sampler=PolicyGradientSampler(seed=2))
    study.optimize(objective, n_trials=100)
    xs = [t.params["x"] for t in study.trials]
    assert abs(np.mean(xs[-20:]) - 7.0) < 1.0
    assert abs(study.best_params["x"] - 7.0) < 0.5


def test_pruned_and_failed_trials_are_tolerated() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.number % 5 == 1:
            raise ValueError("boom")  # FAIL: skipped
        if trial.number % 5 == 2:
            raise optuna.TrialPruned()  # PRUNED without a value: skipped
        if trial.number % 5 == 3:
            trial.report(x * x, step=0)
            trial.report((x - 0.2) ** 2, step=3)
            raise optuna.TrialPruned()  # PRUNED: counts with its last intermediate value
        return (x - 0.2) ** 2

    sampler = PolicyGradientSampler(seed=3, batch_size=4)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=60, catch=(ValueError,))
    states = [t.state for t in study.trials]
    assert states.count(TrialState.FAIL) == 12
    assert states.count(TrialState.PRUNED) == 24
    snap = sampler.policy_snapshot(study)
    assert snap["n_trials_used"] == 36  # 24 complete + 12 pruned with a value
    assert snap["n_updates"] == 9
    assert abs(snap["params"]["x"]["mean"] - 0.2) < 0.2


def test_workers_sharing_a_storage_compute_the_same_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not under test; speed is
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")))
    a = optuna.create_study(
        study_name="s", storage=storage, sampler=PolicyGradientSampler(seed=10, batch_size=4)
    )
    b = optuna.load_study(
        study_name="s", storage=storage, sampler=PolicyGradientSampler(seed=11, batch_size=4)
    )
    rng = np.random.default_rng(0)
    pending: list[tuple[optuna.Study, optuna.Trial]] = []
    for i in range(60):
        study = a if i % 2 == 0 else b
        trial = study.ask()
        trial.suggest_float("x", -3.0, 3.0)
        trial.suggest_categorical("c", ["a", "b"])
        pending.append((study, trial))
        # Finish trials out of number order, as parallel workers do.
        while pending and (len(pending) > 3 or rng.random() < 0.3):
            s, t = pending.pop(int(rng.integers(len(pending))))
            s.tell(t, (t.params["x"] - 1.0) ** 2 + (t.params["c"] == "b"))
        # Both workers derive the policy from the shared storage after every step.
        assert a.sampler.policy_snapshot(a) == b.sampler.policy_snapshot(b)  # type: ignore[attr-defined]
    for s, t in pending:
        s.tell(t, 0.0)
    snap_a = a.sampler.policy_snapshot(a)  # type: ignore[attr-defined]
    assert snap_a == b.sampler.policy_snapshot(b)  # type: ignore[attr-defined]
    # A fresh process-like sampler replaying from scratch agrees with the incremental caches.
    fresh = optuna.load_study(
        study_name="s", storage=storage, sampler=PolicyGradientSampler(seed=99, batch_size=4)
    )
    assert fresh.sampler.policy_snapshot(fresh) == snap_a  # type: ignore[attr-defined]
    assert snap_a["n_updates"] == 15


def test_reproducible_with_a_seed() -> None:
    def run(seed: int) -> list[dict]:
        study = optuna.create_study(sampler=PolicyGradientSampler(seed=seed))
        study.optimize(mixed_objective, n_trials=40)
        return [t.params for t in study.trials]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_dynamic_and_conditional_search_space() -> None:
    def objective(trial: optuna.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["lin", "sq"])
        if kind == "lin":
            return abs(trial.suggest_float("a", 0.0, 1.0) - 0.3)
        v = trial.suggest_int("b", 0, 10)
        if trial.number >= 20:  # a parameter that only appears later
            v += trial.suggest_float("late", -1.0, 1.0) ** 2
        return 1.0 + v

    sampler = PolicyGradientSampler(seed=4)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=100, n_jobs=2)
    assert len(study.trials) == 100
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    params = sampler.policy_snapshot(study)["params"]
    assert set(params) == {"kind", "a", "b", "late"}
    assert params["kind"]["probs"][repr("lin")] > 0.5


def test_rejects_multi_objective_and_bad_options() -> None:
    study = optuna.create_study(
        directions=["minimize", "minimize"], sampler=PolicyGradientSampler()
    )
    with pytest.raises(ValueError):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 0.0), n_trials=1)
    with pytest.raises(ValueError):
        PolicyGradientSampler(batch_size=1)
    with pytest.raises(ValueError):
        PolicyGradientSampler(min_std=0.5, init_std=0.1)


N_WIDE = 30


def wide_objective(value: np.ndarray) -> Callable[[optuna.Trial], float]:
    """Minimise ``value[choice]`` over an unordered 30-choice categorical, plus a quadratic."""

    def objective(trial: optuna.Trial) -> float:
        c = trial.suggest_categorical("c", list(range(N_WIDE)))
        x = trial.suggest_float("x", 0.0, 1.0)
        return float(value[c]) / N_WIDE + (x - 0.3) ** 2

    return objective


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wide_unordered_categorical_is_learned(seed: int) -> None:
    # Each choice's value is a random permutation of 0..29, so the labels' order says
    # nothing; with 30 choices each is drawn about ten times in the whole budget.
    value = np.random.default_rng(seed).permutation(N_WIDE)
    sampler = PolicyGradientSampler(seed=seed)
    study = optuna.create_study(sampler=sampler)
    study.optimize(wide_objective(value), n_trials=300)
    probs = sampler.policy_snapshot(study)["params"]["c"]["probs"]
    best = int(np.argmin(value))
    assert max(probs, key=probs.get) == repr(best)
    assert sum(probs[repr(k)] for k in range(N_WIDE) if value[k] <= 2) > 0.75, probs


def test_policy_does_not_depend_on_choice_labels_or_order() -> None:
    # The same finished trials, once with choices 0..29 in order and once with every choice
    # renamed and the declared list shuffled, must give the same policy, choice for choice.
    value = np.random.default_rng(5).permutation(N_WIDE)
    a = optuna.create_study(sampler=PolicyGradientSampler(seed=5))
    a.optimize(wide_objective(value), n_trials=160)

    rng = np.random.default_rng(6)
    name = [f"opt{k}" for k in rng.permutation(N_WIDE)]  # choice k of a is name[k] in b
    shuffled = CategoricalDistribution([name[k] for k in rng.permutation(N_WIDE)])
    b = optuna.create_study(sampler=PolicyGradientSampler(seed=7))
    for t in a.trials:
        b.add_trial(
            optuna.trial.create_trial(
                params={"c": name[t.params["c"]], "x": t.params["x"]},
                distributions={"c": shuffled, "x": t.distributions["x"]},
                value=t.value,
            )
        )
    snap_a = a.sampler.policy_snapshot(a)  # type: ignore[attr-defined]
    snap_b = b.sampler.policy_snapshot(b)  # type: ignore[attr-defined]
    assert snap_a["n_updates"] == snap_b["n_updates"] == 20
    assert snap_a["params"]["x"] == snap_b["params"]["x"]
    probs_a = snap_a["params"]["c"]["probs"]
    probs_b = snap_b["params"]["c"]["probs"]
    assert max(probs_a.values()) > 5.0 / N_WIDE  # the policy has learned something
    for k in range(N_WIDE):
        assert probs_b[repr(name[k])] == pytest.approx(probs_a[repr(k)], rel=1e-9, abs=1e-15)
