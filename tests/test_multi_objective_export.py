"""A study with several objectives, run for real and exported: the zoo export asks for a
trial of the Pareto front, ``trials.csv`` has one column per objective, and ``rltui run``
says each objective's value as a trial completes."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from optuna.trial import TrialState

from rltui.convert import ConversionError
from rltui.export import export_study
from rltui.export.zoo_file import chosen_trial
from rltui.search.reader import StudyReader
from rltui.search.study import open_study
from rltui.spec import load_study


def _two_objectives(path: Path) -> Path:
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("direction: maximize\n", "objectives: [reward, wall_time]\n"),
        encoding="utf-8",
    )
    return path


def _rltui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rltui", *args], capture_output=True, text=True, timeout=300
    )


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.mark.slow
def test_a_real_run_exports_each_objective_and_asks_for_a_front_trial(study_file, tmp_path):
    path = _two_objectives(study_file(name="pareto", n_trials=3, timesteps=256, every=128))
    run = _rltui("run", str(path), "--workers", "1")
    assert run.returncode == 0, run.stdout + run.stderr

    study = load_study(path, check_env=False)
    ostudy, _url = open_study(study)
    snapshot = StudyReader(ostudy).poll()
    assert snapshot.multi_objective and len(snapshot.rows) == 3
    # Its output, a pipe here, says both values of each completed trial.
    for row in snapshot.rows.values():
        reward, seconds = row.values
        assert f"trial {row.number} completed with reward {reward:.6g}, wall_time " in run.stdout
        assert seconds > 0
    assert "completed with value" not in run.stdout

    # The zoo format has no single best trial to take: it names the front.
    front = " ".join(f"#{row.number}" for row in snapshot.front)
    zoo = _rltui("export", str(path), "--format", "zoo")
    assert zoo.returncode == 1
    assert "has several objectives, so no single best trial" in zoo.stderr
    assert f"name one of its Pareto front with --trial N (front: {front})" in zoo.stderr
    assert "Traceback" not in zoo.stderr
    chosen = snapshot.front[0].number
    zoo = _rltui("export", str(path), "--format", "zoo", "--trial", str(chosen))
    assert zoo.returncode == 0, zoo.stderr
    assert Path(zoo.stdout.split("wrote ", 1)[1].strip()).name == f"pareto-trial-{chosen}-zoo.yml"

    # trials.csv: one column per objective, headed by its name, in place of "value".
    done = _rltui("export", str(path), "--format", "csv")
    assert done.returncode == 0, done.stdout + done.stderr
    header, rows = _read_csv(tmp_path / "pareto.rltui" / "export" / "trials.csv")
    assert header[:5] == ["number", "state", "reward", "wall_time", "value_std"]
    assert "value" not in header
    for row in rows:
        values = snapshot.rows[int(row["number"])].values
        assert (float(row["reward"]), float(row["wall_time"])) == values


def test_the_zoo_export_needs_a_complete_trial_then_a_front_trial(study_file, tmp_path):
    study = load_study(_two_objectives(study_file(name="asked")), check_env=False)
    ostudy, url = open_study(study)
    running = ostudy.ask()
    with pytest.raises(ConversionError, match="has no COMPLETE trial yet"):
        chosen_trial(ostudy, None)
    ostudy.tell(running, state=TrialState.FAIL)
    for values in ([150.0, 60.0], [100.0, 90.0], [90.0, 30.0]):
        trial = ostudy.ask()
        trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
        trial.suggest_categorical("gamma", [0.95, 0.99])
        ostudy.tell(trial, values)
    with pytest.raises(ConversionError) as caught:
        export_study(ostudy, study, url, tmp_path / "out", "zoo")
    assert caught.value.message == "study 'asked' has several objectives, so no single best trial"
    assert caught.value.hint == "name one of its Pareto front with --trial N (front: #1 #3)"
    assert chosen_trial(ostudy, 2).number == 2  # a dominated trial can still be named


def test_trials_csv_leaves_a_trial_without_values_empty(study_file, tmp_path):
    study = load_study(_two_objectives(study_file(name="partial")), check_env=False)
    ostudy, url = open_study(study)
    done = ostudy.ask()
    ostudy.tell(done, [120.0, 4.5])
    ostudy.tell(ostudy.ask(), state=TrialState.PRUNED)
    ostudy.ask()  # still running
    out = export_study(ostudy, study, url, tmp_path / "out", "csv").folder
    header, rows = _read_csv(out / "trials.csv")
    assert header[2:4] == ["reward", "wall_time"]
    assert [(r["state"], r["reward"], r["wall_time"]) for r in rows] == [
        ("COMPLETE", "120.0", "4.5"),
        ("PRUNED", "", ""),
        ("RUNNING", "", ""),
    ]
