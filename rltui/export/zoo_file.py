"""``rltui export --format zoo``: one trial as an rl-baselines3-zoo hyperparams file.

The trial is the one asked for, or the study's best COMPLETE one. Its settings are taken from
the study file version it ran with, so a later edit of the file does not change what the
export says it trained with. The file itself is written by :mod:`rltui.convert.zoo_export`,
which also lists what the zoo cannot express.
"""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.trial import TrialState

from rltui.convert import Conversion, ConversionError
from rltui.convert.zoo_export import write_zoo_file
from rltui.search import attrs
from rltui.search.reader import StudyReader
from rltui.search.study import SpecVersions
from rltui.spec import StudyFile


def chosen_trial(ostudy: optuna.Study, number: int | None) -> optuna.trial.FrozenTrial:
    """Trial ``number``, or the best COMPLETE trial; ConversionError when there is none, or
    when the study has several objectives (a Pareto front rather than one best trial)."""
    trials = ostudy.get_trials(deepcopy=False)
    if number is None:
        complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
        if not complete:
            raise ConversionError(
                f"study '{ostudy.study_name}' has no COMPLETE trial yet",
                "name one with --trial N, or export when a trial has completed",
            )
        if len(ostudy.directions) > 1:
            # The front as the window stars it, read the same way.
            front = " ".join(f"#{row.number}" for row in StudyReader(ostudy).poll().front)
            raise ConversionError(
                f"study '{ostudy.study_name}' has several objectives, so no single best trial",
                f"name one of its Pareto front with --trial N (front: {front})",
            )
        return ostudy.best_trial
    found = [t for t in trials if t.number == number]
    if not found:
        known = f"trials 0-{len(trials) - 1}" if trials else "it has no trials yet"
        raise ConversionError(f"no trial {number} in study '{ostudy.study_name}' ({known})")
    return found[0]


def export_zoo_file(
    ostudy: optuna.Study, study: StudyFile, out: Path, number: int | None
) -> tuple[Path, Conversion]:
    """Write the chosen trial's zoo file into ``out``; returns its path and what was left out."""
    trial = chosen_trial(ostudy, number)
    version = trial.system_attrs.get(attrs.TRIAL_SPEC_VERSION)
    ran_with = SpecVersions(ostudy, study).of(int(version) if version else None)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{ran_with.spec.name}-trial-{trial.number}-zoo.yml"
    done = write_zoo_file(ran_with, path, trial.params, trial=trial.number)
    return path, done
