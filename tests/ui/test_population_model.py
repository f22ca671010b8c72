"""The population model: member rows, the lineage lines and the joined curves of a PBT study,
from rows as the reader makes them."""

from __future__ import annotations

from typing import Any

from rltui.search import segments
from rltui.search.lifecycle import TrialStatus
from rltui.search.segments import Segment
from rltui.spec.pbt import PbtOptions
from rltui.ui.models import population
from rltui.ui.models.population import build, grown, moved_factors

from .conftest import trial_row

C, R, W, P, F = (
    TrialStatus.COMPLETE,
    TrialStatus.RUNNING,
    TrialStatus.WAITING,
    TrialStatus.PAUSED,
    TrialStatus.FAIL,
)
TOTAL = 6144
EXPLORE = {"learning_rate": "x1.2", "ent_coef": "resampled"}


def seg(number: int, status: TrialStatus, member: int, index: int, start: int, **kw: Any) -> Any:
    """A row of member ``member``'s segment ``index`` (2,048 timesteps from ``start``)."""
    curve = kw.pop("curve", {})
    value = kw.pop("value", None)
    params = kw.pop("params", {"learning_rate": 0.001 * (member + 1), "ent_coef": 0.0})
    timesteps = kw.pop("timesteps", 0)
    segment = Segment(member, index, start, start + 2048, **kw)
    return trial_row(
        number,
        status,
        value,
        curve=tuple(sorted(curve.items())),
        params=params,
        timesteps=timesteps,
        segment=segment,
    )


def study_rows() -> list[Any]:
    """m0 trains its third segment; m1 copied m0 from behind (it had reached 4,096, it goes
    on from m0's 2,048) and waits; m2 is frozen and paused; m3 was retired; m4 finished; m5
    failed in its first segment."""
    return [
        seg(0, C, 0, 0, 0, curve={1024: 20.0, 2048: 50.0}, value=50.0),
        seg(1, C, 1, 0, 0, curve={1024: 5.0, 2048: 10.0}, value=10.0),
        seg(2, C, 2, 0, 0, curve={1024: 25.0, 2048: 30.0}, value=30.0),
        seg(3, C, 3, 0, 0, curve={1024: 2.0, 2048: 5.0}, value=5.0),
        seg(4, C, 0, 1, 2048, curve={3072: 90.0, 4096: 120.0}, value=120.0, parent=0, previous=0),
        seg(5, C, 1, 1, 2048, curve={3072: 12.0, 4096: 15.0}, value=15.0, parent=1, previous=1),
        seg(6, C, 2, 1, 2048, curve={3072: 35.0, 4096: 40.0}, value=40.0, parent=2, previous=2),
        seg(7, C, 3, 1, 2048, curve={3072: 4.0, 4096: 4.0}, value=4.0, parent=3, previous=3),
        seg(8, R, 0, 2, 4096, curve={5120: 150.0}, parent=4, previous=4, timesteps=5000),
        seg(9, W, 1, 2, 2048, parent=0, previous=5, donor=0, explore=EXPLORE),
        seg(10, P, 2, 2, 4096, curve={5120: 45.0}, parent=6, previous=6),
        seg(11, C, 4, 0, 0, curve={2048: 100.0}, value=100.0),
        seg(12, C, 4, 1, 2048, curve={4096: 180.0}, value=180.0, parent=11, previous=11),
        seg(13, C, 4, 2, 4096, curve={6144: 200.0}, value=200.0, parent=12, previous=12),
        seg(14, F, 5, 0, 0),
        trial_row(15, C, 1.0),  # not a segment: left out
    ]


def study_settings() -> segments.Settings:
    system = {
        f"{segments.FROZEN}2": True,
        f"{segments.FORCE}0": 4,
        f"{segments.RETIRED}3": "retired: the population was made 3",
    }
    return segments.settings(PbtOptions(population=4, interval=2048), system)


def test_member_rows_best_first_with_states_and_settings() -> None:
    found = build(study_rows(), study_settings(), TOTAL, maximize=True)
    rows = {m.member: m for m in found.members}
    assert [m.member for m in found.members] == [4, 0, 2, 1, 3, 5]
    assert {m: r.state for m, r in rows.items()} == {
        0: population.TRAINING,
        1: population.WAITING,
        2: population.PAUSED,
        3: population.RETIRED,
        4: population.FINISHED,
        5: population.FAILED,
    }
    m0 = rows[0]
    assert (m0.timesteps, m0.latest, m0.best, m0.trial) == (5000, 120.0, 120.0, 8)
    assert m0.forced == 4 and not m0.frozen
    assert rows[1].exploits == 1 and rows[1].timesteps == 2048  # it goes on from m0's 2,048
    assert rows[2].frozen and rows[2].timesteps == 4096
    assert rows[3].why == "retired: the population was made 3"
    assert rows[4].timesteps == TOTAL and rows[4].best == 200.0
    assert rows[5].latest is None and rows[5].timesteps == 0
    assert rows[0].params == {"learning_rate": 0.001, "ent_coef": 0.0}
    assert found.param_names == ("ent_coef", "learning_rate")


def test_minimising_ranks_the_lowest_value_first() -> None:
    found = build(study_rows(), study_settings(), TOTAL, maximize=False)
    assert [m.member for m in found.members] == [3, 1, 2, 0, 4, 5]
    assert found.member(4) is not None and found.member(4).best == 100.0  # type: ignore[union-attr]


def test_joined_curves_replace_what_an_exploit_went_back_over() -> None:
    found = build(study_rows(), study_settings(), TOTAL, maximize=True)
    assert found.curves[0].points == (
        (1024, 20.0),
        (2048, 50.0),
        (3072, 90.0),
        (4096, 120.0),
        (5120, 150.0),
    )
    assert found.curves[0].marks == ()
    m1 = found.curves[1]
    assert m1.points == ((1024, 5.0), (2048, 10.0))  # its own 3,072 and 4,096 were replaced
    assert m1.marks == ((2048, 10.0),)
    (exploit,) = found.exploits[1]
    assert (exploit.step, exploit.start, exploit.donor, exploit.trial) == (4096, 2048, 0, 9)
    assert found.curves[5].points == ()


def test_lineage_says_who_copied_whom_and_when() -> None:
    found = build(study_rows(), study_settings(), TOTAL, maximize=True)
    text = " ".join(line.strip() for line in found.lineage)  # wrapped lines joined again
    assert "m0 ─ 2,048 ─ 4,096 ┄ 6,144 · training · copies m4 next" in text
    assert (
        "m1 ─ 2,048 ─ 4,096 ← m0 @2,048 (ent_coef resampled, learning_rate x1.2) ┄ 4,096 "
        "· waiting" in text
    )
    assert "m2 ─ 2,048 ─ 4,096 ┄ 6,144 · paused · frozen" in text
    assert "m3 ─ 2,048 ─ 4,096 · retired: the population was made 3" in text
    assert "m4 ─ 2,048 ─ 4,096 ─ 6,144 · finished" in text
    assert "m5 ┄ 2,048 · failed" not in text and "m5 · failed" in text
    assert all(len(line) <= population.LINEAGE_WIDTH for line in found.lineage)


def test_lineage_wraps_at_a_narrow_width_and_collapses_long_runs() -> None:
    rows = [
        seg(i, C, 0, i, i * 2048, value=float(i), parent=i - 1 if i else None) for i in range(30)
    ]
    rows.append(
        seg(30, W, 0, 30, 58 * 1024, donor=1, explore={f"param_{k}": "x0.8" for k in range(8)})
    )
    rows.append(seg(31, C, 1, 0, 0, value=1.0))
    found = build(rows, study_settings(), 100 * 2048, maximize=True, width=40)
    assert all(len(line) <= 40 for line in found.lineage)
    assert found.lineage[0].startswith("m0 ─ 2,048 ─ …27 more ─ 59,392 ─ 61,440")
    text = " ".join(found.lineage)
    assert "← m1 @59,392" in text and "param_7 x0.8)" in text
    assert found.lineage[-1] == "m1 ─ 2,048 · waiting"


def test_many_trials_build_in_one_pass() -> None:
    rows = [
        seg(n, C, n % 50, n // 50, (n // 50) * 2048, curve={(n // 50 + 1) * 2048: 1.0}, value=1.0)
        for n in range(10_000)
    ]
    found = build(rows, study_settings(), 10**9, maximize=True)
    assert len(found.members) == 50
    assert len(found.curves[7].points) == 200


def test_perturbation_factors_move_around_one_and_stay_positive() -> None:
    assert moved_factors((0.8, 1.2), wider=False) == (0.9, 1.1)
    assert moved_factors((0.8, 1.2), wider=True) == (0.7, 1.3)
    assert moved_factors((0.9, 1.1), wider=False) == (0.95, 1.05)
    assert moved_factors((0.95, 1.05), wider=False) == (0.95, 1.05)
    assert moved_factors((0.1, 1.9), wider=True) == (0.1, 1.9)
    assert moved_factors((0.5, 1.0, 3.0), wider=True) == (0.4, 1.0, 1.9)
    assert all(f > 0 for f in moved_factors((0.05,), wider=True))


def test_a_population_with_no_segment_yet_is_empty() -> None:
    found = build([trial_row(0, C, 1.0)], study_settings(), TOTAL, maximize=True)
    assert (found.members, found.lineage, found.curves) == ((), (), {})


def test_population_grows_and_never_shrinks_below_two() -> None:
    assert grown(4, more=True) == 5
    assert grown(4, more=False) == 3
    assert grown(2, more=False) == 2
