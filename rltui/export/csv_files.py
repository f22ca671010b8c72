"""``rltui export --format csv``: a study's trials and training logs as CSV files.

Writes ``trials.csv`` (one row per trial, a several-seed trial's value seed by seed, one
column per objective in a study with several) and, for each trial with a training log,
``trials/trial-N/progress.csv`` (one row per SB3 log dump and per evaluation). The logs, their
folders, the seed spread and the study file versions come from the search layer
(:mod:`rltui.search.trial_logs`, :mod:`rltui.search.folders`, :mod:`rltui.search.seeds`,
:class:`rltui.search.study.SpecVersions`), which the UI reads them through as well; this module
only writes the CSV files.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import optuna

from rltui.search.folders import progress_log, study_home, trial_folder
from rltui.search.reader import Snapshot, TrialRow, row_of
from rltui.search.seeds import trial_spread
from rltui.search.study import SpecVersions
from rltui.search.trial_logs import progress_rows
from rltui.spec import StudyFile


def progress_columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The union of the rows' keys, sorted, with ``timesteps`` first."""
    keys = {key for row in rows for key in row}
    keys.discard("timesteps")
    return ["timesteps", *sorted(keys)]


def export_csv(ostudy: optuna.Study, study: StudyFile, storage_url: str, out: Path) -> list[Path]:
    """Write ``trials.csv`` and each trial's ``trials/trial-N/progress.csv`` under ``out``;
    returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    trials_dir = study_home(study, storage_url, study.path).trials
    trials = sorted(ostudy.get_trials(deepcopy=False), key=lambda t: t.number)
    rows = [row_of(trial) for trial in trials]
    objectives = _objective_labels(ostudy)
    names = sorted({name for row in rows for name in row.params})
    specs = SpecVersions(ostudy, study)
    spreads = [
        trial_spread(trial, specs.of(row.spec_version)) if row.value is not None else None
        for trial, row in zip(trials, rows, strict=True)
    ]
    seeds = sorted({seed for spread in spreads if spread for seed in spread.seeds})
    header = [
        "number",
        "state",
        *(objectives or ["value"]),
        "value_std",
        *(f"seed_{seed}" for seed in seeds),
        *(f"param_{n}" for n in names),
        "timesteps",
        "duration_s",
        "started",
        "completed",
        "worker",
        "error",
        "log_folder",
    ]
    written = [out / "trials.csv"]
    with open(written[0], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row, spread in zip(rows, spreads, strict=True):
            folder = trial_folder(trials_dir, row.number)
            duration = row.duration
            per_seed = dict(zip(spread.seeds, spread.values, strict=True)) if spread else {}
            writer.writerow(
                [
                    row.number,
                    row.status.value,
                    *(_values(row, len(objectives)) if objectives else [csv_cell(row.value)]),
                    csv_cell(spread.std if spread else None),
                    *(csv_cell(per_seed.get(seed)) for seed in seeds),
                    *(csv_cell(row.params.get(n)) for n in names),
                    row.timesteps,
                    "" if duration is None else f"{duration:.3f}",
                    row.started.isoformat() if row.started else "",
                    row.completed.isoformat() if row.completed else "",
                    row.worker or "",
                    row.error or "",
                    str(folder),
                ]
            )
            progress = _write_progress(
                progress_log(trials_dir, row.number),
                trial_folder(out / "trials", row.number),
                specs.of(row.spec_version).spec.train.seeds or (),
            )
            if progress is not None:
                written.append(progress)
    return written


def _objective_labels(ostudy: optuna.Study) -> list[str]:
    """The headings of a study's several objectives' columns (as the window names them);
    empty with one objective, whose column stays ``value``."""
    directions = tuple(ostudy.directions)
    # A snapshot of no rows: the objectives' names alone, without a second read of the trials.
    snapshot = Snapshot(
        study_name=ostudy.study_name,
        direction=directions[0],
        rows={},
        changed=frozenset(),
        workers=[],
        spec_version=0,
        draining=False,
        directions=directions,
        objective_names=tuple(ostudy.metric_names or ()),
    )
    if not snapshot.multi_objective:
        return []
    return [snapshot.objective_label(i) for i in range(len(snapshot.directions))]


def _values(row: TrialRow, count: int) -> list[Any]:
    """One cell per objective: empty where the trial has no values (pruned, failed, running)."""
    return [csv_cell(row.values[i] if i < len(row.values) else None) for i in range(count)]


def _write_progress(log_path: Path, folder: Path, seeds: Sequence[int]) -> Path | None:
    """``progress.csv`` in ``folder`` from one trial's log (its path); nothing when the log
    has no rows."""
    rows = progress_rows(log_path, seeds)
    if not rows:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    columns = progress_columns(rows)
    with open(folder / "progress.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return folder / "progress.csv"


def csv_cell(value: Any) -> Any:
    """A CSV cell: empty for None, ``nan`` for NaN, the value otherwise."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value
