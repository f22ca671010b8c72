"""Several seeds per configuration: the trial detail shows each seed's value and the spread."""

from __future__ import annotations

import json

import pytest
from optuna.trial import TrialState
from rich.console import Console
from textual.widgets import Static

from rltui.search import attrs
from rltui.search.folders import progress_log
from rltui.search.storage import StudyHome
from rltui.ui.models.seeds import trial_seeds
from rltui.ui.screens.trial_detail import TrialDetailScreen
from rltui.ui.services.session import Session

from .conftest import add_trial

PARAMS = {"learning_rate": 3e-3, "gamma": 0.98, "ent_coef": 0.0}


def plain(widget: Static) -> str:
    console = Console(width=120, record=True)
    console.print(widget.content)
    return console.export_text()


@pytest.mark.slow
async def test_trial_detail_shows_each_seeds_value_and_the_spread(make_app, wait, scripted):
    seeds = {"7": [10.0, 30.0], "0": [20.0, 50.0]}
    number = add_trial(
        scripted.ostudy,
        TrialState.COMPLETE,
        7,
        PARAMS,
        {256: 15.0, 512: 40.0},
        40.0,
        {attrs.SEED_VALUES: seeds},
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        table = app.main_screen.table
        table.move_cursor(row=table.get_row_index(str(number)), animate=False)
        await pilot.press("enter")
        await wait(pilot, lambda: isinstance(app.screen, TrialDetailScreen))
        box = app.screen.query_one("#seeds", Static)
        await wait(pilot, lambda: box.display)
        summary = plain(box)
        assert "7: 30" in summary and "0: 50" in summary  # the objective is the last value
        assert "± 10 (std over 2 seeds)" in summary
        evaluations = plain(app.screen.query_one("#evaluations", Static))
        assert "seed 7" in evaluations and "seed 0" in evaluations and "std" in evaluations
        assert "15" in evaluations and "5" in evaluations.split("15", 1)[1]  # 10, 20 -> std 5


@pytest.mark.slow
async def test_a_one_seed_trial_shows_no_seeds(make_app, wait, monkeypatch):
    found = []

    def reading(session, row):
        found.append(trial_seeds(session, row))
        return found[-1]

    monkeypatch.setattr("rltui.ui.models.seeds.trial_seeds", reading)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        table = app.main_screen.table
        table.move_cursor(row=table.get_row_index("6"), animate=False)
        await pilot.press("enter")
        await wait(pilot, lambda: isinstance(app.screen, TrialDetailScreen) and found)
        await pilot.pause(0.1)
        assert found == [None]
        assert not app.screen.query_one("#seeds", Static).display
        assert "seed" not in plain(app.screen.query_one("#evaluations", Static))


@pytest.fixture
def seeded_session(study_file):
    text = study_file.read_text(encoding="utf-8")
    head, tail = text.rsplit("  seed: 0\n", 1)  # train.seed, not the sampler's
    study_file.write_text(head + "  seeds: [7, 0]\n" + tail, encoding="utf-8")
    return Session.open(study_file)


def test_a_running_trial_has_its_seeds_from_the_training_log(seeded_session):
    session = seeded_session
    number = add_trial(
        session.ostudy, TrialState.RUNNING, 1, PARAMS, {256: 15.0, 512: 40.0}, None, {}
    )
    log = progress_log(StudyHome.beside(session.study_file).trials, number)
    log.parent.mkdir(parents=True)
    lines = [
        {"timesteps": 128, "train/loss": 1.0},
        {"timesteps": 256, "eval/mean_reward": 15.0, "eval/seed_0": 10.0, "eval/seed_1": 20.0},
        {"timesteps": 512, "eval/mean_reward": 40.0, "eval/seed_0": 30.0, "eval/seed_1": 50.0},
    ]
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    row = session.poll().rows[number]
    found = trial_seeds(session, row)
    assert found is not None and found.spread is None  # no value yet
    # Positions in train.seeds [7, 0]: eval/seed_0 is seed 7.
    assert found.seeds == (7, 0)
    assert found.evaluations == ((256, (10.0, 20.0)), (512, (30.0, 50.0)))


def test_a_finished_trial_has_its_seeds_from_its_attribute(seeded_session):
    session = seeded_session
    number = add_trial(
        session.ostudy,
        TrialState.PRUNED,
        1,
        PARAMS,
        {256: 15.0},
        15.0,
        {attrs.SEED_VALUES: {"7": [10.0], "0": [20.0]}},
    )
    found = trial_seeds(session, session.poll().rows[number])
    assert found is not None and found.spread is not None
    assert found.spread.values == (10.0, 20.0) and found.spread.std == 5.0
    assert found.evaluations == ((256, (10.0, 20.0)),)
