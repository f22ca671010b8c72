"""Each objective's value from a trial's evaluations (rltui.train.evaluations)."""

from __future__ import annotations

import pytest

from rltui.train.evaluations import area_per_step, objective_values, steps_to

CURVE = [(100, 10.0), (200, 30.0), (300, 50.0)]


def test_evenly_spaced_evaluations_give_their_mean_as_the_area_per_step() -> None:
    assert area_per_step(CURVE) == pytest.approx(30.0)


def test_a_short_last_interval_weighs_less() -> None:
    # every: 100 with a budget of 250: the last evaluation holds for 50 steps only.
    assert area_per_step([(100, 10.0), (200, 30.0), (250, 90.0)]) == pytest.approx(
        (10 * 100 + 30 * 100 + 90 * 50) / 250
    )
    assert area_per_step([]) is None
    assert area_per_step([(0, 4.0), (0, 6.0)]) == 5.0


def test_steps_to_is_the_first_evaluation_at_or_over_the_threshold() -> None:
    assert steps_to(CURVE, 30.0, 300) == 200
    assert steps_to(CURVE, 5.0, 300) == 100
    assert steps_to(CURVE, 51.0, 300) == 301  # never: the budget + 1
    assert steps_to([(100, 10.0), (200, 60.0), (300, 40.0)], 50.0, 300) == 200


def test_objective_values_in_the_order_asked() -> None:
    values = objective_values(
        [("wall_time", None), ("reward", None), ("auc", None), ("steps_to", 45.0)],
        CURVE,
        reward=50.0,
        budget=300,
        seconds=12.5,
    )
    assert values == [12.5, 50.0, pytest.approx(30.0), 300.0]


def test_no_reward_means_no_values() -> None:
    assert objective_values([("reward", None)], [], reward=None, budget=300, seconds=1.0) is None
    with pytest.raises(ValueError):
        objective_values([("speed", None)], CURVE, reward=1.0, budget=300, seconds=1.0)
