"""Headless runs and the worker loop, with real processes and tiny budgets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from rltui.search import attrs
from rltui.search.lifecycle import TrialStatus
from rltui.search.storage import StudyHome
from rltui.search.trial_logs import read_progress
from tests.worker.helpers import HANG, Lab, frozen, wait_for
from tests.worker.test_control import assert_continued, trained_steps

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_smoke_study_runs_headless_with_two_workers(tmp_path):
    study = tmp_path / "smoke.yaml"
    shutil.copy(ROOT / "sample_studies" / "smoke.yaml", study)
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "run", str(study), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert done.returncode == 0, done.stderr
    assert "best trial #" in done.stdout
    # Piped, the summary still starts a line of its own after the live table's last frame.
    assert re.search(r"^\d+ (complete|pruned)\b", done.stdout, re.MULTILINE), done.stdout
    journal = tmp_path / "smoke.rltui" / "study.journal"
    trials = optuna.load_study(
        study_name="smoke", storage=JournalStorage(JournalFileBackend(str(journal)))
    ).trials
    states = {t.state for t in trials}
    assert len(trials) == 8
    assert optuna.trial.TrialState.COMPLETE in states and optuna.trial.TrialState.PRUNED in states
    # The storage stays a plain Optuna storage: the optuna CLI reads it. (Run through this
    # interpreter: the `optuna` script is on PATH only where the virtualenv is activated.)
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from optuna.cli import main; sys.exit(main())",
            "trials",
            "--storage",
            str(journal),
            "--storage-class",
            "JournalFileBackend",
            "--study-name",
            "smoke",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count('"number"') == 8


def test_failing_trial_is_recorded_and_worker_goes_on(study_file):
    path = study_file(
        name="fails",
        n_trials=2,
        extra="""
enqueue:
  - {learning_rate: 0.001, gamma: 0.99}
""".replace("gamma: 0.99}", "gamma: 0.99}\n  - {learning_rate: 0.001, gamma: 0.95}"),
    )
    # batch_size 1 makes SB3 refuse the first configuration at construction time.
    text = (
        path.read_text()
        .replace("  batch_size: 32\n", "")
        .replace("search_space:\n", "search_space:\n  batch_size: choice(1, 32)\n")
        .replace(
            "{learning_rate: 0.001, gamma: 0.99}",
            "{learning_rate: 0.001, gamma: 0.99, batch_size: 1}",
        )
        .replace(
            "{learning_rate: 0.001, gamma: 0.95}",
            "{learning_rate: 0.001, gamma: 0.95, batch_size: 32}",
        )
    )
    path.write_text(text)
    lab = Lab(path)
    lab.run_to_end(1)
    rows = lab.snap().rows
    assert rows[0].status == TrialStatus.FAIL
    assert "batch_size" in (rows[0].error or "") and rows[0].traceback
    assert rows[1].status == TrialStatus.COMPLETE


def test_evaluations_are_logged_at_the_timesteps_they_were_taken(study_file):
    # Rollouts of 64 steps and an evaluation every 100: each evaluation is taken at the end
    # of the rollout past its planned step, and reported to Optuna at the planned step.
    path = study_file(name="evalsteps", n_trials=1, timesteps=320, every=100)
    lab = Lab(path)
    lab.run_to_end(1)
    assert lab.trial(0).status == TrialStatus.COMPLETE, lab.logs()
    rows = read_progress(StudyHome.beside(path).trials / "trial-0" / "progress.jsonl")
    evaluations = [r for r in rows if "eval/mean_reward" in r]
    assert [r["timesteps"] for r in evaluations] == [128, 256, 320]
    assert [r["eval/reported_step"] for r in evaluations] == [100, 200, 320]
    assert sorted(frozen(lab, 0).intermediate_values) == [100, 200, 320]
    logged = [r["timesteps"] for r in rows]
    assert logged == sorted(logged), "the training log's timesteps went backwards"


def test_budget_is_not_overshot_by_parallel_workers(study_file):
    lab = Lab(study_file(name="budget", n_trials=3, timesteps=128, every=128))
    lab.pool.start(3)
    try:
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    rows = lab.snap().rows
    assert len(rows) == 3 and all(r.status == TrialStatus.COMPLETE for r in rows.values())


def test_ctrl_c_pauses_running_trials_and_the_next_run_resumes_them(study_file):
    import signal

    path = study_file(name="ctrlc", n_trials=1, timesteps=6400, every=640)
    lab = Lab(path)
    run = subprocess.Popen(
        [sys.executable, "-m", "rltui", "run", str(path), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: (r := lab.trial(0)) and r.timesteps > 700, what="trial 0 training")
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=HANG)
    finally:
        run.kill()
    # 130, as for any command ended by Ctrl-C: a script tells a paused run from a finished one.
    assert run.returncode == 130, out
    assert "interrupted: 1 trial paused" in out and "Traceback" not in out
    paused = lab.trial(0)
    assert paused.status == TrialStatus.PAUSED
    record = frozen(lab, 0).system_attrs[attrs.PAUSED]
    again = subprocess.run(
        [sys.executable, "-m", "rltui", "run", str(path), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming 1 trial" in again.stdout
    done = lab.trial(0)
    assert done.status == TrialStatus.COMPLETE and done.timesteps == 6400
    # The second run went on from the checkpoint instead of training the first part again.
    assert "trial 0: resuming" in again.stdout + _worker_logs(path)
    logged = trained_steps(path, 0)
    assert_continued(logged, record["timesteps"], record["at"])
    assert logged[-1][0] == 6400


def _worker_logs(study_path: Path) -> str:
    return "\n".join(p.read_text() for p in StudyHome.beside(study_path).logs.glob("*.log"))
