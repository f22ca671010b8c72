"""``rltui export``: trials.csv and per-trial progress.csv, from a real tiny study."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from rltui.export import friendly_name, progress_columns, progress_rows

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


@pytest.mark.slow
def test_export_of_a_real_study(study_file, tmp_path):
    path = study_file(name="exported", n_trials=2, timesteps=256, every=128)
    run = subprocess.run(
        [sys.executable, "-m", "rltui", "run", str(path), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
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
