"""``rltui run``'s output: the live table, the final summary, the lines it prints when piped,
and its ``--json`` summary."""

from __future__ import annotations

import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace
from typing import IO, Any

import optuna
import pytest
from optuna.study import StudyDirection
from rich.console import Console

from rltui import headless
from rltui.cli import main
from rltui.headless import summary
from rltui.search import attrs
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import trial_id_of
from rltui.search.reader import Snapshot, StudyReader, TrialRow
from rltui.search.study import create_or_join, open_study
from rltui.search.workers import WorkerRecord
from rltui.spec import StudyFile, load_study, parse_study
from rltui.spec.source import parse_yaml

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"  # the time that starts each line when piped


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
    summary.print_summary(
        console, _snapshot(ROWS), study, url, False, summary.trial_settings(study, best)
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


def test_settings_a_searched_path_sets_are_neither_searched_nor_fixed():
    study = parse_study(
        "name: p\ntrain:\n  algorithm: ppo\n  env: CartPole-v1\n  timesteps: 64\n"
        "hyperparameters:\n  gamma: 0.99\n  net_arch: [8]\n"
        "search_space:\n  agent.gamma: choice(0.9, 0.95)\n"
        "  policy_kwargs.net_arch: choice([32, 16], [64])\n"
    )
    best = _row(0, TrialStatus.COMPLETE, value=1.0)
    best = replace(best, params={"agent.gamma": 0.95, "policy_kwargs.net_arch": "[32, 16]"})
    settings = summary.trial_settings(study, best)
    assert settings.searched == {"agent.gamma": 0.95, "policy_kwargs.net_arch": [32, 16]}
    assert settings.derived == {"gamma": 0.95}
    assert "gamma" not in settings.fixed and "net_arch" not in settings.fixed


def test_searched_values_win_over_fixed_ones(study):
    best = _row(0, TrialStatus.COMPLETE, value=1.0, params={"n_steps": 128})
    settings = summary.trial_settings(study, best)
    assert "n_steps" not in settings.fixed and settings.searched == {"n_steps": 128}
    assert settings.fixed["batch_size"] == 32 and settings.whole["n_steps"] == 128


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
            self.started = [SimpleNamespace(pid=424242, gpu=None)]

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
    # Piped: lines stamped with their time, and no table drawn for a terminal.
    assert re.search(rf"^{STAMP} study 'tiny' on journal:/x: 1 worker$", out, re.M), out
    assert re.search(rf"^{STAMP} stopping: running trials are paused", out, re.MULTILINE), out
    assert not re.search(r"^\s*#\s+state", out, re.MULTILINE), out
    # The best trial's fixed values come from the study file version it ran with.
    assert "best trial #0: value 42" in out
    assert "  n_steps: 64" in out


def test_study_of_falls_back_to_the_file_when_the_storage_has_no_version(study):
    ostudy = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    assert summary.study_of(ostudy, study, 3) is study
    assert summary.study_of(ostudy, study, None) is study


def test_no_completed_trial(study):
    console = _piped()
    rows = [_row(0, TrialStatus.RUNNING)]
    summary.print_summary(console, _snapshot(rows), study, "journal:/x", False, {})
    assert "no completed trial yet" in _text(console)


def test_an_interrupted_run_says_how_many_trials_it_paused(study):
    console = _piped()
    rows = [_row(0, TrialStatus.PAUSED, ((100, 5.0),)), _row(1, TrialStatus.COMPLETE, value=9.0)]
    summary.print_summary(console, _snapshot(rows), study, "journal:/x", True, {})
    out = _text(console)
    assert f"interrupted: 1 trial paused; `rltui run {study.path}` resumes them" in out
    # Not interrupted: no such line, whatever is paused.
    console = _piped()
    summary.print_summary(console, _snapshot(rows), study, "journal:/x", False, {})
    assert "interrupted" not in _text(console)


# -- piped: one line per event, as it happens -------------------------------------------------

T0 = datetime(2025, 1, 1, 12, 0, 0)
T1 = datetime(2025, 1, 1, 12, 5, 0)


def _at(rows: list[TrialRow], workers: list[WorkerRecord] | None = None) -> Snapshot:
    snap = _snapshot(rows)
    return replace(snap, workers=workers or [], read_at=1_750_000_000.0)


def _lines(*snaps: Snapshot, n_trials: int | None = None) -> list[str]:
    """What ``rltui run`` prints, piped, while it reads ``snaps`` one after the other; each
    line without the time that starts it."""
    console = _piped()
    lines = headless.EventLines(console, n_trials)
    previous = None
    for snap in snaps:
        lines.show(previous, snap)
        previous = snap
    out = _text(console).splitlines()
    assert all(re.match(rf"{STAMP} ", line) for line in out), out
    return [line[20:] for line in out]


def _trial(number: int, status: TrialStatus, **fields: Any) -> TrialRow:
    return replace(_row(number, status), **fields)


def test_a_trials_steps_are_one_line_each_in_order():
    waiting = _trial(0, TrialStatus.WAITING, params={})
    running = _trial(0, TrialStatus.RUNNING, curve=((128, 9.5),), worker="w1", started=T0)
    done = replace(running, status=TrialStatus.COMPLETE, curve=((128, 9.5), (256, 21.25)))
    done = replace(done, value=21.25, timesteps=256)
    # The first read is the study as it stands: nothing of it is news.
    assert _lines(_at([running])) == []
    assert _lines(_at([waiting]), _at([running]), _at([done])) == [
        "trial 0 started on worker w1",
        "trial 0 evaluation at 128 timesteps = 9.5",
        "trial 0 evaluation at 256 timesteps = 21.25",
        "trial 0 completed with value 21.25",
    ]


def test_pause_resume_prune_and_failures_are_told():
    running = _trial(0, TrialStatus.RUNNING, curve=((128, 1.0),), worker="w1", started=T0)
    paused = replace(running, status=TrialStatus.PAUSED, timesteps=256)
    queued = replace(paused, status=TrialStatus.WAITING)
    resumed = replace(queued, status=TrialStatus.RUNNING, worker="w2", started=T1)
    pruned = replace(resumed, status=TrialStatus.PRUNED, curve=((128, 1.0), (384, 3.0)))
    pruned = replace(pruned, value=3.0, timesteps=384)
    assert _lines(_at([running]), _at([paused]), _at([queued]), _at([resumed]), _at([pruned])) == [
        "trial 0 paused at 256 timesteps",
        "trial 0 queued to resume at 256 timesteps",
        "trial 0 resumed on worker w2 at 256 timesteps",
        "trial 0 evaluation at 384 timesteps = 3",
        "trial 0 pruned at 384 timesteps with value 3",
    ]
    failing = _trial(1, TrialStatus.RUNNING, worker="w1", started=T0)
    failed = replace(failing, status=TrialStatus.FAIL, error="ValueError: NaN reward\n  in step")
    assert _lines(_at([failing]), _at([failed])) == [
        "trial 1 failed: ValueError: NaN reward / in step"
    ]
    # Killed while it waited in the queue: it never started.
    waiting = _trial(2, TrialStatus.WAITING)
    killed = replace(waiting, status=TrialStatus.FAIL, error="stopped by user")
    assert _lines(_at([waiting]), _at([killed])) == ["trial 2 failed: stopped by user"]


def test_a_trial_that_ran_between_two_reads_is_told_whole():
    before = _at([_trial(0, TrialStatus.COMPLETE, value=1.0)])
    quick = _trial(1, TrialStatus.COMPLETE, curve=((128, 7.0),), value=7.0, started=T0)
    after = _at([before.rows[0], replace(quick, worker="w1")])
    assert _lines(before, after) == [
        "trial 1 started on worker w1",
        "trial 1 evaluation at 128 timesteps = 7",
        "trial 1 completed with value 7",
    ]


def test_the_studys_events_are_lines_too():
    alive = WorkerRecord("w1", "gpu-01", 4242, "cpu", 0.0, 0.0, state="training", trial=0)
    lost = replace(alive, state="lost", reason="lost: no heartbeat for 23 s")
    running = _trial(0, TrialStatus.RUNNING, worker="w1", started=T0)
    done = replace(running, status=TrialStatus.COMPLETE, value=2.0)
    lines = _lines(_at([running], [alive]), _at([done], [lost]), n_trials=1)
    assert lines == [
        "trial 0 completed with value 2",
        "Worker lost: worker w1 on gpu-01 lost: no heartbeat for 23 s",
        "Budget reached: the budget of 1 trials is reached (1 complete); "
        "raise n_trials in the study file to run more",
    ]


# -- --json -----------------------------------------------------------------------------------


def test_the_json_summary_is_strict_json(study):
    best = _row(0, TrialStatus.COMPLETE, ((100, 1.0),), value=20.0, params={"gamma": 0.99})
    rows = [best, _trial(1, TrialStatus.FAIL, error="boom"), _row(2, TrialStatus.PRUNED)]
    settings = summary.trial_settings(study, best)
    settings.fixed["clip"] = float("inf")
    doc = summary.summary_doc(_snapshot(rows), study, "journal:/x", False, settings, 12.3456)
    back = json.loads(json.dumps(doc, allow_nan=False))  # no NaN or Infinity in the text
    assert back["counts"] == {
        "WAITING": 0,
        "RUNNING": 0,
        "PAUSED": 0,
        "COMPLETE": 1,
        "PRUNED": 1,
        "FAIL": 1,
    }
    assert back["best"]["number"] == 0 and back["best"]["value"] == 20.0
    assert back["best"]["params"] == {"gamma": 0.99}
    hyper = back["best"]["hyperparameters"]
    assert hyper["gamma"] == 0.99 and hyper["n_steps"] == 64 and hyper["net_arch"] == [8]
    assert hyper["clip"] is None
    assert back["failed"] == [{"number": 1, "error": "boom"}]
    assert back["wall_time_s"] == 12.346 and back["ok"] and not back["interrupted"]


# -- a real `rltui run` ----------------------------------------------------------------------


def _reader(stream: IO[str]) -> queue.Queue[str | None]:
    """The lines of ``stream`` as they come, None at its end."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _until(lines: queue.Queue[str | None], pattern: str, seen: list[str]) -> str:
    """The first line from ``lines`` that matches ``pattern``; each read goes into ``seen``."""
    while True:
        try:
            line = lines.get(timeout=180)  # generous: workers import torch on a busy machine
        except queue.Empty:
            raise AssertionError(f"no line matched {pattern!r} in time: {seen}") from None
        assert line is not None, f"the output ended with no line matching {pattern!r}: {seen}"
        seen.append(line)
        if re.search(pattern, line):
            return line


@pytest.mark.slow  # runs `rltui run` with a real worker
def test_a_piped_run_prints_each_event_while_it_runs(study_file, tmp_path):
    # A trial far too long to end by itself while the test watches: the run can only end
    # once the test has seen its lines and pruned it.
    path = study_file(n_trials=1, timesteps=1_000_000, every=128)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rltui", "run", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        lines = _reader(proc.stdout)
        _until(lines, rf"^{STAMP} trial 0 started on worker \w+$", seen)
        _until(lines, rf"^{STAMP} trial 0 evaluation at 128 timesteps = -?[\d.]+", seen)
        assert proc.poll() is None  # the lines came while the run goes on
        assert main(["ctl", "prune", "0", "--study-file", str(path)]) == 0
        _until(lines, rf"^{STAMP} trial 0 pruned at \d+ timesteps with value", seen)
        _until(lines, r"^1 pruned$", seen)  # the summary, at the end
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        proc.kill()
        proc.wait()
    assert "\x1b[" not in "".join(seen)  # no colours or cursor moves in a log


@pytest.mark.slow  # runs `rltui run` with a real worker
def test_run_json_prints_one_document_and_the_lines_on_stderr(study_file, tmp_path):
    path = study_file(n_trials=1, timesteps=128, every=128)
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "run", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # the whole of stdout is the document
    assert doc["ok"] and doc["study"] == "tiny" and doc["study_file"] == str(path)
    assert doc["counts"]["COMPLETE"] == 1 and sum(doc["counts"].values()) == 1
    best = doc["best"]
    assert best["number"] == 0 and isinstance(best["value"], float)
    assert set(best["params"]) == {"learning_rate", "gamma"}
    assert best["hyperparameters"]["n_steps"] == 64 and best["hyperparameters"]["net_arch"] == [8]
    assert doc["wall_time_s"] > 0
    assert re.search(rf"^{STAMP} trial 0 started on worker", done.stderr, re.MULTILINE)
    assert re.search(rf"^{STAMP} trial 0 completed with value", done.stderr, re.MULTILINE)
    assert "best trial" not in done.stderr  # the summary is the document, not text


@pytest.mark.slow  # runs `rltui run` with a real worker
def test_a_run_whose_reader_leaves_stops_watching_and_its_workers_go_on(study_file, tmp_path):
    path = study_file(n_trials=1, timesteps=256, every=128)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rltui", "run", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert "study 'tiny' on journal:" in proc.stdout.readline()
        proc.stdout.close()  # as `rltui run ... | head -1` does once it has its line
        assert proc.wait(timeout=300) == 1  # at its next line
        assert proc.stderr.read() == ""  # no BrokenPipeError, no traceback
    finally:
        proc.kill()
        proc.wait()
    # The worker is detached: it finishes the trial with nobody watching.
    ostudy, _url = open_study(load_study(path))
    for _ in range(600):  # generous: up to five minutes on a busy machine
        if [t.state.name for t in ostudy.get_trials(deepcopy=False)] == ["COMPLETE"]:
            break
        time.sleep(0.5)
    assert [t.state.name for t in ostudy.get_trials(deepcopy=False)] == ["COMPLETE"]


def test_a_pbt_summary_names_the_best_member_that_trained_its_budget(study_file):
    from dataclasses import replace

    from rltui.search.segments import Segment

    path = study_file(timesteps=512, every=128)
    text = path.read_text(encoding="utf-8").replace(
        "sampler: {type: random, seed: 0}", "sampler: {type: pbt, population: 2, interval: 256}"
    )
    path.write_text(text.replace("pruner: {type: none}\n", ""), encoding="utf-8")
    study = load_study(path)
    done = TrialStatus.COMPLETE
    rows = [
        # Member 0's first segment is the best value, but its weights trained on.
        replace(_row(0, done, value=500.0), segment=Segment(0, 0, 0, 256)),
        replace(_row(1, done, value=100.0), segment=Segment(1, 0, 0, 256)),
        replace(_row(2, done, value=200.0), segment=Segment(0, 1, 256, 512, parent=0)),
        replace(_row(3, done, value=300.0), segment=Segment(1, 1, 0 + 256, 512, parent=0, donor=0)),
    ]
    snap = _snapshot(rows)
    best = summary.best_of(snap, study)
    assert best is not None and best.number == 3
    console = Console(file=io.StringIO(), width=200, color_system=None)
    summary.print_summary(console, snap, study, "journal:/x", False, None)
    out = console.file.getvalue()
    assert "population: 2 members, 4 segments, 1 exploit\n" in out
    assert "best member 1: value 300 at 512 timesteps (trial #3)" in out
    assert "--format schedule" in out
    doc = summary.summary_doc(snap, study, "journal:/x", False, None, 1.0)
    assert doc["population"] == {"members": 2, "segments": 4, "exploits": 1, "best_member": 1}


@pytest.mark.slow  # runs `rltui run` with a real worker, and kills it
def test_a_run_whose_workers_all_left_with_trials_waiting_starts_new_ones(study_file, tmp_path):
    # One retry: the killed worker's trial waits to resume, and nobody is left to run it.
    path = study_file(n_trials=1, timesteps=8192, every=256, extra="  retries: 1")
    # Heartbeats judged rarely: the run sees its only worker gone before it next judges
    # heartbeats, and must still find the worker lost rather than end with its trial RUNNING.
    text = path.read_text(encoding="utf-8")
    text = text.replace("heartbeat_interval: 0.5", "heartbeat_interval: 30")
    path.write_text(text.replace("heartbeat_grace: 4", "heartbeat_grace: 60"), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rltui", "run", str(path), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        lines = _reader(proc.stdout)
        _until(lines, rf"^{STAMP} trial 0 evaluation at 256 timesteps", seen)
        ostudy, _url = open_study(load_study(path))
        records = StudyReader(ostudy).poll().workers
        os.kill(pid := next(w.pid for w in records if w.alive), signal.SIGKILL)
        _until(lines, rf"trial 0: worker \w+ lost \(its process {pid} .* is gone\); retry 1", seen)
        _until(lines, r"1 trial waits and no worker is left: starting 1 worker again", seen)
        _until(lines, r"^1 complete$", seen)
        assert proc.wait(timeout=300) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        proc.kill()
        proc.wait()
