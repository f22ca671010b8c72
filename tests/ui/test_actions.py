"""Pilot tests: every key action against a real journal storage with scripted trials."""

from __future__ import annotations

from typing import Any

import pytest
from optuna.trial import TrialState

from rltui.search import attrs
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of
from rltui.search.workers import HOST, WorkerRecord, drain_key, write_record
from rltui.ui.app import RltuiApp
from rltui.ui.screens.dialogs import ConfirmScreen, QuitScreen
from rltui.ui.screens.enqueue import EnqueueScreen
from rltui.ui.screens.help import HelpScreen
from rltui.ui.screens.trial_detail import TrialDetailScreen
from rltui.ui.textual.internals import notifications

SIZE = (120, 40)


async def opened(app: RltuiApp, pilot: Any, wait: Any) -> None:
    await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot is not None)
    await pilot.pause()


def select(app: RltuiApp, number: int) -> None:
    table = app.main_screen.table
    table.move_cursor(row=table.get_row_index(str(number)), animate=False)


def notes(app: RltuiApp) -> str:
    return "\n".join(str(n.message) for n in notifications(app))


async def on_trial(app: RltuiApp, pilot: Any, wait: Any, number: int) -> None:
    """Open the study, and select trial ``number`` in the focused trial table."""
    await opened(app, pilot, wait)
    select(app, number)
    app.main_screen.table.focus()
    await pilot.pause()


async def cloning(app: RltuiApp, pilot: Any, wait: Any, number: int) -> None:
    """Open the study, select trial ``number`` and open the form that enqueues its clone."""
    await opened(app, pilot, wait)
    select(app, number)
    await pilot.press("e")
    await wait(pilot, lambda: isinstance(app.screen, EnqueueScreen))
    await pilot.pause()  # and the form has focused its first field


async def settle(app: RltuiApp, pilot: Any) -> None:
    """Wait for the storage writes (the ``control`` thread workers) to finish."""
    for _ in range(200):
        await pilot.pause(0.02)
        if not any(
            w.group == "control" and w.state.name not in ("SUCCESS", "ERROR", "CANCELLED")
            for w in app.workers
        ):
            break
    await pilot.pause(0.05)


async def test_table_shows_every_state_and_the_status_bar(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        table = app.main_screen.table
        assert table.row_count == 7
        assert [table.get_cell(str(n), "state").plain for n in range(7)] == [
            "WAITING",
            "COMPLETE",
            "PRUNED",
            "FAIL",
            "RUNNING",
            "PAUSED",
            "COMPLETE",
        ]
        assert table.get_cell("6", "best").plain == "★"
        status = str(app.main_screen.query_one("#status").render())
        assert "smoke" in status and "best 190 (#6)" in status and "2 workers" in status


@pytest.mark.slow
async def test_pause_prune_kill_running_trial_write_control_records(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        select(app, 4)
        await pilot.press("p")
        await settle(app, pilot)
        assert scripted.system(4)[attrs.CONTROL]["action"] == "pause"
        assert "trial 4: pause requested" in notes(app)
        await wait(pilot, lambda: app.main_screen.table.get_cell("4", "state").plain == "pausing")
        await pilot.press("x")
        await settle(app, pilot)
        assert scripted.system(4)[attrs.CONTROL]["action"] == "prune"
        await pilot.press("k")
        await wait(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        assert scripted.system(4)[attrs.CONTROL]["action"] == "prune"
        assert "left running" in notes(app)
        await pilot.press("k")
        await wait(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(app, pilot)
        assert scripted.system(4)[attrs.CONTROL]["action"] == "kill"


async def test_resume_moves_a_paused_trial_to_waiting(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        select(app, 5)
        assert app.main_screen.check_action("resume", ()) is True
        assert app.main_screen.check_action("pause", ()) is None
        await pilot.press("r")
        await settle(app, pilot)
        assert scripted.trial(5).state == TrialState.WAITING
        await wait(pilot, lambda: app.main_screen.table.get_cell("5", "state").plain == "WAITING")
        assert "queued to resume at 256 timesteps" in notes(app)


@pytest.mark.slow
async def test_actions_that_do_not_apply_are_greyed_and_do_nothing(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        select(app, 1)  # COMPLETE
        await pilot.pause()
        for action in ("pause", "resume", "prune", "kill"):
            assert app.main_screen.check_action(action, ()) is None
        await pilot.press("p", "x")
        await settle(app, pilot)
        assert attrs.CONTROL not in scripted.system(1)
        # What the palette says when it is picked there (tests/ui/test_palette.py runs it).
        assert app.main_screen.why_not("prune") == "trial 1 is COMPLETE"


@pytest.mark.slow
async def test_enqueue_clones_the_selected_trial_with_edits(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cloning(app, pilot, wait, 6)
        gamma = app.screen.query_one("#param-gamma")
        assert gamma.value == "0.99"
        gamma.value = "0.95"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        new = scripted.ostudy.trials[-1]
        assert new.number == 7 and new.state == TrialState.WAITING
        assert new.system_attrs["fixed_params"] == {
            "learning_rate": 3e-3,
            "gamma": 0.95,
            "ent_coef": 0.0,
        }
        assert new.user_attrs["rltui_clone_of"] == 6
        await wait(pilot, lambda: app.main_screen.table.row_count == 8)


@pytest.mark.slow
async def test_enqueue_form_takes_typing_at_once(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cloning(app, pilot, wait, 6)
        assert app.focused is app.screen.query_one("#param-learning_rate")
        await pilot.press("end", "backspace", "5", "ctrl+s")
        await settle(app, pilot)
        assert scripted.ostudy.trials[-1].system_attrs["fixed_params"]["learning_rate"] == 5e-3


@pytest.mark.slow
async def test_enqueue_refuses_values_outside_the_space(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cloning(app, pilot, wait, 6)
        app.screen.query_one("#param-gamma").value = "5"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EnqueueScreen)
        assert "5 is above the highest value, 0.999" in str(
            app.screen.query_one("#problem-gamma").content
        )
        await pilot.press("escape")
        await pilot.pause()
        assert len(scripted.ostudy.trials) == 7


async def test_drain_toggles_the_study_attribute(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        await pilot.press("d")
        await settle(app, pilot)
        assert (
            storage_of(scripted.ostudy)
            .get_study_system_attrs(study_id_of(scripted.ostudy))
            .get(attrs.DRAIN)
        )
        await wait(pilot, lambda: app.main_screen.snapshot.draining)
        await pilot.press("d")
        await settle(app, pilot)
        assert (
            not storage_of(scripted.ostudy)
            .get_study_system_attrs(study_id_of(scripted.ostudy))
            .get(attrs.DRAIN)
        )


async def test_remove_one_worker_sets_its_drain_key(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        await pilot.press("W")
        await settle(app, pilot)
        system = storage_of(scripted.ostudy).get_study_system_attrs(study_id_of(scripted.ostudy))
        assert system.get(drain_key("w1")) is True
        assert "worker w1 stops after trial 4" in notes(app)


async def test_start_worker_launches_one_detached_worker(make_app, wait, monkeypatch, tmp_path):
    calls = []

    def fake_start(self, count=1, *, first_index=0, **kwargs):
        calls.append((count, first_index, self.study_file))
        return []

    monkeypatch.setattr("rltui.launch.local.LocalPool.start", fake_start)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        await pilot.press("w")
        await settle(app, pilot)
        # The scripted workers' records have index 0: the next index is 1.
        assert calls == [(1, 1, tmp_path / "smoke.yaml")]
        assert "started 0 workers" in notes(app)


async def test_theme_switches_and_is_acknowledged(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        assert app.theme == "rltui-dark"
        await pilot.press("t")
        assert app.theme != "rltui-dark" and app.theme in app.theme_names
        assert f"theme: {app.theme}" in notes(app)


async def test_quit_keeps_workers_by_default(make_app, wait, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "rltui.ui.services.session.signal_worker", lambda pid, sig: sent.append(pid) or True
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        await pilot.press("q")
        await wait(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 0 and sent == []


async def test_quit_can_stop_local_workers(make_app, wait, monkeypatch, scripted):
    sent = []
    monkeypatch.setattr(
        "rltui.ui.services.session.signal_worker", lambda pid, sig: sent.append(pid) or True
    )
    local = WorkerRecord("w9", HOST, 999_999, "cpu", 0.0, 0.0, state="training", trial=4)
    write_record(scripted.storage, study_id_of(scripted.ostudy), local)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        await pilot.press("q")
        await wait(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("s")
        await settle(app, pilot)
    assert sent == [999_999]


@pytest.mark.slow
async def test_sort_and_filters(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        table = app.main_screen.table
        await pilot.press("s")  # number -> state
        assert table.sort_column == "state"
        assert str(table.coordinate_to_cell_key((0, 0)).row_key.value) == "0"  # WAITING first
        await pilot.press("s")  # -> value, best first (the study maximizes)
        assert table.sort_column == "value"
        assert str(table.coordinate_to_cell_key((0, 0)).row_key.value) == "6"  # 190 is best
        await pilot.press("S")
        assert str(table.coordinate_to_cell_key((0, 0)).row_key.value) == "2"  # 15 is worst
        state_line = app.main_screen.query_one("#table-state")
        assert "sort: value" in str(state_line.render())  # always in view, not a toast
        await pilot.press("f")  # the state picker: WAITING, PAUSED, RUNNING, …
        await pilot.press("down", "space", "escape")
        assert table.trial_filter.states == {TrialStatus.RUNNING}
        assert table.row_count == 1
        await pilot.press("f", "a")  # every state again
        assert table.row_count == 7
        await pilot.press("slash")
        await pilot.press(*"gamma=0.99")
        assert table.row_count == 1
        await pilot.press("enter")
        assert table.has_focus


@pytest.mark.slow
async def test_enter_opens_the_detail_with_traceback(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        select(app, 3)
        app.main_screen.table.focus()
        await pilot.press("enter")
        await wait(pilot, lambda: isinstance(app.screen, TrialDetailScreen))
        text = str(app.screen.query_one("#traceback").render())
        assert "ValueError: NaN reward" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TrialDetailScreen)


@pytest.mark.slow
async def test_help_and_panels(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        await pilot.press("f1")
        await wait(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait(pilot, lambda: not isinstance(app.screen, HelpScreen))
        screen = app.main_screen
        assert screen.query_one("#sidebar").display
        await pilot.press("ctrl+b")
        await wait(pilot, lambda: not screen.query_one("#sidebar").display)
        await pilot.press("ctrl+j")
        await wait(pilot, lambda: not screen.query_one("#panel").display)
        await wait(pilot, lambda: "bottom panel hidden" in notes(app))


async def test_small_terminal_collapses_panels(make_app, wait):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(app, pilot, wait)
        assert not app.main_screen.query_one("#sidebar").display
        assert not app.main_screen.query_one("#panel").display
        assert app.main_screen.table.row_count == 7


async def test_rows_update_in_place_as_progress_arrives(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        select(app, 2)
        tid = trial_id_of(scripted.trial(4))
        scripted.storage.set_trial_intermediate_value(tid, 768, 90.0)
        scripted.storage.set_trial_system_attr(
            tid, attrs.PROGRESS, {"timesteps": 768, "total": 1024}
        )
        table = app.main_screen.table
        await wait(pilot, lambda: table.get_cell("4", "progress").startswith("768/1024"))
        assert table.get_cell("4", "last_eval") == "90"
        assert app.main_screen.table.selected_number == 2


@pytest.mark.slow
async def test_a_burst_of_editing_keys_in_a_field_lands_in_order(make_app, wait, scripted):
    # Keys typed ahead arrive together: the field's own editing keys (ctrl+u, backspace,
    # the arrows) must act between the characters around them, not after all of them.
    from textual import events

    from tests.ui.test_window import burst

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cloning(app, pilot, wait, 6)
        burst(app, "ctrl+u", "0", ".", "0", "0", "6", "backspace", "5", "left", "left", "0")
        field = app.screen.query_one("#param-learning_rate")
        # 0.006, backspace: 0.00, 5: 0.005, two lefts and 0: 0.0005.
        await wait(pilot, lambda: len(field.value) >= 6, timeout=30)
        assert field.value == "0.0005"
        burst(app, "end", "ctrl+u", "0", ".", "0", "0", "5", "tab")
        await wait(pilot, lambda: app.focused is not field, timeout=30)
        assert field.value == "0.005"
        await pilot.press("escape")
        await wait(pilot, lambda: not isinstance(app.screen, EnqueueScreen), timeout=30)
        app.post_message(events.Key("slash", "/"))
        burst(app, "s", "t", "a", "t", "backspace", "t", "e", "home", "ctrl+k", "p")
        line = app.main_screen.query_one("#filter")
        await wait(pilot, lambda: line.value.endswith("p"), timeout=30)
        assert line.value == "p"


@pytest.mark.slow
async def test_keys_typed_behind_the_key_that_opens_a_form_go_to_the_form(make_app, wait, scripted):
    # Typed ahead with e: the edits are meant for the form e opens. They used to reach the
    # trial table first (its tab keys, then the study file's editor; ctrl+s saved the file).
    from tests.ui.test_window import burst

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_trial(app, pilot, wait, 6)
        on_disk = scripted.path.read_text()
        burst(app, "e", "end", "ctrl+u", "0", ".", "0", "0", "2", "tab")
        burst(app, "ctrl+u", "0", ".", "9", "5", "ctrl+s")
        await wait(pilot, lambda: len(scripted.ostudy.trials) == 8, timeout=30)
        assert scripted.ostudy.trials[-1].system_attrs["fixed_params"] == {
            "learning_rate": 0.002,
            "gamma": 0.95,
            "ent_coef": 0.0,
        }
        assert not isinstance(app.screen, EnqueueScreen)
        assert app.focused is app.main_screen.table
        assert scripted.path.read_text() == on_disk
        assert not app.main_screen.study_pane.modified


@pytest.mark.slow
async def test_an_open_detail_follows_its_running_trial(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_trial(app, pilot, wait, 4)
        await pilot.press("enter")
        await wait(pilot, lambda: isinstance(app.screen, TrialDetailScreen))
        detail = app.screen
        tid = trial_id_of(scripted.trial(4))
        scripted.storage.set_trial_intermediate_value(tid, 768, 93.5)
        scripted.storage.set_trial_system_attr(
            tid, attrs.PROGRESS, {"timesteps": 768, "total": 1024}
        )

        def shown(name: str) -> str:
            from io import StringIO

            from rich.console import Console

            console = Console(file=StringIO(), width=120, color_system=None)
            console.print(detail.query_one(f"#{name}").content)
            return console.file.getvalue()

        await wait(pilot, lambda: "93.5" in shown("evaluations"), timeout=30)
        assert detail.row.timesteps == 768 and "768" in shown("summary")
