"""``rltui note``: prints and sets the study's note and a trial's, in the study's storage."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from rltui.cli.notes import add_parser, cmd_note
from rltui.search import notes
from rltui.search.notes import Note
from rltui.search.study import open_study
from rltui.spec import load_study


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="rltui")
    add_parser(parser.add_subparsers(dest="command"))
    code = cmd_note(parser.parse_args(["note", *argv]))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def study(study_file) -> Path:
    path = study_file(name="noted")
    ostudy, _url = open_study(load_study(path))
    ostudy.tell(ostudy.ask(), 1.0)
    return path


def stored(path: Path, trial: int | None) -> Note:
    ostudy, _url = open_study(load_study(path))
    return notes.read_study_note(ostudy) if trial is None else notes.read_trial_note(ostudy, 0)


def test_set_then_print_the_study_note_and_a_trial_note(study, capsys, tmp_path, monkeypatch):
    code, out, _ = run([str(study), "--set", "[b]study[/b]"], capsys)
    assert (code, out) == (0, "the study's note saved (version 1)\n")
    code, out, _ = run([str(study)], capsys)
    assert (code, out) == (0, "[b]study[/b]\n")

    text = tmp_path / "note.md"
    text.write_text("line 1\nline 2\n", encoding="utf-8")
    assert run([str(study), "--trial", "0", "--file", str(text)], capsys)[0] == 0
    assert stored(study, 0) == Note("line 1\nline 2\n", 1)
    monkeypatch.setattr("sys.stdin", io.StringIO("from stdin"))
    assert run([str(study), "--trial", "0", "--file", "-"], capsys)[0] == 0
    code, out, _ = run([str(study), "--trial", "0", "--print", "--json"], capsys)
    assert json.loads(out) == {"ok": True, "trial": 0, "version": 2, "text": "from stdin"}
    assert stored(study, None) == Note("[b]study[/b]", 1)


def test_a_missing_trial_or_file_is_one_line_and_nothing_is_written(study, capsys, tmp_path):
    code, _, err = run([str(study), "--trial", "7", "--set", "x"], capsys)
    assert code == 1 and err == "rltui note: study noted has no trial 7: its trials are 0 to 0\n"
    code, _, err = run([str(study), "--file", str(tmp_path / "none.md")], capsys)
    assert code == 1 and "cannot read" in err and "No such file" in err
    assert stored(study, None) == Note("", 0)


def test_by_storage_and_name(study, capsys):
    journal = study.parent / "noted.rltui" / "study.journal"
    assert journal.exists()  # the journal beside the study file
    argv = ["--storage", str(journal), "--study", "noted", "--set", "by name"]
    assert run(argv, capsys)[0] == 0
    assert stored(study, None) == Note("by name", 1)
