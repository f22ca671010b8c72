"""The trial table kept for the window's next start: written when the window closes, shown
marked at the next start until the study's own rows replace it (and kept, marked, when the
study cannot be opened); a kept file that does not check is ignored."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from optuna.trial import TrialState

from rltui.search.lifecycle import TrialStatus
from rltui.ui.app import RltuiApp
from rltui.ui.services import table_cache
from rltui.ui.services.session import Session
from rltui.ui.widgets import trial_table

from .conftest import fixed_clock, two_objective_study
from .test_actions import opened
from .test_opening import BROKEN, status

SIZE = (120, 40)


def state_line(app: RltuiApp) -> str:
    assert app.main_screen is not None
    return str(app.main_screen.query_one("#table-state").render())


def kept_file(study_file: Path) -> Path:
    path = table_cache.cache_file(study_file, None, None)
    assert path is not None
    return path


async def show_and_close(study_file: Path, wait: Any) -> dict[int, Any]:
    """Open the study in a window, let it show, close it; the rows it showed."""
    app = RltuiApp(study_file, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        assert app.main_screen is not None and app.main_screen.snapshot is not None
        rows = dict(app.main_screen.snapshot.rows)
    return rows


# The file ------------------------------------------------------------------------------------


def test_the_kept_rows_are_what_the_table_shows(scripted: Any) -> None:
    session = Session.open(scripted.path)
    snapshot = session.poll()
    path = kept_file(scripted.path)
    table_cache.save(path, snapshot)
    kept = table_cache.load(path)
    assert kept is not None
    assert kept.study_name == snapshot.study_name and set(kept.rows) == set(snapshot.rows)
    assert [d.name for d in kept.directions] == [d.name for d in snapshot.directions]
    assert kept.changed == frozenset(kept.rows) and kept.workers == []
    for number, row in snapshot.rows.items():
        # All but the curve (its last evaluation only) and the traceback.
        expected = replace(row, curve=row.curve[-1:], traceback=None, segment=None)
        assert kept.rows[number] == expected
    assert kept.summary.counts == snapshot.summary.counts
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_a_study_of_two_objectives_keeps_their_directions_and_names(study_file) -> None:
    path = two_objective_study(study_file, [(TrialState.COMPLETE, 400.0, 30.0)])
    snapshot = Session.open(path).poll()
    table_cache.save(kept_file(path), snapshot)
    kept = table_cache.load(kept_file(path))
    assert kept is not None and kept.multi_objective
    assert [d.name for d in kept.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert kept.objective_names == snapshot.objective_names
    assert kept.ranks == snapshot.ranks and kept.best and snapshot.best
    assert kept.best.number == snapshot.best.number


def test_a_study_is_kept_by_its_file_or_by_its_storage_and_name(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    by_file = table_cache.cache_file(Path("study.yaml"), None, None)
    assert by_file == table_cache.cache_file(tmp_path / "study.yaml", "sqlite:///x.db", "a")
    by_name = table_cache.cache_file(None, "sqlite:///x.db", "a")
    assert by_name not in (by_file, table_cache.cache_file(None, "sqlite:///x.db", "b"))
    assert table_cache.cache_file(None, "sqlite:///x.db", None) is None
    assert by_file is not None and by_file.parent == table_cache.cache_dir()


def good_file(path: Path) -> list[str]:
    head = {"format": 1, "study": "s", "read_at": 1e9, "directions": ["MAXIMIZE"]}
    row = [0, 0, "COMPLETE", 1.5, {"lr": 0.1}, [100, 1.5], 100, 100, 1e9, 1e9 + 5, "w1",
           None, None, 1, 0.0, 0.0, None, [1.5], None]  # fmt: skip
    lines = [json.dumps({**head, "objective_names": []}), json.dumps([row])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept = table_cache.load(path)
    assert kept is not None and kept.rows[0].status == TrialStatus.COMPLETE
    return lines


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"format": 1', '"format": 99'),  # written by another version
        ('"MAXIMIZE"', '"UPWARDS"'),
        ('"COMPLETE"', '"DONE"'),  # a state this version does not know
        ("[0, 0,", '["0", 0,'),  # a trial number that is text
        ('{"lr": 0.1}', '{"lr": [0.1]}'),  # a parameter value JSON can hold but Optuna not
        ("[100, 1.5]", "[100]"),
        ("1000000005.0", "1e400"),  # a time out of range
        ('"w1"', "7"),
        ("[1.5], null]", "[1.5]]"),  # a field short
    ],
)
def test_a_kept_file_that_does_not_check_is_ignored(tmp_path, old, new) -> None:
    path = tmp_path / "kept.json"
    text = "\n".join(good_file(path))
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert table_cache.load(path) is None


def test_no_file_an_unreadable_file_or_one_too_big_is_no_table(tmp_path, monkeypatch) -> None:
    path = tmp_path / "kept.json"
    assert table_cache.load(path) is None
    for text in ("", "not json\n", "[" * 100_000 + "\n", '{"format": 1}\n[1, 2]\n'):
        path.write_text(text, encoding="utf-8")
        assert table_cache.load(path) is None
    path.write_bytes(b"\x86\x00\xff\n")
    assert table_cache.load(path) is None
    path.unlink()
    os.mkfifo(path)  # would block a read for ever
    assert table_cache.load(path) is None
    path.unlink()
    good_file(path)
    monkeypatch.setattr(table_cache, "MAX_BYTES", path.stat().st_size - 1)
    assert table_cache.load(path) is None


def test_a_table_that_cannot_be_written_is_left_alone(scripted: Any, tmp_path: Path) -> None:
    snapshot = Session.open(scripted.path).poll()
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    table_cache.save(blocker / "tables" / "kept.json", snapshot)  # its folder cannot be made
    assert blocker.read_text(encoding="utf-8") == ""


# The window -----------------------------------------------------------------------------------


async def test_the_kept_table_shows_until_the_studys_own_rows_replace_it(
    scripted: Any, wait: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = await show_and_close(scripted.path, wait)
    path = kept_file(scripted.path)
    kept = table_cache.load(path)
    assert kept is not None and set(kept.rows) == set(rows)
    # A trial the study does not have (kept from a study file that named another study).
    ghost = replace(kept.rows[min(rows)], number=999, trial_id=999)
    table_cache.save(path, replace(kept, rows={**kept.rows, 999: ghost}))

    go = threading.Event()
    opening = Session.open.__func__  # type: ignore[attr-defined]

    def held(cls: type[Session], *args: Any, **kwargs: Any) -> Session:
        go.wait(60)
        return opening(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(Session, "open", classmethod(held))
    # The first rows alone, while the study opens: adding them all would hold it up.
    monkeypatch.setattr(trial_table, "FIRST_ROWS", 2)
    app = RltuiApp(scripted.path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "as last shown" in state_line(app))
        screen = app.main_screen
        assert screen.session is None and screen.snapshot is None
        assert "the study is not read yet" in state_line(app)
        await pilot.pause(0.3)
        assert len(screen.table.rows) == 2 and screen.table.shown_count == len(rows) + 1
        screen.table.move_cursor(row=screen.table.row_count - 1, animate=False)
        await pilot.press("end")  # the rows held back are not added meanwhile
        await pilot.pause(0.2)
        assert len(screen.table.rows) == 2
        go.set()
        await opened(app, pilot, wait)
        await wait(pilot, lambda: "as last shown" not in state_line(app))
        await wait(pilot, lambda: len(screen.table.rows) == len(rows))
        assert "999" not in screen.table.rows
        assert screen.trials_pane.kept_at is None


async def test_a_study_that_cannot_be_opened_keeps_showing_its_kept_table(
    scripted: Any, wait: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = await show_and_close(scripted.path, wait)
    text = scripted.path.read_text(encoding="utf-8")
    scripted.path.write_text(f"storage: {BROKEN}\n{text}", encoding="utf-8")
    monkeypatch.setattr(trial_table, "FIRST_ROWS", 2)  # then all of them are added
    app = RltuiApp(scripted.path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "study not opened" in status(app))
        await wait(pilot, lambda: "as last shown" in state_line(app))
        await wait(pilot, lambda: len(app.main_screen.table.rows) == len(rows))
        assert app.main_screen.session is None
