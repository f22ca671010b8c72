"""A several-seed trial (``train.seeds``) seed by seed, for the trial detail.

Finished and paused trials keep every seed's evaluations in ``rltui:seed_values``; a running
one has them only in its training log (``eval/seed_0..N``, by position in the ``train.seeds``
of the study file version it runs with).
Read on a thread: it touches the storage and a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rltui.search.folders import progress_log
from rltui.search.optuna_internals import storage_of
from rltui.search.trial_logs import progress_rows

if TYPE_CHECKING:
    from rltui.search.reader import TrialRow
    from rltui.search.seeds import SeedSpread
    from rltui.ui.services.session import Session


@dataclass(frozen=True)
class TrialSeeds:
    """Each evaluation's value per seed and, when the trial has a value, its spread."""

    seeds: tuple[int, ...]
    evaluations: tuple[tuple[int, tuple[float, ...]], ...]  # (timesteps, one value per seed)
    spread: SeedSpread | None


def trial_seeds(session: Session, row: TrialRow) -> TrialSeeds | None:
    """None for a trial trained with one seed (or with no evaluation yet)."""
    # Both load Optuna: here, on the thread, not for the first paint.
    from rltui.search.seeds import trial_spread
    from rltui.search.study import SpecVersions

    trial = storage_of(session.ostudy).get_trial(row.trial_id)
    study = SpecVersions(session.ostudy, session.study).of(row.spec_version)
    spread = trial_spread(trial, study)
    if spread is not None:
        # One stored value per seed and evaluation, in the order the evaluations were reported.
        steps = [step for step, _ in row.curve]
        evaluations = tuple(
            (step, tuple(curve[index] for curve in spread.curves))
            for index, step in enumerate(steps[: min(map(len, spread.curves))])
        )
        return TrialSeeds(spread.seeds, evaluations, spread if row.value is not None else None)
    seeds = study.spec.train.seeds or []
    if len(seeds) < 2:
        return None
    by_step: dict[int, tuple[float, ...]] = {}
    for line in progress_rows(progress_log(session.trials_dir, row.number), seeds):
        values = [line.get(f"eval_seed_{seed}") for seed in seeds]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            by_step[int(line["timesteps"])] = tuple(float(v) for v in values)  # type: ignore[arg-type]
    if not by_step:
        return None
    return TrialSeeds(tuple(seeds), tuple(sorted(by_step.items())), None)
