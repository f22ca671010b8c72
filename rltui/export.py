"""``rltui export``: a study's trials and training logs as CSV files.

Writes ``trials.csv`` (one row per trial) and, for each trial with a training log,
``trials/trial-N/progress.csv`` (one row per SB3 log dump and per evaluation). Reads the
workers' ``progress.jsonl`` files with plain ``json``: this module imports neither torch nor
Stable-Baselines3, so the UI can use :func:`progress_rows` to chart any column vs timesteps.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import optuna

from rltui.search.reader import row_of
from rltui.search.storage import StudyHome, journal_path
from rltui.spec import Study

FORMATS = ("csv",)

# SB3 logger keys with an obvious friendlier name; other keys get '/' replaced by '_'.
FRIENDLY: dict[str, str] = {
    "eval/mean_reward": "eval_mean_reward",
    "rollout/ep_rew_mean": "episode_reward_mean",
    "train/loss": "total_loss",
    "train/policy_gradient_loss": "policy_loss",
    "train/value_loss": "value_loss",
    "train/entropy_loss": "entropy_loss",
    "train/approx_kl": "approx_kl",
}


def friendly_name(key: str) -> str:
    """The CSV column name of an SB3 logger key (``train/loss`` -> ``total_loss``)."""
    return FRIENDLY.get(key, key.replace("/", "_"))


def progress_rows(log_path: Path) -> list[dict[str, Any]]:
    """The rows of a trial's ``progress.jsonl`` with friendly column names, in file order.

    Each row has ``timesteps``; a missing file gives no rows, and a torn or malformed line
    (a worker killed mid-write) is skipped.
    """
    try:
        text = Path(log_path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "timesteps" in record:
            rows.append({friendly_name(str(key)): value for key, value in record.items()})
    return rows


def progress_columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The union of the rows' keys, sorted, with ``timesteps`` first."""
    keys = {key for row in rows for key in row}
    keys.discard("timesteps")
    return ["timesteps", *sorted(keys)]


def trials_home(study: Study, storage_url: str) -> StudyHome:
    """Where the workers wrote this study's ``trials/trial-N`` logs (as the worker decides)."""
    folder = study.spec.control.checkpoint_dir
    if folder:
        return StudyHome(Path(folder).expanduser() / study.spec.name)
    if study.path is not None:
        return StudyHome.beside(study.path)
    journal = journal_path(storage_url)
    if journal is not None:
        return StudyHome(journal.parent)
    return StudyHome(Path.cwd() / f"{study.spec.name}.rltui")


def default_out(study: Study) -> Path:
    """``STUDY.rltui/export`` beside the study file, or ``./NAME-export`` without a file."""
    # A study read from a shared storage carries the path of the host that created it.
    if study.path is not None and study.path.exists():
        return StudyHome.beside(study.path).root / "export"
    return Path.cwd() / f"{study.spec.name}-export"


def export_study(
    ostudy: optuna.Study, study: Study, storage_url: str, out: Path | None, fmt: str
) -> Path:
    """Write ``trials.csv`` and each trial's ``trials/trial-N/progress.csv`` under ``out``.

    Returns the output folder. Only the ``csv`` format exists; others raise ``ValueError``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}' (known: {', '.join(FORMATS)})")
    out = Path(out) if out is not None else default_out(study)
    out.mkdir(parents=True, exist_ok=True)
    home = trials_home(study, storage_url)
    trials = sorted(ostudy.get_trials(deepcopy=False), key=lambda t: t.number)
    rows = [row_of(trial) for trial in trials]
    names = sorted({name for row in rows for name in row.params})
    header = [
        "number",
        "state",
        "value",
        *(f"param_{n}" for n in names),
        "timesteps",
        "duration_s",
        "started",
        "completed",
        "worker",
        "error",
        "log_folder",
    ]
    with open(out / "trials.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            folder = home.trials / f"trial-{row.number}"
            duration = row.duration
            writer.writerow(
                [
                    row.number,
                    row.status.value,
                    _cell(row.value),
                    *(_cell(row.params.get(n)) for n in names),
                    row.timesteps,
                    "" if duration is None else f"{duration:.3f}",
                    row.started.isoformat() if row.started else "",
                    row.completed.isoformat() if row.completed else "",
                    row.worker or "",
                    row.error or "",
                    str(folder),
                ]
            )
            _write_progress(folder / "progress.jsonl", out / "trials" / f"trial-{row.number}")
    return out


def _write_progress(log_path: Path, folder: Path) -> None:
    """``progress.csv`` in ``folder`` from one trial's log; nothing when it has no rows."""
    rows = progress_rows(log_path)
    if not rows:
        return
    folder.mkdir(parents=True, exist_ok=True)
    columns = progress_columns(rows)
    with open(folder / "progress.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _cell(value) for key, value in row.items()})


def _cell(value: Any) -> Any:
    """A CSV cell: empty for None, ``nan`` for NaN, the value otherwise."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value
