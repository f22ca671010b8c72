"""How each study-file version's trials did, and the version that produced the best trials,
computed from rows and shown in the versions screen."""

from __future__ import annotations

import math

from textual.app import App
from textual.widgets import OptionList, Static

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import TrialRow
from rltui.ui.models.version_stats import VersionStats, best_version, version_stats
from rltui.ui.screens.versions import VersionsScreen

from .conftest import trial_row, wait_for


def row(number: int, status: TrialStatus, value: float | None, version: int | None) -> TrialRow:
    return trial_row(number, status, value, spec_version=version)


C, P, F, R, W, PA = (
    TrialStatus.COMPLETE,
    TrialStatus.PRUNED,
    TrialStatus.FAIL,
    TrialStatus.RUNNING,
    TrialStatus.WAITING,
    TrialStatus.PAUSED,
)
ROWS = [
    row(0, C, 100.0, 1),
    row(1, C, 150.0, 1),
    row(2, P, 15.0, 1),  # a pruned trial's value is no complete value
    row(3, F, None, 1),
    row(4, C, 120.0, 2),
    row(5, C, 190.0, 2),
    row(6, C, 40.0, 2),
    row(7, C, math.nan, 2),  # counted as complete, never as a value
    row(8, R, None, 2),
    row(9, PA, None, 3),
    row(10, W, None, 3),  # enqueued, not taken: it ran nothing
    row(11, C, 90.0, None),  # from before versions were recorded
]


def test_each_version_counts_its_trials_and_its_complete_values() -> None:
    stats = version_stats(ROWS, maximize=True)
    assert stats[1] == VersionStats(1, 4, 2, 1, 1, 150.0, 1, 125.0)
    assert stats[2] == VersionStats(2, 5, 4, 0, 0, 190.0, 5, 120.0)
    assert stats[3] == VersionStats(3, 1, 0, 0, 0, None, None, None)
    assert stats[0] == VersionStats(0, 1, 1, 0, 0, 90.0, 11, 90.0)
    assert list(stats) == [0, 1, 2, 3]
    assert best_version(stats, maximize=True) == 2
    assert stats[2].describe() == "5 run · 4 complete · best 190 (#5) · median 120"
    assert stats[3].describe() == "1 run · 0 complete"


def test_minimizing_the_best_is_the_lowest_and_ties_go_to_the_better_median() -> None:
    stats = version_stats(ROWS, maximize=False)
    assert stats[2].best == 40.0 and stats[2].best_trial == 6
    assert best_version(stats, maximize=False) == 2
    tied = version_stats(
        [row(0, C, 5.0, 1), row(1, C, 9.0, 1), row(2, C, 5.0, 2), row(3, C, 6.0, 2)], False
    )
    assert best_version(tied, maximize=False) == 2  # median 5.5 beats 7
    assert best_version(version_stats([row(0, F, None, 1)], True), True) is None
    assert version_stats([], True) == {}


class Host(App[None]):
    def __init__(self, screen: VersionsScreen) -> None:
        super().__init__()
        self.versions_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.versions_screen)


async def test_the_versions_screen_shows_how_each_version_did_and_marks_the_best() -> None:
    versions = [(1, 1.7e9, "n_trials: 8\n"), (2, 1.7e9, "n_trials: 12\n"), (3, None, "x\n")]
    screen = VersionsScreen(versions, "x\n", 3, version_stats(ROWS, True), maximize=True)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen is screen)
        listing = screen.query_one(OptionList)
        labels = [str(listing.get_option_at_index(i).prompt) for i in range(3)]
        assert "v3" in labels[0] and "1 run · 0 complete" in labels[0]
        assert "★" in labels[1] and "best 190 · median 120" in labels[1]
        assert "★" not in labels[0] + labels[2]
        shown = str(screen.query_one("#versions-stats", Static).render())
        assert (
            "version 3: 1 trial run (0 complete" in shown
            and "best trials came from version 2" in shown
        )
        await pilot.press("down")
        shown = str(screen.query_one("#versions-stats", Static).render())
        assert "best 190 (trial 5), median 120" in shown and "★ the best trials" in shown
