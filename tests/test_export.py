"""``rltui export``: trials.csv and per-trial progress.csv, from a real tiny study."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from rltui.export import export_study
from rltui.export.csv_files import progress_columns
from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, trial_id_of
from rltui.search.seeds import seed_spread
from rltui.search.study import open_study
from rltui.search.trial_logs import friendly_name, progress_rows
from rltui.spec import load_study

LOSSES = ("total_loss", "policy_loss", "value_loss", "entropy_loss")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_progress_rows_rename_and_order(tmp_path):
    log = tmp_path / "progress.jsonl"
    lines = [
        {
            "timesteps": 64,
            "wall_time": 1.5,
            "rollout/ep_rew_mean": 20.0,
            "time/fps": 900,
            "train/loss": 3.0,
            "train/policy_gradient_loss": -0.01,
            "train/value_loss": 6.0,
            "train/entropy_loss": -0.69,
            "train/approx_kl": 0.002,
            "train/clip_fraction": 0.1,
        },
        {"timesteps": 128, "eval/mean_reward": 42.5},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + '\n{"timesteps": 19'  # torn last line
    log.write_text(text, encoding="utf-8")
    rows = progress_rows(log)
    assert len(rows) == 2
    assert rows[0]["episode_reward_mean"] == 20.0
    assert rows[0]["total_loss"] == 3.0 and rows[0]["policy_loss"] == -0.01
    assert rows[0]["value_loss"] == 6.0 and rows[0]["entropy_loss"] == -0.69
    assert rows[0]["approx_kl"] == 0.002
    assert rows[0]["time_fps"] == 900 and rows[0]["train_clip_fraction"] == 0.1
    assert rows[1] == {"timesteps": 128, "eval_mean_reward": 42.5}
    columns = progress_columns(rows)
    assert columns[0] == "timesteps" and columns[1:] == sorted(columns[1:])
    assert not any("/" in column for column in columns)
    assert friendly_name("train/n_updates") == "train_n_updates"
    assert progress_rows(tmp_path / "missing.jsonl") == []


def test_seed_spread_takes_each_seed_at_the_points_of_the_objective():
    values = {"7": [10.0, 30.0, 20.0], "0": [20.0, 50.0, 40.0]}
    last = seed_spread(values, "last", 3, True)
    assert last is not None and last.seeds == (7, 0) and last.values == (20.0, 40.0)
    assert last.std == 10.0 and last.curves == ((10.0, 30.0, 20.0), (20.0, 50.0, 40.0))
    mean_last = seed_spread(values, "mean_last", 2, True)
    assert mean_last is not None and mean_last.values == (25.0, 45.0)
    best = seed_spread(values, "best", 3, True)  # the mean curve is best at the 2nd point
    assert best is not None and best.values == (30.0, 50.0)
    lowest = seed_spread(values, "best", 3, False)
    assert lowest is not None and lowest.values == (10.0, 20.0)
    # The seeds' mean is the trial's value: the objective of the mean curve [15, 40, 30].
    for spread, value in ((last, 30.0), (mean_last, 35.0), (best, 40.0), (lowest, 15.0)):
        assert sum(spread.values) / 2 == value
    assert seed_spread(None, "last", 1, True) is None
    assert seed_spread({"0": [1.0]}, "last", 1, True) is None  # one seed: no spread
    assert seed_spread({"0": [], "1": []}, "last", 1, True) is None
    assert seed_spread({"x": [1.0], "1": [2.0]}, "last", 1, True) is None


def _finished(ostudy: optuna.Study, state: TrialState, value: float | None, seeds: dict) -> None:
    """A trial that reported the seeds' mean at each evaluation, as the trainer does."""
    trial = ostudy.ask()
    for step, _ in enumerate(next(iter(seeds.values()), [])):
        mean = sum(v[step] for v in seeds.values()) / len(seeds)
        trial.report(mean, (step + 1) * 128)
    if seeds:
        storage_of(ostudy).set_trial_system_attr(trial_id_of(trial), attrs.SEED_VALUES, seeds)
    if state == TrialState.COMPLETE:
        ostudy.tell(trial, value)
    else:
        ostudy.tell(trial, state=state)


def test_trials_csv_has_the_spread_and_a_column_per_seed_value(study_file, tmp_path):
    path = study_file(name="seeded")
    path.write_text(path.read_text().replace("  seed: 0\n", "  seeds: [7, 0, 3]\n"))
    study = load_study(path, check_env=False)
    ostudy, url = open_study(study)
    # The objective is 'last': the value is the last evaluation's mean over the seeds.
    _finished(
        ostudy, TrialState.COMPLETE, 20.0, {"7": [1.0, 10.0], "0": [2.0, 20.0], "3": [3.0, 30.0]}
    )
    _finished(ostudy, TrialState.PRUNED, None, {"7": [4.0], "0": [6.0], "3": [8.0]})
    _finished(ostudy, TrialState.FAIL, None, {})
    out = export_study(ostudy, study, url, tmp_path / "out", "csv").folder
    with open(out / "trials.csv", newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[:7] == ["number", "state", "value", "value_std", "seed_0", "seed_3", "seed_7"]
    complete, pruned, failed = _read_csv(out / "trials.csv")
    assert float(complete["value"]) == 20.0
    assert (complete["seed_7"], complete["seed_0"], complete["seed_3"]) == ("10.0", "20.0", "30.0")
    assert float(complete["value_std"]) == pytest.approx((200 / 3) ** 0.5)
    assert float(pruned["value"]) == 6.0 and pruned["seed_3"] == "8.0"
    assert float(pruned["value_std"]) == pytest.approx((8 / 3) ** 0.5)
    assert failed["value"] == failed["value_std"] == failed["seed_0"] == ""


def test_trials_csv_of_a_one_seed_study_has_an_empty_spread(study_file, tmp_path):
    study = load_study(study_file(name="single"), check_env=False)
    ostudy, url = open_study(study)
    _finished(ostudy, TrialState.COMPLETE, 5.0, {})
    out = export_study(ostudy, study, url, tmp_path / "out", "csv").folder
    (row,) = _read_csv(out / "trials.csv")
    assert row["value"] == "5.0" and row["value_std"] == ""
    assert not any(column.startswith("seed_") for column in row)


def run_to_end(path: Path) -> None:
    """``rltui run`` on the study file with one worker, until its budget is spent."""
    run = subprocess.run(
        [sys.executable, "-m", "rltui", "run", str(path), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.slow
def test_export_of_a_real_study(study_file, tmp_path):
    path = study_file(name="exported", n_trials=2, timesteps=256, every=128)
    run_to_end(path)
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "export", str(path), "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "exported.rltui" / "export"
    assert str(out) in done.stdout

    trials = _read_csv(out / "trials.csv")
    assert [row["number"] for row in trials] == ["0", "1"]
    for row in trials:
        assert row["state"] == "COMPLETE"
        assert float(row["value"]) > 0
        assert float(row["param_learning_rate"]) > 0
        assert row["param_gamma"] in ("0.95", "0.99")
        assert int(row["timesteps"]) == 256
        assert float(row["duration_s"]) > 0 and row["started"] and row["completed"]
        assert row["worker"] and not row["error"]
        trial_folder = tmp_path / "exported.rltui" / "trials" / f"trial-{row['number']}"
        assert Path(row["log_folder"]) == trial_folder

    for number in (0, 1):
        progress = _read_csv(out / "trials" / f"trial-{number}" / "progress.csv")
        assert progress, f"trial {number} has an empty progress.csv"
        columns = list(progress[0])
        assert columns[0] == "timesteps"
        assert "eval_mean_reward" in columns
        assert any(loss in columns for loss in LOSSES), columns
        evals = [row for row in progress if row["eval_mean_reward"]]
        assert [int(row["timesteps"]) for row in evals] == [128, 256]
        losses = [row for row in progress if row.get("total_loss")]
        assert losses and all(math.isfinite(float(row["total_loss"])) for row in losses)


# What a plotting script written for a Ray Tune experiment folder reads: every trial folder's
# progress.csv, labelled by its experiment tag, with RLlib's column names.
TUNE_PLOT_SCRIPT = """
import csv, glob, json, os, sys
LEARNER = "info/learner/default_policy/learner_stats/"
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*", "progress.csv"))):
    rows = list(csv.DictReader(open(path)))
    tag = rows[-1]["experiment_tag"]
    config = json.load(open(os.path.join(os.path.dirname(path), "params.json")))  # the config
    x = [int(r["timesteps_total"]) for r in rows]
    reward = [float(r["episode_reward_mean"]) for r in rows if r["episode_reward_mean"]]
    losses = {k: [float(r[LEARNER + k]) for r in rows if r[LEARNER + k]]
              for k in ("total_loss", "policy_loss", "vf_loss")}
    folder = os.path.dirname(path)
    results = [json.loads(line) for line in open(os.path.join(folder, "result.json"))]
    assert results[-1]["done"] and results[-1]["training_iteration"] == len(rows)
    print(tag, len(x), max(x), len(reward), *(len(v) for v in losses.values()), sorted(config))
"""


@pytest.mark.slow
def test_a_tune_style_plotting_script_reads_the_tune_export(study_file, tmp_path):
    path = study_file(name="tuned", n_trials=2, timesteps=256, every=128)
    run_to_end(path)
    study = load_study(path)
    ostudy, url = open_study(study)
    out = export_study(ostudy, study, url, tmp_path / "tune", "tune").folder
    script = tmp_path / "plot.py"
    script.write_text(TUNE_PLOT_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    for number, line in enumerate(lines):
        tag, count, last, rewards, *losses_and_config = line.split(" ", 7)
        assert tag.startswith(f"{number}_") and "gamma=" in tag and "learning_rate=" in tag
        assert int(count) > 2 and int(last) == 256 and int(rewards) > 0
        assert all(int(n) > 0 for n in losses_and_config[:3])
        assert "learning_rate" in losses_and_config[3]


def test_tune_rows_use_rllib_names_and_signs():
    from rltui.export.tune import experiment_tag, tune_rows

    tag = experiment_tag(3, {"learning_rate": 1e-4, "normalize_advantage": True})
    assert tag == "3_learning_rate=0.0001,normalize_advantage=True"
    records = [
        {"timesteps": 64, "wall_time": 10.0, "train/entropy_loss": -0.69, "train/value_loss": 2},
        {"timesteps": 128, "wall_time": 12.5, "eval/mean_reward": 9.0, "eval/reported_step": 128},
    ]
    rows = tune_rows(records, tag, "00003", finished=True)
    learner = "info/learner/default_policy/learner_stats/"
    assert rows[0][learner + "entropy"] == 0.69 and rows[0][learner + "vf_loss"] == 2
    assert rows[1]["evaluation/episode_reward_mean"] == 9.0 and rows[1]["time_total_s"] == 2.5
    assert [r["training_iteration"] for r in rows] == [1, 2]
    assert [r["done"] for r in rows] == [False, True]
    assert "eval/reported_step" not in rows[1]
