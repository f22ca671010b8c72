"""``rltui export``: a study's trials and training logs as CSV files.

Writes ``trials.csv`` (one row per trial) and, for each trial with a training log,
``trials/trial-N/progress.csv`` (one row per SB3 log dump and per evaluation). Reads the
workers' ``progress.jsonl`` files with plain ``json``: this module imports neither torch nor
Stable-Baselines3, so the UI can use :func:`progress_rows` to chart any column vs timesteps,
and :func:`seed_spread` to show a several-seed trial's value seed by seed.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import row_of
from rltui.search.storage import StorageError, StudyHome, journal_path
from rltui.search.study import stored_spec
from rltui.spec import SpecError, StudyFile

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


def progress_rows(log_path: Path, seeds: Sequence[int] = ()) -> list[dict[str, Any]]:
    """The rows of a trial's ``progress.jsonl`` with friendly column names, in file order.

    Each row has ``timesteps``; a missing file gives no rows, and a torn or malformed line
    (a worker killed mid-write) is skipped. The trainer logs each seed's evaluation by its
    position in ``train.seeds`` (``eval/seed_1``); given the trial's ``seeds``, those columns
    are named by the seed itself (``eval_seed_7``), as in ``trials.csv``.
    """
    names = {f"eval/seed_{index}": f"eval_seed_{seed}" for index, seed in enumerate(seeds)}
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
            rows.append(
                {names.get(key) or friendly_name(str(key)): value for key, value in record.items()}
            )
    return rows


def progress_columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The union of the rows' keys, sorted, with ``timesteps`` first."""
    keys = {key for row in rows for key in row}
    keys.discard("timesteps")
    return ["timesteps", *sorted(keys)]


@dataclass(frozen=True)
class SeedSpread:
    """A several-seed trial's value seed by seed (``train.seeds``).

    ``values[i]`` is seed ``seeds[i]``'s evaluation(s) at the points the trial's value was
    taken from (the last one, the mean of the last k, or the best point of the mean curve), so
    the mean of ``values`` is the trial's value. ``std`` is their population standard
    deviation, as the training log's ``eval/seed_std``. ``curves`` holds every evaluation of
    each seed, in order.
    """

    seeds: tuple[int, ...]
    values: tuple[float, ...]
    std: float
    curves: tuple[tuple[float, ...], ...]


def seed_spread(seed_values: Any, kind: str, k: int, maximize: bool) -> SeedSpread | None:
    """The spread of a trial's value from its ``rltui:seed_values`` attribute.

    ``seed_values`` maps each seed (as a string, in ``train.seeds`` order) to that seed's
    evaluations. ``kind`` and ``k`` are the study file's objective; a PRUNED trial's value is
    its last evaluation, so pass ``"last"`` for it. None when there is nothing to spread.
    """
    if not isinstance(seed_values, dict) or len(seed_values) < 2:
        return None
    try:
        seeds = tuple(int(seed) for seed in seed_values)
        curves = tuple(tuple(float(v) for v in values) for values in seed_values.values())
    except (TypeError, ValueError):
        return None
    count = min(len(curve) for curve in curves)
    if count == 0:
        return None
    if kind == "mean_last":
        points = list(range(max(0, count - k), count))
    elif kind == "best":
        mean = [sum(curve[i] for curve in curves) / len(curves) for i in range(count)]
        pick = max if maximize else min
        points = [pick(range(count), key=lambda i: mean[i])]
    else:
        points = [count - 1]
    values = tuple(sum(curve[i] for i in points) / len(points) for curve in curves)
    centre = sum(values) / len(values)
    std = (sum((v - centre) ** 2 for v in values) / len(values)) ** 0.5
    return SeedSpread(seeds, values, std, curves)


def trial_spread(trial: optuna.trial.FrozenTrial, study: StudyFile) -> SeedSpread | None:
    """:func:`seed_spread` of a finished trial, under the study file ``study`` it ran with."""
    objective = study.spec.train.objective
    pruned = trial.state == optuna.trial.TrialState.PRUNED
    kind = "last" if pruned else objective.type
    return seed_spread(
        trial.system_attrs.get(attrs.SEED_VALUES),
        kind,
        objective.k,
        study.spec.direction == "maximize",
    )


def trials_home(study: StudyFile, storage_url: str) -> StudyHome:
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


def default_out(study: StudyFile) -> Path:
    """``STUDY.rltui/export`` beside the study file, or ``./NAME-export`` without a file."""
    # A study read from a shared storage carries the path of the host that created it.
    if study.path is not None and study.path.exists():
        return StudyHome.beside(study.path).root / "export"
    return Path.cwd() / f"{study.spec.name}-export"


def export_study(
    ostudy: optuna.Study, study: StudyFile, storage_url: str, out: Path | None, fmt: str
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
    specs = SpecVersions(ostudy, study)
    spreads = [
        trial_spread(trial, specs.of(row.spec_version)) if row.value is not None else None
        for trial, row in zip(trials, rows, strict=True)
    ]
    seeds = sorted({seed for spread in spreads if spread for seed in spread.seeds})
    header = [
        "number",
        "state",
        "value",
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
    with open(out / "trials.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row, spread in zip(rows, spreads, strict=True):
            folder = home.trials / f"trial-{row.number}"
            duration = row.duration
            per_seed = dict(zip(spread.seeds, spread.values, strict=True)) if spread else {}
            writer.writerow(
                [
                    row.number,
                    row.status.value,
                    _cell(row.value),
                    _cell(spread.std if spread else None),
                    *(_cell(per_seed.get(seed)) for seed in seeds),
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
            _write_progress(
                folder / "progress.jsonl",
                out / "trials" / f"trial-{row.number}",
                specs.of(row.spec_version).spec.train.seeds or (),
            )
    return out


class SpecVersions:
    """The study file each trial ran with (its objective may have changed since), read once
    per version; the study file in hand when a version cannot be read."""

    def __init__(self, ostudy: optuna.Study, fallback: StudyFile) -> None:
        self._ostudy = ostudy
        self._fallback = fallback
        self._read: dict[int, StudyFile] = {}

    def of(self, version: int | None) -> StudyFile:
        if not version:
            return self._fallback
        if version not in self._read:
            try:
                self._read[version] = stored_spec(
                    storage_of(self._ostudy), study_id_of(self._ostudy), version
                )
            except (StorageError, SpecError):
                self._read[version] = self._fallback
        return self._read[version]


def _write_progress(log_path: Path, folder: Path, seeds: Sequence[int]) -> None:
    """``progress.csv`` in ``folder`` from one trial's log; nothing when it has no rows."""
    rows = progress_rows(log_path, seeds)
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
