"""A trial's training log: every SB3 log dump and every evaluation, one JSON line each.

JSON lines are appended, so a resumed trial continues the same file; ``rltui export`` turns
them into ``progress.csv``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from stable_baselines3.common.logger import KVWriter, Logger


class ProgressLog(KVWriter):
    """Appends ``{"timesteps": ..., "time/...": ..., "train/...": ...}`` lines to a file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115  # closed by close()

    def sb3_logger(self) -> Logger:
        return Logger(folder=str(self.path.parent), output_formats=[self])

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0
    ) -> None:
        row: dict[str, Any] = {"timesteps": step, "wall_time": time.time()}
        for key, value in key_values.items():
            if isinstance(value, (int, float, str, bool)) or value is None:
                row[key] = value
            elif hasattr(value, "item"):
                row[key] = value.item()
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()

    def evaluation(
        self,
        timesteps: int,
        mean_reward: float,
        per_seed: list[float] | None = None,
        reported_step: int | None = None,
    ) -> None:
        """Log an evaluation taken after ``timesteps`` steps of training. ``reported_step``
        is the step it was reported to Optuna at, when that differs: the trainer reports at
        planned steps, so that pruners compare trials at equal steps, while the log keeps the
        real count, so that its timesteps never go backwards."""
        row: dict[str, Any] = {"eval/mean_reward": mean_reward}
        if reported_step is not None:
            row["eval/reported_step"] = reported_step
        if per_seed:
            mean = sum(per_seed) / len(per_seed)
            row["eval/seed_std"] = (sum((v - mean) ** 2 for v in per_seed) / len(per_seed)) ** 0.5
            row.update({f"eval/seed_{i}": v for i, v in enumerate(per_seed)})
        self.write(row, {}, timesteps)

    def close(self) -> None:
        self._file.close()


def read_progress(path: Path) -> list[dict[str, Any]]:
    """All rows of a progress log; a torn last line (a crash mid-write) is skipped."""
    rows: list[dict[str, Any]] = []
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows
