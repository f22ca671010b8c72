"""A study's results laid out as a Ray Tune experiment folder, for Tune users' own scripts.

Tune writes one folder per trial, ``ALGO_ENV_ID_INDEX_TAG/``, holding ``params.json`` (the
trial's config), ``result.json`` (one JSON result a line) and ``progress.csv`` (the same
results as a table), with RLlib's result names: ``timesteps_total``, ``training_iteration``,
``time_total_s``, ``episode_reward_mean``, ``info/learner/default_policy/learner_stats/
vf_loss`` and so on, and the trial's ``experiment_tag`` (``0_learning_rate=0.0001,...``) in
every row. A plotting script written against such a folder (``glob('*/progress.csv')``, then
those columns) reads this export unchanged.

SB3's log keys map to RLlib's (classic API stack) names; entropy changes sign, since SB3
logs the entropy *loss* (minus the entropy) where RLlib logs the entropy. Keys without an
RLlib counterpart keep SB3's name.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna

from rltui.export.csv_files import csv_cell
from rltui.search.folders import progress_log, study_home
from rltui.search.reader import row_of
from rltui.search.trial_logs import read_progress
from rltui.spec import StudyFile

LEARNER = "info/learner/default_policy/learner_stats/"
# SB3 logger key -> RLlib result name.
RLLIB_NAMES: dict[str, str] = {
    "rollout/ep_rew_mean": "episode_reward_mean",
    "rollout/ep_len_mean": "episode_len_mean",
    "eval/mean_reward": "evaluation/episode_reward_mean",
    "eval/mean_ep_length": "evaluation/episode_len_mean",
    "train/loss": LEARNER + "total_loss",
    "train/policy_gradient_loss": LEARNER + "policy_loss",
    "train/policy_loss": LEARNER + "policy_loss",
    "train/value_loss": LEARNER + "vf_loss",
    "train/approx_kl": LEARNER + "kl",
    "train/learning_rate": LEARNER + "cur_lr",
    "train/entropy_loss": LEARNER + "entropy",
    "train/explained_variance": LEARNER + "vf_explained_var",
    "train/n_updates": LEARNER + "num_updates",
    "time/fps": "num_env_steps_sampled_throughput_per_sec",
}
NEGATED = frozenset({"train/entropy_loss"})
# Ours, with no RLlib name and nothing a Tune script reads: left out.
DROPPED = frozenset({"timesteps", "wall_time", "eval/reported_step", "time/time_elapsed"})
FIRST = [
    "timesteps_total",
    "training_iteration",
    "time_total_s",
    "episode_reward_mean",
    "evaluation/episode_reward_mean",
    "experiment_tag",
    "trial_id",
    "done",
]


def tune_value(value: Any) -> str:
    """A value as Tune formats it in an experiment tag: 5 significant digits for floats."""
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def experiment_tag(index: int, params: Mapping[str, Any]) -> str:
    """Tune's tag for a trial: ``3_learning_rate=0.0001,normalize_advantage=True``."""
    parts = ",".join(f"{name.rsplit('.', 1)[-1]}={tune_value(v)}" for name, v in params.items())
    return f"{index}_{parts}" if parts else str(index)


def tune_rows(
    records: Sequence[Mapping[str, Any]], tag: str, trial_id: str, finished: bool
) -> list[dict[str, Any]]:
    """Tune's results from a trial's log records: one per record that has ``timesteps``,
    ``training_iteration`` counting them, the last one ``done`` when the trial ended."""
    kept = [r for r in records if isinstance(r.get("timesteps"), int)]
    start = next((r["wall_time"] for r in kept if _number(r.get("wall_time"))), None)
    rows: list[dict[str, Any]] = []
    for iteration, record in enumerate(kept, start=1):
        row: dict[str, Any] = {
            "timesteps_total": record["timesteps"],
            "training_iteration": iteration,
            "experiment_tag": tag,
            "trial_id": trial_id,
            "done": finished and iteration == len(kept),
        }
        wall = record.get("wall_time")
        if start is not None and isinstance(wall, (int, float)):
            row["time_total_s"] = round(float(wall) - float(start), 3)
        for key, value in record.items():
            if key in DROPPED:
                continue
            name = RLLIB_NAMES.get(key, key)
            row[name] = -value if key in NEGATED and _number(value) else value
        rows.append(row)
    return rows


def export_tune(ostudy: optuna.Study, study: StudyFile, storage_url: str, out: Path) -> list[Path]:
    """Write one Tune trial folder per trial with a training log under ``out``; returns the
    files written."""
    written: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    trials_dir = study_home(study, storage_url, study.path).trials
    train = study.spec.train
    prefix = f"{(train.algorithm or 'function').upper()}_{train.env or 'custom'}"
    for trial in sorted(ostudy.get_trials(deepcopy=False), key=lambda t: t.number):
        row = row_of(trial)
        records = read_progress(progress_log(trials_dir, row.number))
        if not records:
            continue
        tag = experiment_tag(row.number, row.params)
        trial_id = f"{row.number:05d}"
        folder = out / _folder_name(f"{prefix}_{trial_id}_{tag}")
        folder.mkdir(parents=True, exist_ok=True)
        config = dict(row.params)
        (folder / "params.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
        rows = tune_rows(records, tag, trial_id, finished=row.completed is not None)
        for result in rows:
            result["config"] = config
        with open(folder / "result.json", "w", encoding="utf-8") as handle:
            for result in rows:
                handle.write(json.dumps(result, default=str) + "\n")
        _write_csv(folder / "progress.csv", rows)
        written += [folder / "params.json", folder / "result.json", folder / "progress.csv"]
    return written


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    flat = [
        {
            **{k: v for k, v in r.items() if k != "config"},
            **{f"config/{k}": v for k, v in r["config"].items()},
        }
        for r in rows
    ]
    seen = {key for r in flat for key in r}
    columns = [c for c in FIRST if c in seen] + sorted(seen.difference(FIRST))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        for r in flat:
            writer.writerow({k: csv_cell(v) for k, v in r.items()})


def _folder_name(name: str) -> str:
    # Parameter values come from the storage: nothing in them may make a path of the name.
    safe = "".join(c if c.isalnum() or c in "._=,-" else "_" for c in name)
    return safe[:200]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
