"""A study that cannot be opened: with nothing to show the app exits with the reason and
status 1; with a study file it stays, says so in the status bar, and opens on a fixed save. A
study file that does not exist yet starts as the starter study, written and opened on save."""

from __future__ import annotations

from typing import Any

from rltui.ui.app import RltuiApp
from rltui.ui.widgets.explorer import Explorer
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


# -- a new study file -------------------------------------------------------------------------


def test_the_starter_study_is_valid_and_named_as_its_file() -> None:
    from rltui.spec import check_text
    from rltui.ui.models.starter import starter

    for name, written in (("my-study", "name: my-study\n"), ("1e5", 'name: "1e5"\n')):
        study, problems = check_text(starter(name), f"{name}.yaml")
        assert study is not None and not problems, problems
        assert written in starter(name) and study.spec.name == name
    # Whole in the editor of an 80-column window (line numbers and scroll bar beside it).
    assert max(len(line) for line in starter("study").splitlines()) <= 70


async def test_a_study_file_that_does_not_exist_starts_as_the_starter_study(
    tmp_path, wait, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the explorer lists this folder's study files
    path = tmp_path / "fresh.yaml"
    app = RltuiApp(path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "fresh.yaml is new" in status(app))
        pane = app.main_screen.study_pane
        assert "name: fresh\n" in pane.editor.text and not pane.modified  # nothing typed yet
        assert app.focused is pane.editor and not path.exists()
        await pilot.press("ctrl+s")  # written, then opened: a study with no trials yet
        await opened(app, pilot, wait)
        assert path.read_text(encoding="utf-8") == pane.editor.text
        explorer = app.main_screen.query_one(Explorer)
        await wait(pilot, lambda: explorer.lists(path))  # listed once written
        assert app.main_screen.session is not None and "fresh" in status(app)


async def test_rltui_in_a_folder_without_a_study_file_starts_a_study_yaml(
    tmp_path, wait, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    app = RltuiApp(None, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "study.yaml is new" in status(app))
        assert app.main_screen.study_pane.path == tmp_path / "study.yaml"
    (tmp_path / "compose.yml").write_text("services: {}\n", encoding="utf-8")  # no study
    app = RltuiApp(None, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "study.yaml is new" in status(app))
    (tmp_path / "other.yml").write_text("train: {}\n", encoding="utf-8")
    app = RltuiApp(None, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:  # a file to pick: no starter
        await wait(pilot, lambda: "pick a study file in the explorer" in status(app))
        assert app.main_screen.study_pane.path is None


async def test_a_study_file_that_is_not_text_says_so(tmp_path, wait):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: x\n\x86\x00\xff")
    app = RltuiApp(path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "study not opened" in status(app))
        assert "it is not UTF-8 text (byte 0x86 at offset 8)" in status(app)
        assert app.return_code is None


async def test_another_study_with_the_same_parameters_shows_only_its_own_trials(
    scripted, wait
) -> None:
    # The table was brought up to date row by row: the first study's trials that the second
    # one does not have stayed in its table.
    other = scripted.path.with_name("other.yaml")
    text = scripted.path.read_text(encoding="utf-8")
    other.write_text(text.replace("name: smoke", "name: other"), encoding="utf-8")
    app = RltuiApp(scripted.path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        screen = app.main_screen
        assert len(screen.table.rows) > 1
        app.open_study(other, None, None)  # as Enter on it in the explorer does
        await wait(pilot, lambda: screen.snapshot and screen.snapshot.study_name == "other")
        await pilot.pause(0.2)
        assert sorted(str(key.value) for key in screen.table.rows) == ["0"]  # its enqueued one
        assert sorted(screen.snapshot.rows) == [0]
