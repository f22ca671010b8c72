"""``rltui export --format schedule``: the hyperparameter schedule that trained a PBT member,
to train that agent again without the population.

The member's weights at its end went through its own segments and, at each exploit, the
segments of the member it copied: the file lists them from the first timestep, each with the
values in force (:func:`rltui.search.segments.schedule`), beside the study file's fixed
settings. It is YAML that rltui's reader and PyYAML read alike (:func:`rltui.spec.flow.flow`).
"""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.trial import TrialState

from rltui.convert import ConversionError
from rltui.search import attrs, segments
from rltui.search.study import SpecVersions
from rltui.spec import StudyFile
from rltui.spec.flow import flow


def last_segment(
    ostudy: optuna.Study, study: StudyFile, number: int | None
) -> optuna.trial.FrozenTrial:
    """Trial ``number`` (a segment), or the last segment of the best member that trained its
    whole budget (:func:`rltui.search.segments.best_final`)."""
    trials = ostudy.get_trials(deepcopy=False)
    found = [t for t in trials if segments.segment_of(t) is not None]
    if not found:
        raise ConversionError(
            f"study '{ostudy.study_name}' has no PBT segments",
            "a schedule comes from a PBT study (sampler: {type: pbt})",
        )
    if number is not None:
        chosen = [t for t in found if t.number == number]
        if not chosen:
            raise ConversionError(f"trial {number} is not a segment of study '{ostudy.study_name}'")
        return chosen[0]
    total, maximize = study.spec.train.timesteps, study.spec.maximize_reward
    complete = [(t, segments.segment_of(t), t.state == TrialState.COMPLETE) for t in found]
    best = segments.best_final([(t, s, c) for t, s, c in complete if s], total, maximize)
    if best is None:
        raise ConversionError(
            f"study '{ostudy.study_name}' has no member that trained its whole budget yet",
            "name a segment with --trial N, or export when a member has finished",
        )
    return best


def export_schedule(ostudy: optuna.Study, study: StudyFile, out: Path, number: int | None) -> Path:
    """Write the schedule of the chosen segment's weights into ``out``; returns its path."""
    last = last_segment(ostudy, study, number)
    stretches = segments.schedule(ostudy.get_trials(deepcopy=False), last)
    version = last.system_attrs.get(attrs.TRIAL_SPEC_VERSION)
    ran_with = SpecVersions(ostudy, study).of(int(version) if version else None)
    # Each stretch's values in the study file's words (a list choice as the list).
    words = [ran_with.space.values_for(s.params) for s in stretches]
    searched = {name for values in words for name in values}
    fixed = {
        k: v for k, v in ran_with.hyperparameters_for(last.params).items() if k not in searched
    }
    member = segments.segment_of(last).member  # type: ignore[union-attr]
    lines = [
        f"# The hyperparameters that trained member {member}'s weights to trial {last.number}'s",
        f"# end (value {last.value:g}), from the first timestep, through the members it copied.",
        "# Written by rltui export --format schedule.",
        f"study: {flow(ran_with.spec.name)}",
        f"algorithm: {flow(ran_with.spec.train.algorithm)}",
        f"env: {flow(ran_with.spec.train.env)}",
        f"timesteps: {stretches[-1].end if stretches else 0}",
        "fixed:",
        *(f"  {k}: {flow(v)}" for k, v in fixed.items()),
        "schedule:",
    ]
    for s, used in zip(stretches, words, strict=True):
        values = ", ".join(f"{k}: {flow(v)}" for k, v in sorted(used.items()))
        lines.append(
            f"  - {{from: {s.start}, to: {s.end}, trial: {s.trial}, member: {s.member}, {values}}}"
        )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{ran_with.spec.name}-member-{member}-trial-{last.number}-schedule.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
