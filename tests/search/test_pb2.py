"""PB2's explore: a Gaussian-process bandit that learns which values gained, on a real Optuna
storage of segments."""

from __future__ import annotations

import math
import random

import optuna
import pytest

from rltui.search import pb2
from tests.search.test_pbt import DISTS, MUTABLE, TOTAL, add, plan, settings


@pytest.fixture
def study() -> optuna.Study:
    return optuna.create_study(direction="maximize", storage=optuna.storages.InMemoryStorage())


def gains_with_learning_rate(study: optuna.Study, count: int = 24) -> None:
    """Segments whose gain grows with log(learning_rate), whatever ent_coef and n_epochs."""
    rng = random.Random(3)
    for member in range(count):
        lr = math.exp(rng.uniform(math.log(1e-4), math.log(1e-2)))
        first = add(study, member, 0, 0.0)
        gain = 10.0 * (math.log10(lr) + 4.0) + rng.gauss(0.0, 0.5)
        add(
            study,
            member,
            1,
            gain,
            parent=first.number,
            params={"learning_rate": lr, "ent_coef": rng.uniform(0, 0.02), "n_epochs": 10},
        )


def test_the_bandit_proposes_values_that_gained(study):
    gains_with_learning_rate(study)
    trials = study.get_trials(deepcopy=False)
    x, y = pb2.observations(trials, ["learning_rate"], DISTS, TOTAL)
    assert x.shape == (24, 2) and y.shape == (24,)
    chosen = []
    for seed in range(10):
        out, told = pb2.explore(
            {"learning_rate": 1e-4, "ent_coef": 0.01, "n_epochs": 10, "gamma": 0.95},
            DISTS,
            MUTABLE,
            settings(),
            random.Random(seed),
            trials,
            now=2000,
            total=TOTAL,
        )
        for name in ("learning_rate", "ent_coef", "n_epochs"):
            assert DISTS[name]._contains(DISTS[name].to_internal_repr(out[name])), name
            assert told[name].startswith("pb2 ")
        assert isinstance(out["n_epochs"], int)
        assert told["gamma"] != "" and not told["gamma"].startswith("pb2")  # a list: PBT's way
        chosen.append(out["learning_rate"])
    # Higher learning rates gained: the bandit proposes the top of the range, mostly.
    assert sorted(chosen)[len(chosen) // 2] > 2e-3, chosen


def test_with_too_little_data_it_explores_as_pbt_does(study):
    gains_with_learning_rate(study, count=pb2.MIN_DATA - 1)
    _, told = pb2.explore(
        {"learning_rate": 1e-3, "ent_coef": 0.01, "n_epochs": 10, "gamma": 0.95},
        DISTS,
        MUTABLE,
        settings(resample_probability=0.0),
        random.Random(0),
        study.get_trials(deepcopy=False),
        now=2000,
        total=TOTAL,
    )
    assert not any(v.startswith("pb2") for v in told.values())
    assert told["learning_rate"] in ("x0.8", "x1.2")


def test_a_pb2_study_explores_with_the_bandit_after_an_exploit(study):
    gains_with_learning_rate(study)
    ending = add(study, 99, 1, None, state=optuna.trial.TrialState.RUNNING)
    result = plan(study, ending, -100.0, explore="pb2", population=100)
    assert result is not None and result.donor is not None
    assert result.explore["learning_rate"].startswith("pb2 ")
