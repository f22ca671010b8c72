"""A paused trial whose resume could not reach its checkpoint: the reason in the table, in
the trial's detail, and in one notification when it first appears."""

from __future__ import annotations

from typing import Any

import pytest

from rltui.search import attrs
from rltui.search.optuna_internals import trial_id_of
from rltui.ui.screens.trial_detail import TrialDetailScreen
from rltui.ui.textual.internals import notifications

from .test_actions import opened, select

pytestmark = pytest.mark.slow  # each test drives the app for seconds

SIZE = (120, 40)
NOTE = (
    "checkpoint /tmp/ckpt-5 is not reachable from host gpu-node-02: "
    "set control.checkpoint_dir to a folder all hosts share"
)


def set_note(scripted: Any, note: str) -> None:
    """What a worker that cannot reach trial 5's checkpoint writes (it stays PAUSED)."""
    tid = trial_id_of(scripted.trial(5))
    scripted.storage.set_trial_system_attr(
        tid, attrs.PAUSED, {"timesteps": 256, "checkpoint": "/tmp/ckpt-5", "note": note}
    )


def announced(app: Any) -> list[str]:
    return [str(n.title) for n in notifications(app) if "could not resume" in str(n.title)]


async def test_a_note_is_announced_once_and_shown_in_table_and_detail(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        table = app.main_screen.table
        assert table.get_cell("5", "state").plain == "PAUSED" and not announced(app)

        set_note(scripted, NOTE)
        # The notification is a message of its own: it may land a moment after the table.
        await wait(
            pilot, lambda: table.get_cell("5", "state").plain == "PAUSED !" and announced(app)
        )
        assert announced(app) == ["Trial 5 could not resume: still PAUSED"]
        assert any(NOTE in str(n.message) for n in notifications(app))

        # Later polls, and changes to other trials, announce nothing more.
        tid = trial_id_of(scripted.trial(4))
        scripted.storage.set_trial_intermediate_value(tid, 768, 90.0)
        await wait(pilot, lambda: table.get_cell("4", "last_eval") == "90")
        await pilot.pause(0.3)
        assert len(announced(app)) == 1

        # Another note on the same trial (another host tried) is news.
        set_note(scripted, NOTE.replace("gpu-node-02", "gpu-node-03"))
        await wait(pilot, lambda: len(announced(app)) == 2)

        select(app, 5)
        table.focus()
        await pilot.press("enter")
        await wait(pilot, lambda: isinstance(app.screen, TrialDetailScreen))
        shown = str(app.screen.query_one("#note").render())
        assert "not resumed: checkpoint /tmp/ckpt-5" in shown and "host gpu-node-03" in shown


async def test_notes_there_before_the_ui_opened_are_announced_at_open(make_app, wait, scripted):
    set_note(scripted, NOTE)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        await wait(pilot, lambda: announced(app))
        await pilot.pause(0.3)  # once, not again with the next polls
        assert announced(app) == ["Trial 5 could not resume: still PAUSED"]
        assert app.main_screen.table.get_cell("5", "state").plain == "PAUSED !"
        # The text filter finds trials by their note.
        await pilot.press("slash", *"reachable")
        assert app.main_screen.table.row_count == 1
