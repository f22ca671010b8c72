"""The contour and slice views' data: on the scripted study (trials in every state) and on
hand-made snapshots (log and categorical axes, conditional parameters, 10,000 trials)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from optuna.study import StudyDirection

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, StudyReader, TrialRow
from rltui.spec import load_study
from rltui.ui.models import space_views as sv
from rltui.ui.models.views import BANDS, Axis, axes_of

from .conftest import SMOKE, trial_row

S = TrialStatus
SPACE = load_study(SMOKE, check_env=False).space  # learning_rate (log), gamma, ent_coef (choice)
PARAMS = {"learning_rate": 1e-3, "gamma": 0.95, "ent_coef": 0.0}
LR, GAMMA, ENT = 0, 1, 2  # the axes' indices, in the space's order


def row(number: int, status: TrialStatus, value: float | None = None, **params: Any) -> TrialRow:
    return trial_row(number, status, value, params={**PARAMS, **params})


def snapshot(*rows: TrialRow, maximize: bool = True) -> Snapshot:
    direction = StudyDirection.MAXIMIZE if maximize else StudyDirection.MINIMIZE
    return Snapshot("s", direction, {r.number: r for r in rows}, frozenset(), [], 1, False)


def many(n: int) -> Snapshot:
    """``n`` COMPLETE trials spread over the space, the best (5000) in the middle."""
    return snapshot(
        *(
            row(
                i,
                S.COMPLETE,
                float((i * 7919) % 1000) if i != n // 2 else 5000.0,
                learning_rate=10 ** (-4 + 2 * (i % 100) / 99),
                gamma=0.9 + 0.099 * ((i * 37) % 50) / 49,
                ent_coef=(0.0, 0.01)[i % 2],
            )
            for i in range(n)
        )
    )


def banded(data: sv.ContourData) -> dict[tuple[int, int], int]:
    return {cell: band for band, cells in data.cells for cell in cells}


# The scripted study ------------------------------------------------------------------------


def test_contour_of_the_scripted_study(scripted) -> None:
    snap = StudyReader(scripted.ostudy).poll()
    data = sv.contour(snap, SPACE, LR, GAMMA, 38, 9)
    assert data.title == "learning_rate (log) × gamma"
    assert (data.cols, data.rows) == sv.contour_grid(38, 9) == (31, 5)
    # #1 and #6 (the best) are COMPLETE; #2 PRUNED marks a place; #4 RUNNING is not counted.
    assert data.complete == 2
    x = math.log10(3e-3 / 1e-4) / 2 * 30
    assert data.best == pytest.approx((x, (0.99 - 0.9) / 0.099 * 4))
    assert [p[:2] for p in data.points] == [pytest.approx((x, (0.98 - 0.9) / 0.099 * 4))]
    assert data.pruned == (pytest.approx((0.0, (0.98 - 0.9) / 0.099 * 4)),)
    cells = banded(data)
    assert cells[(round(x), 4)] == len(BANDS) - 1 and cells[(round(x), 3)] == 0
    assert (0, 0) not in cells  # far from every trial: blank
    assert data.x_ticks == ((0.0, "1e-4"), (30.0, "0.01"))
    assert data.y_ticks == ((0.0, "0.9"), (4.0, "0.999"))


def test_slices_of_the_scripted_study(scripted) -> None:
    snap = StudyReader(scripted.ostudy).poll()
    data = sv.slices(snap, SPACE, 38)
    assert [p.label for p in data.params] == ["learning_rate (log)", "gamma", "ent_coef"]
    lr, gamma, ent = data.params
    assert [v for _, v in lr.complete] == [150.0] and lr.best == pytest.approx(
        (0.5 + 0.5 * math.log10(3), 190.0)
    )
    assert lr.pruned == ((0.0, 15.0),)  # #2, at its last reported value
    assert [v for _, v in lr.running] == [60.0]  # #4's latest evaluation; paused #5 is not shown
    assert gamma.pruned == (pytest.approx(((0.98 - 0.9) / 0.099, 15.0)),)
    assert ent.ticks == ((0.0, "0.0"), (1.0, "0.01"))
    assert (data.low, data.high) == (15.0, 190.0)


# Axes --------------------------------------------------------------------------------------


def test_contour_places_log_axes_by_the_log() -> None:
    rows = [
        row(0, S.COMPLETE, 1.0, learning_rate=1e-4),
        row(1, S.COMPLETE, 2.0, learning_rate=1e-3),
        row(2, S.COMPLETE, 3.0, learning_rate=1e-2),
    ]
    data = sv.contour(snapshot(*rows), SPACE, LR, GAMMA, 27, 9)  # a 20 × 5 map
    assert data.best is not None
    xs = sorted([p[0] for p in data.points] + [data.best[0]])
    assert xs == pytest.approx([0.0, 9.5, 19.0])
    assert data.x_name == "learning_rate (log)" and data.y_name == "gamma"


def test_contour_places_categories_by_index_and_fills_between_them() -> None:
    rows = [
        row(0, S.COMPLETE, 1.0, arch="small", gamma=0.9),
        row(1, S.COMPLETE, 9.0, arch="big", gamma=0.9),
        row(2, S.COMPLETE, 5.0, arch="medium", gamma=0.99),
    ]
    axes = [a.name for a in axes_of(snapshot(*rows), None)]
    assert axes == ["arch", "ent_coef", "gamma", "learning_rate"]
    data = sv.contour(snapshot(*rows), None, 0, 2, 28, 8)  # a 21 × 4 map
    assert [t[1] for t in data.x_ticks] == ["big", "medium", "small"]  # by index, sorted text
    assert data.best == (0.0, 0.0) and data.points[0][:2] == (20.0, 0.0)
    cells = banded(data)
    # Half the gap between two choices: big's best band reaches to the middle, not past it.
    assert cells[(5, 0)] == len(BANDS) - 1 and cells[(15, 0)] == 0


def test_slices_place_log_and_categorical_values_and_label_them() -> None:
    rows = [
        row(0, S.COMPLETE, 1.0, learning_rate=1e-4, ent_coef=0.01),
        row(1, S.COMPLETE, 2.0, learning_rate=1e-3, ent_coef=0.0),
        row(2, S.COMPLETE, 3.0, learning_rate=1e-2, ent_coef=0.01),
    ]
    lr, _, ent = sv.slices(snapshot(*rows), SPACE, 40).params
    assert lr.log and lr.ticks == ((0.0, "1e-4"), (1.0, "0.01"))
    assert lr.best is not None
    assert sorted(x for x, _ in (*lr.complete, lr.best)) == pytest.approx([0.0, 0.5, 1.0])
    assert set(ent.complete) == {(1.0, 1.0), (0.0, 2.0)} and ent.best == (1.0, 3.0)


def test_placer_agrees_with_the_axis() -> None:
    axes = [
        Axis("lr", 1e-4, 1e-2, log=True),
        Axis("g", 0.9, 0.999),
        Axis("flat", 3.0, 3.0),
        Axis("bad log", 0.0, 1.0, log=True),
        Axis("c", choices=("0.0", "0.01", "x")),
    ]
    values = [1e-5, 1e-4, 3e-3, 1.0, 0.9, 0.95, 2.0, 3, 0, -1.0, math.nan, True, None, "x", 0.01]
    for axis in axes:
        place = sv.placer(axis)
        for value in values:
            assert place(value) == pytest.approx(axis.position(value), nan_ok=True), (axis, value)


# Conditional parameters -----------------------------------------------------------------


def test_a_parameter_missing_from_some_trials_leaves_them_out_of_its_slice_only() -> None:
    only = row(1, S.COMPLETE, 2.0, clip=0.2)
    rows = [row(0, S.COMPLETE, 1.0), only, row(2, S.COMPLETE, 3.0, clip=0.3)]
    data = sv.slices(snapshot(*rows), None, 40)
    by_name = {p.name: p for p in data.params}
    assert [v for _, v in by_name["clip"].complete] == [2.0] and by_name["clip"].best == (1.0, 3.0)
    assert len(by_name["gamma"].complete) == 2
    contour = sv.contour(snapshot(*rows), None, 0, 2, 38, 9)  # clip × gamma
    assert contour.title == "clip × gamma" and contour.complete == 2


def test_contour_says_what_is_missing() -> None:
    one = snapshot(replace(row(0, S.COMPLETE, 1.0), params={"gamma": 0.9}))
    assert sv.contour(one, None, 0, 1, 38, 9).empty == (
        "contour: needs two parameters and finished trials"
    )
    no_gamma = replace(row(1, S.COMPLETE, 1.0), params={"learning_rate": 1e-3})
    unfinished = snapshot(row(0, S.RUNNING), row(2, S.PRUNED, 1.0), no_gamma)
    data = sv.contour(unfinished, SPACE, LR, GAMMA, 38, 9)
    assert data.cells == () and data.empty == (
        "contour: no complete trial has both learning_rate and gamma yet"
    )
    conditional = snapshot(row(0, S.COMPLETE, 1.0), row(1, S.COMPLETE, 2.0, clip=0.1))
    data = sv.contour(conditional, None, 0, 1, 38, 9)  # clip × ent_coef: one trial has both
    assert data.complete == 1


def test_the_pair_wraps_and_never_repeats_an_axis() -> None:
    assert sv.pick_pair(3, 0, 1) == (0, 1)
    assert sv.pick_pair(3, 4, 5) == (1, 2)
    assert sv.pick_pair(3, 2, 2) == (2, 0)
    assert sv.pick_pair(1, 0, 1) is None


# Filling and bands --------------------------------------------------------------------------


def test_a_cell_shows_its_best_trial_and_fills_only_a_small_radius() -> None:
    rows = [
        row(0, S.COMPLETE, 0.0, learning_rate=1e-4, gamma=0.9),
        row(1, S.COMPLETE, 100.0, learning_rate=1e-4, gamma=0.9),  # the same cell, better
        row(2, S.COMPLETE, 50.0, learning_rate=1e-2, gamma=0.999),
    ]
    data = sv.contour(snapshot(*rows), SPACE, LR, GAMMA, 47, 20)  # a 40 × 16 map, radii 5, 2
    cells = banded(data)
    assert cells[(0, 0)] == len(BANDS) - 1 and cells[(39, 15)] == 2
    # An ellipse: 5 cells along the row, 2 rows up in the trial's column, 4 cells a row up.
    assert cells[(5, 0)] == cells[(4, 1)] == cells[(0, 2)] == len(BANDS) - 1
    assert not {(6, 0), (5, 1), (1, 2), (0, 3)} & cells.keys()
    assert (20, 8) not in cells  # nothing near the middle: left blank
    assert len(cells) == 2 * (6 + 5 + 1)
    minimize = banded(sv.contour(snapshot(*rows, maximize=False), SPACE, LR, GAMMA, 47, 20))
    assert minimize[(0, 0)] == len(BANDS) - 1  # the cell's best: 0.0 when minimizing


def test_fill_takes_the_nearest_and_the_better_on_a_tie() -> None:
    filled = sv._fill({(0, 0): 0.2, (4, 0): 0.9}, 5, 1, 2, 1)
    assert filled == {(0, 0): 0.2, (1, 0): 0.2, (2, 0): 0.9, (3, 0): 0.9, (4, 0): 0.9}


def test_format_fits_labels_in_five_characters() -> None:
    assert [sv.fmt(v) for v in (1e-4, 0.999, 150.0, 12345.6, 0.0, -0.5)] == [
        "1e-4",
        "0.999",
        "150",
        "1.2e4",
        "0",
        "-0.5",
    ]


# 10,000 trials ------------------------------------------------------------------------------


def test_contour_of_10000_trials_draws_about_the_width_and_keeps_the_best() -> None:
    data = sv.contour(many(10_000), SPACE, LR, GAMMA, 38, 9)
    assert data.complete == 10_000 and data.best is not None
    assert len(data.points) <= data.cols + 1
    cells = banded(data)
    assert len(cells) <= data.cols * data.rows
    best = (round(data.best[0]), round(data.best[1]))
    assert cells[best] == len(BANDS) - 1


def test_slices_of_10000_trials_keep_about_the_width_and_the_best() -> None:
    rows = dict(many(10_000).rows)
    for n in range(10_000, 10_050):
        rows[n] = row(n, S.PRUNED, 1.0)
    data = sv.slices(snapshot(*rows.values()), SPACE, 60)
    for param in data.params:
        assert 10 <= len(param.complete) <= 61 and 15 <= len(param.pruned) <= 31
        assert param.best is not None and param.best[1] == 5000.0
    assert (data.low, data.high) == (0.0, 5000.0)


def test_contour_names_only_the_ends_of_an_axis_with_too_many_choices() -> None:
    rows = [row(i, S.COMPLETE, float(i), arch=f"net{i}", seed=i) for i in range(8)]
    data = sv.contour(snapshot(*rows), None, 1, 0, 38, 9)  # ent_coef × arch: 8 choices, 5 rows
    assert data.y_name == "arch" and data.y_ticks == ((0.0, "net0"), (4.0, "net7"))
    wide = sv.contour(snapshot(*rows), None, 0, 1, 38, 9)  # arch across 31 columns: too many
    assert wide.x_ticks == ((0.0, "net0"), (30.0, "net7"))
    four = [row(i, S.COMPLETE, float(i), arch=f"net{i}") for i in range(4)]
    data = sv.contour(snapshot(*four), None, 0, 1, 38, 9)  # 4 choices: 7 columns each
    assert [t for _, t in data.x_ticks] == ["net0", "net1", "net2", "net3"]
