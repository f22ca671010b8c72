"""``rltui run``'s output: the live table, the final summary, and what it prints when piped."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace
from typing import Any

import optuna
import pytest
from optuna.study import StudyDirection
from rich.console import Console

from rltui import headless
from rltui.search import attrs
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import trial_id_of
from rltui.search.reader import Snapshot, TrialRow
from rltui.search.study import create_or_join
from rltui.spec import StudyFile, load_study
from rltui.spec.source import parse_yaml


def _row(
    number: int,
    status: TrialStatus,
    curve: tuple[tuple[int, float], ...] = (),
    value: float | None = None,
    params: dict[str, Any] | None = None,
) -> TrialRow:
    return TrialRow(
        number=number,
        trial_id=number,
        status=status,
        value=value,
        params=params if params is not None else {"learning_rate": 0.001, "gamma": 0.99},
        curve=curve,
        timesteps=curve[-1][0] if curve else 0,
        total=None,
        started=None,
        completed=None,
        worker=None,
        error=None,
        traceback=None,
        pending=None,
        spec_version=1,
    )


def _snapshot(rows: list[TrialRow], direction: str = "MAXIMIZE") -> Snapshot:
    return Snapshot(
        study_name="tiny",
        direction=StudyDirection[direction],
        rows={r.number: r for r in rows},
        changed=frozenset(),
        workers=[],
        spec_version=1,
        draining=False,
    )


def _piped(width: int = 80) -> Console:
    """A console like ``rltui run | tee log``: not a terminal, 80 columns."""
    return Console(file=io.StringIO(), force_terminal=False, width=width, color_system=None)


def _text(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


@pytest.fixture
def study(study_file) -> StudyFile:
    return load_study(study_file(timesteps=300, every=100))


ROWS = [
    _row(0, TrialStatus.COMPLETE, ((100, 10.0), (200, 30.0), (300, 20.0)), value=20.0),
    _row(1, TrialStatus.RUNNING, ((100, 5.0),)),
    _row(2, TrialStatus.WAITING),
]


@pytest.mark.parametrize(("direction", "best"), [("MAXIMIZE", "30"), ("MINIMIZE", "10")])
def test_table_shows_each_trials_best_evaluation_by_direction(direction, best, study):
    console = _piped(width=120)
    console.print(headless.render(_snapshot(ROWS, direction), study, "journal:/x"))
    lines = _text(console).splitlines()
    header = next(line for line in lines if "state" in line)
    assert header.split()[:7] == ["#", "state", "timesteps", "last", "eval", "best", "value"]
    finished = next(line for line in lines if line.lstrip().startswith("0 "))
    # trial, state, timesteps, last eval, best, value (★: the study's best)
    assert finished.split()[:6] == ["0", "COMPLETE", "300/300", "20", best, "20"]
    running = next(line for line in lines if line.lstrip().startswith("1 "))
    assert running.split()[3:5] == ["5", "5"]  # one evaluation: last and best alike
    waiting = next(line for line in lines if line.lstrip().startswith("2 "))
    assert waiting.split()[3:6] == ["—", "—", "—"]


def test_parameters_with_brackets_are_shown_as_they_are(study):
    row = _row(0, TrialStatus.RUNNING, params={"net_arch": "[small]"})
    console = _piped(width=120)
    console.print(headless.render(_snapshot([row]), study, "journal:/x"))
    assert "net_arch=[small]" in _text(console)


def _summary(study: StudyFile, url: str = "journal:/tmp/x/tiny.rltui/study.journal") -> str:
    best = ROWS[0]
    console = _piped()
    headless._summary(
        console, _snapshot(ROWS), study, url, False, headless.fixed_values(study, best)
    )
    return _text(console)


def test_summary_prints_the_whole_configuration_as_yaml(study):
    out = _summary(study)
    assert "best trial #0: value 20" in out
    block = out[out.index("hyperparameters:") : out.index("optuna trials")]
    searched, fixed = block.split("# fixed")
    assert "learning_rate" in searched and "n_steps" not in searched
    assert "n_steps: 64" in fixed and "net_arch: [8]" in fixed
    # Pasted into a study file, the block is the whole configuration the trial used.
    parsed = parse_yaml(block).data  # as a study file is read
    assert parsed == {
        "hyperparameters": {
            "learning_rate": 0.001,
            "gamma": 0.99,
            "n_steps": 64,
            "batch_size": 32,
            "n_epochs": 1,
            "net_arch": [8],
        }
    }


def test_searched_values_win_over_fixed_ones(study):
    best = _row(0, TrialStatus.COMPLETE, value=1.0, params={"n_steps": 128})
    assert "n_steps" not in headless.fixed_values(study, best)
    assert headless.fixed_values(study, best)["batch_size"] == 32


@pytest.mark.parametrize(
    "value",
    [1e-05, 0.001, 3, True, None, "relu", "yes", "cuda:0", "1e-3", [64, 64], {"pi": [8], "qf": []}],
)
def test_yaml_values_read_back_as_the_same_value(value):
    text = f"key: {headless.yaml_value(value)}"
    assert parse_yaml(text).data == {"key": value}
    # YAML 1.1 readers (PyYAML) take '1e-05' for a string; what we print is a number to both.
    if isinstance(value, float):
        assert re.search(r"\d\.\d*e", headless.yaml_value(value)) or "e" not in str(value)


def test_commands_are_printed_on_one_line_when_piped(study_file, tmp_path):
    deep = tmp_path / "a folder with a rather long name" / "and another one inside it"
    deep.mkdir(parents=True)
    path = study_file(timesteps=300, every=100)
    moved = deep / path.name
    path.rename(moved)
    study = load_study(moved)
    url = f"journal:{deep / 'tiny.rltui' / 'study.journal'}"
    out = _summary(study, url)
    command = next(line for line in out.splitlines() if line.startswith("optuna trials"))
    assert command.endswith("--study-name tiny")
    assert f"--storage '{deep / 'tiny.rltui' / 'study.journal'}'" in command
    assert len(command) > 80


def test_ctrl_c_message_starts_its_own_line_when_piped(study, monkeypatch):
    storage = optuna.storages.InMemoryStorage()
    ostudy = create_or_join(study, storage)
    trial = ostudy.ask(study.space.distributions)
    storage.set_trial_system_attr(trial_id_of(trial), attrs.TRIAL_SPEC_VERSION, 1)
    trial.report(42.0, 100)
    ostudy.tell(trial, 42.0)

    signalled: list[int] = []

    class Pool:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.started = [SimpleNamespace(pid=424242)]

        def start(self, n: int) -> None:
            pass

        def wait(self) -> None:
            pass

    def interrupt(pid: int) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(headless, "LocalPool", Pool)
    monkeypatch.setattr(headless, "pid_running", interrupt)
    monkeypatch.setattr(headless, "signal_worker", lambda pid, *sig: signalled.append(pid))
    console = _piped()
    assert headless.run_headless(study, ostudy, "journal:/x", 1, None, console) == 130
    out = _text(console)
    assert signalled == [424242]
    # Nothing was running: the run says it was interrupted, and how to go on.
    assert "interrupted: no trial was paused; `rltui run" in out
    assert re.search(r"^\s*#\s+state", out, re.MULTILINE), out  # the live table's last frame
    assert re.search(r"^stopping: running trials are paused", out, re.MULTILINE), out
    # The best trial's fixed values come from the study file version it ran with.
    assert "best trial #0: value 42" in out
    assert "  n_steps: 64" in out


def test_study_of_falls_back_to_the_file_when_the_storage_has_no_version(study):
    ostudy = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    assert headless._study_of(ostudy, study, 3) is study
    assert headless._study_of(ostudy, study, None) is study


def test_no_completed_trial(study):
    console = _piped()
    rows = [_row(0, TrialStatus.RUNNING)]
    headless._summary(console, _snapshot(rows), study, "journal:/x", False, {})
    assert "no completed trial yet" in _text(console)


def test_an_interrupted_run_says_how_many_trials_it_paused(study):
    console = _piped()
    rows = [_row(0, TrialStatus.PAUSED, ((100, 5.0),)), _row(1, TrialStatus.COMPLETE, value=9.0)]
    headless._summary(console, _snapshot(rows), study, "journal:/x", True, {})
    out = _text(console)
    assert f"interrupted: 1 trial(s) paused; `rltui run {study.path}` resumes them" in out
    # Not interrupted: no such line, whatever is paused.
    console = _piped()
    headless._summary(console, _snapshot(rows), study, "journal:/x", False, {})
    assert "interrupted" not in _text(console)
