"""A study that cannot be opened: with nothing to show the app exits with the reason and
status 1; with a study file it stays, says so in the status bar, and opens on a fixed save."""

from __future__ import annotations

from typing import Any

from rltui.ui.app import RltuiApp
from tests.conftest import needs_psycopg

from .conftest import fixed_clock
from .test_actions import opened

SIZE = (120, 40)
BROKEN = "sqlite:////rltui-no-such-folder/x.db"  # fails at once, with no driver to install


async def ended(app: RltuiApp, pilot: Any, wait: Any) -> None:
    await wait(pilot, lambda: app.return_code is not None)


def status(app: RltuiApp) -> str:
    assert app.main_screen is not None
    return str(app.main_screen.query_one("#status").render())


async def test_a_study_name_not_in_the_storage_exits_with_a_did_you_mean(scripted, wait, capsys):
    app = RltuiApp(None, scripted.url, "smok", clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await ended(app, pilot, wait)
    assert app.return_code == 1
    err = capsys.readouterr().err
    assert "rltui: no study named 'smok' in this storage (did you mean 'smoke'?)" in err


@needs_psycopg
async def test_an_unreachable_storage_on_the_command_line_exits_masking_the_password(wait, capsys):
    url = "postgresql://user:s3cret@127.0.0.1:1/x"
    app = RltuiApp(None, url, "NAME", clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await ended(app, pilot, wait)
    assert app.return_code == 1
    err = capsys.readouterr().err
    assert "cannot open the storage postgresql://user:***@127.0.0.1:1/x" in err
    assert "s3cret" not in err


async def test_a_study_file_whose_storage_fails_stays_open_and_says_so(study_file, wait, capsys):
    text = study_file.read_text(encoding="utf-8")
    study_file.write_text(f"storage: {BROKEN}\n{text}", encoding="utf-8")
    app = RltuiApp(study_file, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "study not opened" in status(app))
        assert "cannot open the storage sqlite:////rltui-no-such-folder/x.db" in status(app)
        assert app.main_screen.session is None and app.return_code is None
        assert app.main_screen.study_pane.path == study_file  # there to be fixed

        # Fixed in the editor and saved: the study opens.
        pane = app.main_screen.study_pane
        await pilot.press("2")
        pane.editor.replace("storage: null", (0, 0), (0, len(f"storage: {BROKEN}")))
        await pilot.press("ctrl+s")
        await opened(app, pilot, wait)
        assert app.main_screen.session is not None
        assert "study not opened" not in status(app) and "smoke" in status(app)
    assert app.return_code in (None, 0)


async def test_a_storage_given_with_a_study_file_that_fails_keeps_the_app(study_file, wait):
    app = RltuiApp(study_file, BROKEN, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "study not opened" in status(app))
        await pilot.pause(0.2)
        assert app.return_code is None
