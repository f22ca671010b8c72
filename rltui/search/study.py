"""Creating and joining studies, and the versions of their study file kept in the storage."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.study import StudyDirection

from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.storage import StorageError, mask_url, open_storage, resolve_storage_url
from rltui.spec import Problem, SpecError, StudyFile, incompatible_changes, parse_study
from rltui.spec.changes import refused_changes

optuna.logging.set_verbosity(optuna.logging.WARNING)


def storage_url_for(study: StudyFile, override: str | None = None) -> str:
    return resolve_storage_url(override or study.spec.storage, study.path)


def create_or_join(study: StudyFile, storage: BaseStorage, *, publish: bool = True) -> optuna.Study:
    """The Optuna study for a study file: created on first use; a changed file becomes a new
    spec version when Optuna can accept it (:class:`SpecError` otherwise), or, without
    ``publish``, is left for the caller to tell (:func:`in_force`): a file edited on disk is
    applied by ``rltui run`` or the window's preview, never by a worker or a look at the study.

    A study with several objectives is created with one direction each and its objectives'
    names as Optuna's metric names, which optuna-dashboard and the trial table show."""
    spec = study.spec
    ostudy = optuna.create_study(
        storage=storage,
        study_name=spec.name,
        directions=[StudyDirection[d.upper()] for d in spec.directions],
        load_if_exists=True,
    )
    wanted = [StudyDirection[d.upper()] for d in spec.directions]
    if list(ostudy.directions) != wanted:
        held = ", ".join(d.name.lower() for d in ostudy.directions)
        raise SpecError(
            [
                Problem(
                    ("direction",),
                    f"the study in the storage already optimises towards [{held}]",
                    "use another 'name' for a new study",
                )
            ],
            str(study.path) if study.path else None,
        )
    labels = [o.label for o in spec.objectives]
    if spec.multi_objective and ostudy.metric_names != labels:
        with warnings.catch_warnings():  # experimental in Optuna 5, stable in its storage
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            ostudy.set_metric_names(labels)
    if publish or not spec_version(ostudy):
        publish_spec(ostudy, study)
    return ostudy


def spec_version(ostudy: optuna.Study) -> int:
    return int(
        storage_of(ostudy).get_study_system_attrs(study_id_of(ostudy)).get(attrs.SPEC_VERSION, 0)
    )


def stored_spec(storage: BaseStorage, study_id: int, version: int | None = None) -> StudyFile:
    """The study file stored as ``version`` (latest when None)."""
    system = storage.get_study_system_attrs(study_id)
    version = version or int(system.get(attrs.SPEC_VERSION, 0))
    record = system.get(attrs.spec_key(version))
    if not record:
        raise StorageError("this study has no rltui study file stored: start it from a study file")
    path = record.get("path")
    study = parse_study(record["text"], path, check_env=False)
    return StudyFile(
        study.spec, study.space, study.text, Path(path) if path else None, study.warnings
    )


def shareable_text(study: StudyFile) -> str:
    """The study file's text as stored for every host to read: a password in its storage
    URL is masked (workers elsewhere are given the URL on their own command line)."""
    url = study.spec.storage
    if not url or mask_url(url) == url:
        return study.text
    return study.text.replace(url, mask_url(url))


def publish_spec(ostudy: optuna.Study, study: StudyFile) -> int:
    """Store ``study`` as the next spec version unless it equals the latest; returns the
    version in force. Raises :class:`SpecError` for edits Optuna would refuse."""
    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    text = shareable_text(study)
    current = spec_version(ostudy)
    if current:
        latest = stored_spec(storage, study_id, current)
        if latest.text == text:
            return current
        problems = incompatible_changes(latest.space, study.space, study.spec.name)
        problems += refused_changes(latest, study)
        if problems:
            raise SpecError(problems, str(study.path) if study.path else None)
    version = current + 1
    record = {
        "text": text,
        "path": str(study.path) if study.path else None,
        "created": time.time(),
    }
    storage.set_study_system_attr(study_id, attrs.spec_key(version), record)
    storage.set_study_system_attr(study_id, attrs.SPEC_VERSION, version)
    enqueue_planned(ostudy, study)
    return version


def planned_trials(ostudy: optuna.Study, study: StudyFile) -> list[tuple[str, dict[str, Any]]]:
    """The hand-picked trials and grid points that publishing ``study`` would enqueue now:
    (a key that names each once, its parameters). Reads only."""
    system = storage_of(ostudy).get_study_system_attrs(study_id_of(ostudy))
    done = set(system.get(attrs.ENQUEUED_VERSIONS, []))
    points = study.space.grid_points()
    passes = study.budget(system.get(attrs.BUDGET)) // len(points) if points else 0
    wanted: list[tuple[str, dict[str, Any]]] = []
    for index in range(passes):
        for point in points:
            key = json.dumps(point, sort_keys=True, default=str)
            wanted.append((f"pass {index}: {key}" if index else key, point))
    for params in study.spec.enqueue:
        # A list or mapping choice is held by Optuna as its label.
        key = json.dumps(params, sort_keys=True, default=str)
        wanted.append((key, study.space.optuna_values(params)))
    seen: set[str] = set()
    fresh = []
    for key, params in wanted:
        if key not in done and key not in seen:
            seen.add(key)
            fresh.append((key, params))
    return fresh


def enqueue_planned(ostudy: optuna.Study, study: StudyFile) -> None:
    """Queue the file's hand-picked trials and the grid's passes that the budget in force
    holds, each once however often the file is re-published or the budget raised."""
    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    fresh = planned_trials(ostudy, study)
    if not fresh:
        return
    done = set(storage.get_study_system_attrs(study_id).get(attrs.ENQUEUED_VERSIONS, []))
    for key, params in fresh:
        enqueue(ostudy, params)
        done.add(key)
    storage.set_study_system_attr(study_id, attrs.ENQUEUED_VERSIONS, sorted(done))


def enqueue(
    ostudy: optuna.Study,
    params: dict[str, Any],
    *,
    run_next: bool = False,
    user_attrs: dict[str, Any] | None = None,
) -> int:
    """Queue a hand-picked parameter set and return its trial's number. It runs before any
    sampled trial: at the end of the waiting ones, or with ``run_next`` ahead of every
    enqueued one (the order is :mod:`rltui.search.queue`'s)."""
    from optuna.trial import TrialState, create_trial

    from rltui.search.queue import QUEUE_PRIORITY, front_priority
    from rltui.spec.grammar import coerce_scalar

    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    clean = {k: coerce_scalar(v) if isinstance(v, str) else v for k, v in params.items()}
    # As optuna.Study.enqueue_trial does, with the queue priority set in the same write, so that no
    # worker can see the trial without it.
    system: dict[str, Any] = {"fixed_params": clean}
    if run_next:
        system[QUEUE_PRIORITY] = front_priority(storage, study_id)
    template = create_trial(
        state=TrialState.WAITING, system_attrs=system, user_attrs=user_attrs or None
    )
    trial_id = storage.create_new_trial(study_id, template_trial=template)
    return storage.get_trial_number_from_id(trial_id)


def open_study(
    study: StudyFile, storage_url: str | None = None, *, publish: bool = True
) -> tuple[optuna.Study, str]:
    url = storage_url_for(study, storage_url)
    return create_or_join(study, open_storage(url), publish=publish), url


def in_force(ostudy: optuna.Study, study: StudyFile) -> tuple[StudyFile, int | None]:
    """The study file the study runs with, as this host reads ``study`` (its path), and the
    version in force when ``study`` differs from it (None when they are the same)."""
    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    system = storage.get_study_system_attrs(study_id)
    version = int(system.get(attrs.SPEC_VERSION, 0))
    record = system.get(attrs.spec_key(version)) or {}
    if record.get("text") == shareable_text(study):
        return study, None  # the usual case: nothing parsed again
    return replace(stored_spec(storage, study_id, version), path=study.path), version


def join_by_name(storage_url: str, name: str) -> tuple[optuna.Study, StudyFile]:
    """Join an existing study by name, reading its study file from the storage; a storage
    that does not exist is an error, never created."""
    storage = open_storage(storage_url, create=False)
    try:
        ostudy = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        from rltui.search.storage import study_names
        from rltui.spec.problems import did_you_mean

        names = study_names(storage)
        guess = did_you_mean(name, names)
        hint = (
            f"did you mean '{guess}'?"
            if guess
            else (
                f"studies there: {', '.join(names)}" if names else "the storage has no studies yet"
            )
        )
        raise StorageError(f"no study named '{name}' in this storage ({hint})") from None
    return ostudy, stored_spec(storage, study_id_of(ostudy))


def spec_history(ostudy: optuna.Study) -> list[tuple[int, float | None, str]]:
    """Every stored version of the study file, oldest first: (version, created, text)."""
    system = storage_of(ostudy).get_study_system_attrs(study_id_of(ostudy))
    history = []
    for version in range(1, int(system.get(attrs.SPEC_VERSION, 0)) + 1):
        record = system.get(attrs.spec_key(version))
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            history.append((version, record.get("created"), record["text"]))
    return history


class SpecVersions:
    """The study file each trial ran with (its objective may have changed since), read once
    per version; the study file in hand when a version cannot be read."""

    def __init__(self, ostudy: optuna.Study, fallback: StudyFile) -> None:
        self._ostudy = ostudy
        self._fallback = fallback
        self._read: dict[int, StudyFile] = {}

    def of(self, version: int | None) -> StudyFile:
        """The study file stored as ``version``; the fallback for None, 0 or an unreadable one."""
        if not version:
            return self._fallback
        if version not in self._read:
            try:
                self._read[version] = stored_spec(
                    storage_of(self._ostudy), study_id_of(self._ostudy), version
                )
            except (StorageError, SpecError):
                self._read[version] = self._fallback
        return self._read[version]


def open_to_read(study: StudyFile, storage_url: str | None = None) -> tuple[optuna.Study, str]:
    """The Optuna study of a study file and its storage URL, opened to read only: no lock is
    taken, and nothing is created or published (for a study that cannot be written). Raises
    :class:`StorageError` when the storage or the study in it is not there."""
    url = storage_url_for(study, storage_url)
    storage = open_storage(url, create=False, read_only=True)
    try:
        return optuna.load_study(study_name=study.spec.name, storage=storage), url
    except KeyError:
        raise StorageError(
            f"no study named '{study.spec.name}' in {mask_url(url)}",
            "start it with `rltui run STUDY_FILE` where its storage can be written",
        ) from None
