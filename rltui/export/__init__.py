"""``rltui export``: a study's results in the formats other tools read.

``csv`` (:mod:`rltui.export.csv_files`): ``trials.csv`` and each trial's ``progress.csv``.
``tune`` (:mod:`rltui.export.tune`): a Ray Tune experiment folder, RLlib's result names.
``zoo`` (:mod:`rltui.export.zoo_file`): one trial as an rl-baselines3-zoo hyperparams file.
``schedule`` (:mod:`rltui.export.schedule`): the hyperparameter schedule a PBT member trained with.
The trial logs, folders, seed spreads and study file versions come from the search layer,
which the UI reads them through as well; these modules only write files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

    from rltui.spec import StudyFile

FORMATS = ("csv", "tune", "zoo", "schedule")


@dataclass(frozen=True)
class Exported:
    """What an export wrote: its folder, the files, and lines for the user about what the
    format could not carry (the zoo's)."""

    folder: Path
    files: list[Path]
    notes: list[str] = field(default_factory=list)


def default_out(study: StudyFile) -> Path:
    """``STUDY.rltui/export`` beside the study file, or ``./NAME-export`` without a file."""
    from rltui.search.storage import StudyHome

    # A study read from a shared storage carries the path of the host that created it.
    if study.path is not None and study.path.exists():
        return StudyHome.beside(study.path).root / "export"
    return Path.cwd() / f"{study.spec.name}-export"


def export_study(
    ostudy: optuna.Study,
    study: StudyFile,
    storage_url: str,
    out: Path | None,
    fmt: str,
    trial: int | None = None,
) -> Exported:
    """Write the study's results in format ``fmt`` under ``out`` (default: :func:`default_out`).
    ``trial`` picks the trial of the ``zoo`` format (default: the best) and the last segment of
    the ``schedule`` format (default: the best that ended at the budget). An unknown format
    raises ``ValueError``; a zoo export that cannot be made, ``ConversionError``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}' (known: {', '.join(FORMATS)})")
    folder = Path(out) if out is not None else default_out(study)
    if fmt == "zoo":
        from rltui.export.zoo_file import export_zoo_file

        path, done = export_zoo_file(ostudy, study, folder, trial)
        return Exported(
            folder, [path], [f"{path}: not converted: {u.line()}" for u in done.unmapped]
        )
    if fmt == "schedule":
        from rltui.export.schedule import export_schedule

        return Exported(folder, [export_schedule(ostudy, study, folder, trial)])
    if fmt == "tune":
        from rltui.export.tune import export_tune

        return Exported(folder, export_tune(ostudy, study, storage_url, folder))
    from rltui.export.csv_files import export_csv

    return Exported(folder, export_csv(ostudy, study, storage_url, folder))
