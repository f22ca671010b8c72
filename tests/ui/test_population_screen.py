"""The population view of a PBT study: opened with O or the palette, its table follows the
storage, and its keys write the settings the workers read at each segment end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from optuna.trial import TrialState
from textual.command import CommandPalette
from textual.widgets import DataTable, OptionList

from rltui.search import attrs, segments
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.segments import Segment
from rltui.search.study import open_study
from rltui.spec import load_study
from rltui.spec.pbt import options_of
from rltui.ui.app import RltuiApp
from rltui.ui.screens.picker import Picker
from rltui.ui.screens.population import PopulationChart, PopulationScreen
from rltui.ui.textual.internals import notifications
from rltui.ui.widgets.status_bar import StatusBar

from .conftest import SMOKE, SMOKE_PRUNER, add_trial, fixed_clock

pytestmark = pytest.mark.slow  # each test drives the app for seconds

SMOKE_SAMPLER = "sampler:\n  type: tpe\n  n_startup_trials: 3\n  seed: 0\n"
PBT_SAMPLER = "sampler: {type: pbt, population: 4, interval: 512, seed: 0}\n"
PARAMS = {"learning_rate": 3e-3, "gamma": 0.98, "ent_coef": 0.0}


def pbt_file(folder: Path) -> Path:
    """The smoke study as a PBT study of four members, in ``folder``."""
    text = SMOKE.read_text(encoding="utf-8")
    assert SMOKE_SAMPLER in text and SMOKE_PRUNER in text
    text = text.replace(SMOKE_SAMPLER, PBT_SAMPLER).replace(SMOKE_PRUNER, "")
    path = folder / "pbt.yaml"
    path.write_text(text[: text.index("enqueue:")], encoding="utf-8")
    return path


class PbtStudy:
    """The smoke study made a PBT study of four members: m0 trains its second segment, m1
    waits to start from m0's checkpoint, m2 finished, m3 was retired."""

    def __init__(self, folder: Path, *, populated: bool = True) -> None:
        self.path = pbt_file(folder)
        self.study = load_study(self.path, check_env=False)
        self.ostudy, _ = open_study(self.study)
        self.storage, self.study_id = storage_of(self.ostudy), study_id_of(self.ostudy)
        if populated:
            self._populate()

    def _populate(self) -> None:
        self._segment(0, 0, TrialState.COMPLETE, {256: 20.0, 512: 50.0}, 50.0)
        self._segment(1, 0, TrialState.COMPLETE, {256: 5.0, 512: 10.0}, 10.0)
        self._segment(2, 0, TrialState.COMPLETE, {256: 25.0, 512: 30.0}, 30.0)
        self._segment(3, 0, TrialState.COMPLETE, {256: 2.0, 512: 5.0}, 5.0)
        progress = {attrs.PROGRESS: {"timesteps": 768, "total": 1024, "updated": 0}}
        self._segment(0, 1, TrialState.RUNNING, {768: 80.0}, parent=0, system=progress)
        explore = {"learning_rate": "x1.2", "gamma": "resampled"}
        self._segment(1, 1, TrialState.WAITING, {}, parent=0, donor=0, explore=explore)
        self._segment(2, 1, TrialState.COMPLETE, {768: 45.0, 1024: 60.0}, 60.0, parent=2)
        segments.retire(self.storage, self.study_id, 3, "retired: the population was made 3")

    def _segment(
        self,
        member: int,
        index: int,
        state: TrialState,
        curve: dict[int, float],
        value: float | None = None,
        parent: int | None = None,
        system: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        start = index * 512
        previous = member if index else None
        segment = Segment(member, index, start, start + 512, parent, previous, **kw)
        # A finished trial takes no more attributes: the record is in it from the start, as
        # pbt.enqueue writes a next segment's.
        system = {**(system or {}), segments.SEGMENT: segment.record()}
        add_trial(self.ostudy, state, member + 4 * index, PARAMS, curve, value, system)

    def settings(self) -> segments.Settings:
        system = self.storage.get_study_system_attrs(self.study_id)
        return segments.settings(options_of(self.study.spec), system)


@pytest.fixture
def pbt_study(tmp_path: Path) -> PbtStudy:
    return PbtStudy(tmp_path)


def table_members(screen: PopulationScreen) -> list[str]:
    table = screen.query_one("#pop-table", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def opened(app: RltuiApp, pilot: Any, wait: Any) -> PopulationScreen:
    await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot is not None)
    await pilot.press("O")
    await wait(pilot, lambda: isinstance(app.screen, PopulationScreen))
    screen = app.screen
    assert isinstance(screen, PopulationScreen)
    await wait(pilot, lambda: screen.population is not None)
    return screen


def said(app: RltuiApp, words: str) -> bool:
    return any(words in str(n.message) for n in notifications(app))


async def test_the_keys_write_the_population_settings(pbt_study: PbtStudy, wait: Any) -> None:
    app = RltuiApp(pbt_study.path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(app, pilot, wait)
        assert table_members(screen) == ["m2", "m0", "m1", "m3"]  # best first
        found = screen.population
        assert found is not None
        states = {m.member: m.state for m in found.members}
        assert states == {0: "training", 1: "waiting", 2: "finished", 3: "retired"}
        assert any("← m0 @512" in line for line in found.lineage)
        assert screen.selected == 2

        await pilot.press("f")
        await wait(pilot, lambda: pbt_study.settings().frozen == {2})
        await wait(pilot, lambda: said(app, "m2 frozen"))
        await wait(pilot, lambda: "frozen" in str(screen.query_one(DataTable).get_row("2")))

        await pilot.press("e")
        await wait(pilot, lambda: isinstance(app.screen, Picker))
        picker = app.screen
        assert isinstance(picker, Picker)
        offered = list(picker.values)
        assert offered == [0, 1]  # not itself, not the retired m3
        picker.query_one(OptionList).highlighted = 1
        await pilot.press("enter")
        await wait(pilot, lambda: dict(pbt_study.settings().force) == {2: 1})
        await wait(pilot, lambda: said(app, "m2 copies m1 at its next segment end"))

        await pilot.press("f")  # thaw it again
        await wait(pilot, lambda: pbt_study.settings().frozen == frozenset())

        await pilot.press("plus")
        await wait(pilot, lambda: pbt_study.settings().population == 5)
        await pilot.press("minus", "minus", "minus", "minus")
        await wait(pilot, lambda: pbt_study.settings().population == 2)
        await wait(pilot, lambda: screen.settings is not None and screen.settings.population == 2)
        await pilot.press("minus")
        await wait(pilot, lambda: said(app, "stays at 2"))
        assert pbt_study.settings().population == 2

        await pilot.press("left_square_bracket")
        await wait(pilot, lambda: pbt_study.settings().perturb == (0.9, 1.1))
        await pilot.press("right_square_bracket", "right_square_bracket")
        await wait(pilot, lambda: pbt_study.settings().perturb == (0.7, 1.3))
        await wait(pilot, lambda: said(app, "perturbation factors: x0.7, x1.3"))

        await pilot.press("escape")
        await wait(pilot, lambda: not isinstance(app.screen, PopulationScreen))


async def test_palette_opens_it_and_typing_O_in_the_editor_does_not(
    pbt_study: PbtStudy, wait: Any
) -> None:
    app = RltuiApp(pbt_study.path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot)
        await pilot.press("2")
        main = app.main_screen
        assert main is not None
        await wait(pilot, lambda: main.study_pane.editor.has_focus)
        await pilot.press("O")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, PopulationScreen)
        await pilot.press("escape", "1")
        await pilot.press("ctrl+p")
        await wait(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Population of a PBT", "enter")
        await wait(pilot, lambda: isinstance(app.screen, PopulationScreen))


async def test_at_80_by_24_everything_shows(pbt_study: PbtStudy, wait: Any) -> None:
    app = RltuiApp(pbt_study.path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, wait)
        await pilot.pause(0.3)
        table = screen.query_one("#pop-table", DataTable)
        assert table.region.height >= table.row_count + 1  # the header and every member
        assert screen.query_one("#pop-settings").region.height == 1
        assert screen.query_one(PopulationChart).region.height >= 6
        assert screen.query_one("#pop-lineage-box").region.height >= 3
        box = screen.query_one("#population").region
        for widget in (table, screen.query_one(PopulationChart)):
            assert box.contains_region(widget.region)
        assert all(len(line) <= 80 - 4 for line in screen.population.lineage)  # type: ignore[union-attr]
        shown = {b.binding.description for b in screen.active_bindings.values() if b.binding.show}
        assert {"Freeze", "Exploit", "Grow", "Shrink", "Narrow", "Widen", "Close"} <= shown
        keys = list(screen.query("FooterKey"))
        assert len(keys) >= len(shown)
        assert all(0 < key.region.right <= 80 and key.region.y == 23 for key in keys)


async def test_a_population_not_started_yet(tmp_path: Path, wait: Any) -> None:
    app = RltuiApp(pbt_file(tmp_path), clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, wait)
        await wait(
            pilot, lambda: "no member has started" in str(screen.query_one("#pop-lineage").render())
        )
        assert screen.selected is None and table_members(screen) == []
        assert "│ no trials │" in str(app.main_screen.query_one("#status", StatusBar).content)
        assert screen.check_action("freeze", ()) is None  # greyed out: no member to freeze
        await pilot.press("plus")
        await wait(pilot, lambda: said(app, "population: 5 members"))


async def test_a_study_that_is_not_pbt_says_so(make_app: Any, wait: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot)
        await pilot.press("O")
        await wait(pilot, lambda: said(app, "not a PBT study"))
        assert not isinstance(app.screen, PopulationScreen)


async def test_the_status_bar_names_the_best_member_not_the_best_segment(
    pbt_study: PbtStudy, wait: Any
) -> None:
    # A segment of a fifth member that scored more, halfway: its weights trained on, so the
    # bar still names member 2, whose last segment trained the whole budget.
    pbt_study._segment(4, 0, TrialState.COMPLETE, {256: 90.0, 512: 99.0}, 99.0)
    app = RltuiApp(pbt_study.path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot)
        assert app.main_screen.snapshot.best.value == 99.0  # type: ignore[union-attr]
        bar = app.main_screen.query_one("#status", StatusBar)
        await wait(pilot, lambda: "best m2 60 (#6)" in str(bar.content))
        assert "99" not in str(bar.content)


async def test_before_any_member_trained_its_budget_the_bar_says_segment(
    tmp_path: Path, wait: Any
) -> None:
    study = PbtStudy(tmp_path, populated=False)
    study._segment(0, 0, TrialState.COMPLETE, {256: 20.0, 512: 50.0}, 50.0)
    app = RltuiApp(study.path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot)
        bar = app.main_screen.query_one("#status", StatusBar)
        await wait(pilot, lambda: "best segment 50 (#0)" in str(bar.content))
