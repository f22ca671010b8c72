"""``rltui export``: a study's results in the formats other tools read.

``csv`` (:mod:`rltui.export.csv_files`): ``trials.csv`` and each trial's ``progress.csv``.
``tune`` (:mod:`rltui.export.tune`): a Ray Tune experiment folder, RLlib's result names.
The trial logs, folders, seed spreads and study file versions come from the search layer,
which the UI reads them through as well; these modules only write files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

    from rltui.spec import StudyFile

FORMATS = ("csv", "tune")


def default_out(study: StudyFile) -> Path:
    """``STUDY.rltui/export`` beside the study file, or ``./NAME-export`` without a file."""
    from rltui.search.storage import StudyHome

    # A study read from a shared storage carries the path of the host that created it.
    if study.path is not None and study.path.exists():
        return StudyHome.beside(study.path).root / "export"
    return Path.cwd() / f"{study.spec.name}-export"


def export_study(
    ostudy: optuna.Study, study: StudyFile, storage_url: str, out: Path | None, fmt: str
) -> Path:
    """Write the study's results in format ``fmt`` under ``out`` (default: :func:`default_out`);
    returns the folder. An unknown format raises ``ValueError``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}' (known: {', '.join(FORMATS)})")
    folder = Path(out) if out is not None else default_out(study)
    if fmt == "tune":
        from rltui.export.tune import export_tune

        return export_tune(ostudy, study, storage_url, folder)
    from rltui.export.csv_files import export_csv

    return export_csv(ostudy, study, storage_url, folder)
