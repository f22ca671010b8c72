"""What an edit of a study file changes, as the preview before applying says it."""

from __future__ import annotations

from rltui.spec import parse_study
from rltui.spec.changes import study_changes
from tests.spec.test_loader import GOOD

BASE = GOOD + "hyperparameters:\n  n_epochs: 4\n"


def changes(before: str, after: str) -> list[str]:
    old = parse_study(before, None, check_env=False)
    new = parse_study(after, None, check_env=False)
    return [f"{c.section}: {c.describe()}" for c in study_changes(old, new)]


def test_nothing_changes_for_comments_layout_or_number_spelling():
    after = "# a comment\n" + BASE.replace("1.0e-5", "0.00001").replace(
        "  n_epochs: 4", "  n_epochs:   4"
    )
    assert changes(BASE, after) == []


def test_search_space_fixed_and_settings_each_say_before_and_after():
    after = (
        BASE.replace("high: 1.0e-2", "high: 1.0e-3")
        .replace("  batch_size: 32\n", "")
        .replace("  n_epochs: 4", "  n_epochs: 8")
        .replace("timesteps: 1000", "timesteps: 2000")
        + "  ent_coef: 0.01\n"
    )
    assert changes(BASE, after) == [
        "search space: learning_rate: float 1e-05..0.01 log → float 1e-05..0.001 log",
        "search space: batch_size: fixed 32 (removed)",
        "fixed: n_epochs: 4 → 8",
        "fixed: ent_coef: 0.01 (new)",
        "settings: train.timesteps: 1000 → 2000",
    ]


def test_a_grid_added_and_a_hand_picked_trial_show():
    after = BASE.replace("  batch_size: 32", "  batch_size: grid_search([32, 64])") + (
        "enqueue:\n  - {learning_rate: 0.001, n_steps: 64, gamma: 0.9}\n"
    )
    assert changes(BASE, after) == [
        "search space: batch_size: fixed 32 → grid(32, 64)",
        "settings: enqueue: {learning_rate: 0.001, n_steps: 64, gamma: 0.9} (new)",
    ]
