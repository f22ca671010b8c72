"""The folder a study's workers write into, and the files they write there.

A worker writes each trial's training log to ``trials/trial-N/progress.jsonl`` (and, with
``train.tensorboard``, as TensorBoard event files in ``trials/trial-N/tensorboard/``) and its own
output to ``logs/worker-ID.log`` under the study's home (:class:`StudyHome`). The UI, ``rltui
export``, the launchers and ``rltui worker`` name those files here, once for all of them.
Plain paths: importing this module loads neither Optuna nor anything heavier.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rltui.search.storage import StudyHome
    from rltui.spec import StudyFile

PROGRESS_LOG = "progress.jsonl"
TENSORBOARD = "tensorboard"


def study_home(study: StudyFile, storage_url: str, study_file: Path | None) -> StudyHome:
    """Where the workers of ``study`` keep checkpoints, trial logs and worker logs.

    ``control.checkpoint_dir``/NAME when the study file sets it; else beside ``study_file``
    (a study file on this host); else beside the journal of ``storage_url``; else
    ``./NAME.rltui``. Creates nothing.
    """
    # storage loads Optuna: only when a home is looked up, not when the UI paints first.
    from rltui.search.storage import StudyHome, journal_path

    folder = study.spec.control.checkpoint_dir
    if folder:
        return StudyHome(Path(folder).expanduser() / study.spec.name)
    if study_file is not None:
        return StudyHome.beside(study_file)
    journal = journal_path(storage_url)
    if journal is not None:
        return StudyHome(journal.parent)
    return StudyHome(Path.cwd() / f"{study.spec.name}.rltui")


def trial_folder(trials: Path, number: int) -> Path:
    """Trial ``number``'s folder in a study home's ``trials`` folder."""
    return trials / f"trial-{number}"


def progress_log(trials: Path, number: int) -> Path:
    """Trial ``number``'s training log (``trial-N/progress.jsonl``) in a ``trials`` folder."""
    return trial_folder(trials, number) / PROGRESS_LOG


def tensorboard_dir(trials: Path, number: int) -> Path:
    """Trial ``number``'s TensorBoard folder (``trial-N/tensorboard``): one run, which a
    resumed trial continues."""
    return trial_folder(trials, number) / TENSORBOARD


def worker_log(logs: Path, worker_id: str) -> Path:
    """The log file of worker ``worker_id`` in a study home's ``logs`` folder."""
    return logs / f"worker-{worker_id}.log"
