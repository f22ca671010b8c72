"""A study file edited on disk is applied only by `rltui run` or the window's preview: a
worker, a command that looks at the study, or the window opening it use the version in force
and say that the file differs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rltui.cli.studies import open_target
from rltui.search.study import open_study, spec_version
from rltui.spec import load_study
from rltui.ui.textual.internals import notifications


def _edited(study_file) -> Path:
    path = study_file(n_trials=4)
    open_study(load_study(path))  # the study, with the file as its version 1
    path.write_text(path.read_text().replace("n_trials: 4", "n_trials: 6"), encoding="utf-8")
    return path


def _args(path: Path) -> argparse.Namespace:
    return argparse.Namespace(study_file=path, storage=None, study=None)


def test_a_command_that_joins_keeps_the_version_in_force_and_says_so(study_file, capsys):
    path = _edited(study_file)
    ostudy, study, _url = open_target(_args(path))
    assert spec_version(ostudy) == 1 and study.n_trials == 4  # what the study runs
    assert study.path == load_study(path).path  # read where this host has the file
    err = capsys.readouterr().err
    assert f"rltui: {path} differs from the study's version in force (v1)" in err
    assert f"`rltui run {path}`, or ctrl+s in the window's editor, applies the file" in err


def test_running_a_file_applies_it(study_file, capsys):
    path = _edited(study_file)
    ostudy, study, _url = open_target(_args(path), publish=True)
    assert spec_version(ostudy) == 2 and study.n_trials == 6
    assert "differs" not in capsys.readouterr().err


def test_a_file_that_is_the_version_in_force_says_nothing(study_file, capsys):
    path = study_file(n_trials=4)
    open_study(load_study(path))
    ostudy, _study, _url = open_target(_args(path))
    assert spec_version(ostudy) == 1 and capsys.readouterr().err == ""


@pytest.mark.slow  # the window
async def test_the_window_opens_an_edited_file_without_applying_it(study_file):
    from rltui.ui.app import RltuiApp

    path = _edited(study_file)
    app = RltuiApp(path, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(600):
            if app.main_screen is not None and app.main_screen.snapshot is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        said = [n for n in notifications(app) if n.title == "Study file not applied"]
        assert len(said) == 1 and "differs from the version in force (v1)" in str(said[0].message)
        assert "ctrl+s in its editor shows what applying" in str(said[0].message)
        assert "n_trials: 6" in app.main_screen.study_pane.editor.text  # the file, as on disk
    ostudy, _url = open_study(load_study(path), publish=False)
    assert spec_version(ostudy) == 1  # nothing was applied
