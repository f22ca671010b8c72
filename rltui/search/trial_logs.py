"""Reading a trial's training log (``progress.jsonl``) back: one JSON object a line.

The worker's trainer appends every SB3 log dump and every evaluation as a line. Reading them
is plain ``json``, with neither torch nor Stable-Baselines3 nor Optuna: the UI charts any
column against timesteps from here, and ``rltui export`` writes them as ``progress.csv``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    """The column name of an SB3 logger key (``train/loss`` -> ``total_loss``)."""
    return FRIENDLY.get(key, key.replace("/", "_"))


def read_progress(path: Path) -> list[dict[str, Any]]:
    """Every record of a progress log, with the logger's own keys, in file order.

    A missing file gives no rows; a torn line (a worker killed mid-write) or a line that is
    not a JSON object is skipped.
    """
    try:
        # Undecodable bytes become a line that fails to parse and is skipped, like a torn one.
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    rows: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            rows.append(record)
    return rows


def progress_rows(log_path: Path, seeds: Sequence[int] = ()) -> list[dict[str, Any]]:
    """The rows of a trial's ``progress.jsonl`` with friendly column names, in file order.

    Each row has ``timesteps`` (records without it are left out), see :func:`read_progress`.
    The trainer logs each seed's evaluation by its position in ``train.seeds``
    (``eval/seed_1``); given the trial's ``seeds``, those columns are named by the seed itself
    (``eval_seed_7``), as in ``rltui export``'s ``trials.csv``.
    """
    names = {f"eval/seed_{index}": f"eval_seed_{seed}" for index, seed in enumerate(seeds)}
    return [
        {names.get(key) or friendly_name(str(key)): value for key, value in record.items()}
        for record in read_progress(log_path)
        if "timesteps" in record
    ]
