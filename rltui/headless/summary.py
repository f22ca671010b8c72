"""The end of ``rltui run``: a summary of the study as text (the best trial's whole
configuration as YAML to paste; a PBT study's best member and the schedule that trained it)
or as one JSON document."""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from typing import Any

import optuna
from rich.console import Console
from rich.text import Text

from rltui.search import segments
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import Snapshot, TrialRow
from rltui.search.storage import StorageError, mask_url
from rltui.search.study import stored_spec
from rltui.spec import SpecError, StudyFile, pbt
from rltui.spec.flow import flow
from rltui.spec.wording import counted


def fmt(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:.4g}"


def best_of(snap: Snapshot, study: StudyFile) -> TrialRow | None:
    """The trial the summary names: the study's best; in a PBT study, the last segment of the
    best member that trained its whole budget (:meth:`Snapshot.best_member`)."""
    if not pbt.is_pbt(study.spec):
        return snap.best
    spec = study.spec
    return snap.best_member(spec.train.timesteps, spec.maximize_reward) or snap.best


def population_counts(snap: Snapshot) -> dict[str, int]:
    return segments.counts(r.segment for r in snap.rows.values() if r.segment is not None)


def population_lines(snap: Snapshot, study: StudyFile, best: TrialRow | None) -> list[str]:
    """What a PBT run did, in a few lines; none for other studies."""
    if not pbt.is_pbt(study.spec):
        return []
    found = population_counts(snap)
    plural = "" if found["exploits"] == 1 else "s"
    lines = [
        f"population: {found['members']} members, {found['segments']} segments, "
        f"{found['exploits']} exploit{plural}"
    ]
    if best is not None and best.segment is not None:
        lines.append(
            f"best member {best.segment.member}: value {fmt(best.value)} at "
            f"{best.segment.end:,} timesteps (trial #{best.number}); "
            f"`rltui export {shlex.quote(str(study.path))} --format schedule` writes the "
            "schedule that trained it"
        )
    return lines


def summary_doc(
    snap: Snapshot,
    study: StudyFile,
    url: str,
    interrupted: bool,
    settings: TrialSettings | None,
    wall: float,
) -> dict[str, Any]:
    """The summary of ``rltui run --json``: the best trial, its parameters and whole
    configuration, the count of trials in each state, the wall time, and the failures."""
    counts = snap.counts
    best = best_of(snap, study)
    failed = [r for r in snap.rows.values() if r.status == TrialStatus.FAIL]
    doc: dict[str, Any] = {
        "ok": not interrupted,
        "study": study.spec.name,
        "study_file": str(study.path) if study.path else None,
        "storage": mask_url(url),
        "interrupted": interrupted,
        "wall_time_s": round(wall, 3),
        "counts": {status.value: counts[status] for status in TrialStatus},
        "best": None,
        "failed": [{"number": r.number, "error": r.error} for r in failed],
    }
    if snap.multi_objective:  # "best" is then the front's best by the first objective
        front = [{"number": r.number, "values": snap.named_values(r)} for r in snap.front]
        doc["pareto_front"] = front
    if pbt.is_pbt(study.spec):
        doc["population"] = {
            **population_counts(snap),
            "best_member": best.segment.member if best and best.segment else None,
        }
    if best is not None and settings is not None:
        doc["best"] = {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            # The whole configuration the trial ran with, in the study file's words.
            "hyperparameters": settings.whole,
        }
    return json_safe(doc)


def json_safe(value: Any) -> Any:
    """``value`` as strict JSON holds it: NaN and infinities null, any other object its text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def study_of(ostudy: optuna.Study, study: StudyFile, version: int | None) -> StudyFile:
    """The study file version a trial ran with (an edit may have changed its fixed values);
    ``study`` when the storage does not hold it."""
    if version:
        try:
            return stored_spec(storage_of(ostudy), study_id_of(ostudy), version)
        except (StorageError, SpecError):
            pass
    return study


@dataclass(frozen=True)
class TrialSettings:
    """What a trial trained with, in the study file's words, in three parts: its searched
    values (a list choice as the list), the settings those set under another name (a Hydra
    path's setting, a preset's conversions: ``agent.gamma`` sets ``gamma``), and the fixed
    rest (the file's ``hyperparameters`` and fixed search-space values)."""

    searched: dict[str, Any]
    derived: dict[str, Any]
    fixed: dict[str, Any]

    @property
    def whole(self) -> dict[str, Any]:
        return {**self.fixed, **self.derived, **self.searched}


def trial_settings(study: StudyFile, best: TrialRow) -> TrialSettings:
    """:class:`TrialSettings` of trial ``best`` under the study file version it ran with."""
    values = study.hyperparameters_for(best.params)
    from_search = study.space.values_for(best.params)
    searched = {name: from_search.get(name, value) for name, value in best.params.items()}
    derived = {n: v for n, v in from_search.items() if n not in best.params}
    fixed = {n: v for n, v in values.items() if n not in searched and n not in derived}
    return TrialSettings(searched, derived, fixed)


def print_summary(
    console: Console,
    snap: Snapshot,
    study: StudyFile,
    url: str,
    interrupted: bool,
    settings: TrialSettings | None = None,
) -> None:
    counts = snap.counts
    console.print(
        ", ".join(f"{counts[s]} {s.value.lower()}" for s in TrialStatus if counts[s]) or "no trials"
    )
    if interrupted:
        command = f"rltui run {shlex.quote(str(study.path))}"
        paused = counts[TrialStatus.PAUSED]
        plain(
            console,
            f"interrupted: {counted(paused, 'trial')} paused; `{command}` resumes them"
            if paused
            else f"interrupted: no trial was paused; `{command}` goes on with the study",
        )
    failed = [r for r in snap.rows.values() if r.status == TrialStatus.FAIL and r.error]
    for row in failed[-3:]:
        console.print(Text.assemble((f"trial {row.number} failed:", "red"), f" {row.error}"))
    best = best_of(snap, study)
    if best is None:
        console.print("no completed trial yet")
        return
    for line in population_lines(snap, study, best):
        plain(console, line, "green")
    for row in snap.front:  # several objectives: the front, and the best by the first
        shown = ", ".join(f"{k} {fmt(v)}" for k, v in snap.named_values(row).items())
        console.print(Text(f"Pareto front: trial #{row.number}: {shown}", "green"))
    if snap.multi_objective:
        label = snap.objective_label(0)
        console.print(f"[bold green]best by {label} on the front: trial #{best.number}[/]")
    else:
        console.print(f"[bold green]best trial #{best.number}: value {best.value:.6g}[/]")
    # The whole configuration as a YAML block to paste into a study file.
    settings = settings or TrialSettings(dict(best.params), {}, {})
    plain(console, "hyperparameters:")
    groups = (
        (f"searched (trial #{best.number})", settings.searched),
        ("set by the searched values", settings.derived),
        ("fixed: the study file's hyperparameters and fixed search-space values", settings.fixed),
    )
    for title, values in groups:
        if values:
            plain(console, f"  # {title}")
        for name, value in values.items():
            plain(console, f"  {name}: {flow(value)}")
    journal = url.removeprefix("journal:")
    storage_args = (
        f"--storage {shlex.quote(journal)} --storage-class JournalFileBackend"
        if url.startswith("journal:")
        else f"--storage {shlex.quote(mask_url(url))}"
    )
    name = shlex.quote(study.spec.name)
    plain(console, f"optuna trials {storage_args} --study-name {name}", style="dim")


def plain(console: Console, line: str, style: str = "") -> None:
    """Print ``line`` as it is: no markup, no highlighting, and never wrapped (a command or a
    YAML line broken at the terminal width, or at 80 columns when piped, cannot be pasted)."""
    console.print(Text(line, style=style), soft_wrap=True)
