"""How every command reads a study: a study file checked as ``validate`` checks it, or a study
joined by name in a storage (``--storage URL --study NAME``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the commands import what they need when they run: `rltui -h` stays quick
    import optuna

    from rltui.search.storage import StorageError
    from rltui.spec import Problem, SpecError, StudyFile


def check_file(path: Path, *, check_storage: bool = True) -> tuple[StudyFile | None, list[Problem]]:
    """Read and check a study file: the one way every command reads one, so that ``run`` and
    ``worker`` refuse exactly what ``validate`` reports. Returns the study (None when it has
    errors) and every problem, located at its line. Opens and creates nothing.

    Beyond the file's own checks, Optuna builds the sampler and pruner, and the ``storage``
    URL's scheme and driver are checked (``check_storage=False`` when ``--storage`` replaces
    it).
    """
    from rltui.search.sampling import check_sampler_and_pruner
    from rltui.search.storage import StorageError, check_storage_url
    from rltui.spec import Problem, StudyFile, check_text
    from rltui.spec.reading import new_file_hint, read_study, why_unreadable
    from rltui.spec.source import parse_yaml

    try:
        text = read_study(path)  # reads no more than the size limit: any file can be named
    except FileNotFoundError:
        return None, [Problem((), "no such study file", new_file_hint(path))]
    except UnicodeDecodeError as exc:
        message = f"cannot read the study file: {why_unreadable(exc)}"
        return None, [Problem((), message, "save it as UTF-8")]
    except OSError as exc:
        return None, [Problem((), f"cannot read the study file: {why_unreadable(exc)}")]
    study, problems = check_text(text, str(path))
    if study is None:
        return None, problems
    more = check_sampler_and_pruner(study)
    if check_storage and study.spec.storage:
        try:
            check_storage_url(study.spec.storage)
        except StorageError as exc:
            more.append(_storage_problem(exc))
    if more:
        source = parse_yaml(text)
        more = [source.place(p) for p in more]
        problems = sorted(problems + more, key=lambda p: (p.line or 0, p.column or 0))
        if any(p.severity == "error" for p in more):
            return None, problems
    return StudyFile(study.spec, study.space, text, path.resolve(), study.warnings), problems


def _storage_problem(exc: StorageError) -> Problem:
    from rltui.spec import Problem

    return Problem(("storage",), exc.message, exc.hint)


def load(path: Path, *, check_storage: bool) -> StudyFile:
    """The checked study of ``path``; raises :class:`SpecError` with its errors."""
    from rltui.spec import SpecError

    study, problems = check_file(path, check_storage=check_storage)
    if study is None:
        raise SpecError([p for p in problems if p.severity == "error"], str(path))
    return study


def located(path: Path, study: StudyFile, exc: StorageError) -> SpecError:
    """A storage error as a problem of the study file's ``storage`` key (file:line:col)."""
    from rltui.spec import SpecError
    from rltui.spec.source import parse_yaml

    return SpecError([parse_yaml(study.text).place(_storage_problem(exc))], str(path))


def open_target(
    args: argparse.Namespace, *, publish: bool = False
) -> tuple[optuna.Study, StudyFile, str]:
    """Resolve the study from a file or from --storage/--study.

    A study file creates its study on first use. Into a study that exists, only ``publish``
    (``rltui run``, ``rltui launch``) stores the file as the next version; the other commands
    work with the version in force, and say so on stderr when the file differs from it.
    Joining by name creates nothing: a journal or SQLite file that is not there is an error
    (a typo would otherwise leave an empty storage behind)."""
    from rltui.search.storage import StorageError, require_existing, resolve_storage_url
    from rltui.search.study import in_force, join_by_name, open_study

    if args.study_file is not None:
        study = load(args.study_file, check_storage=args.storage is None)
        try:
            ostudy, url = open_study(study, args.storage, publish=publish)
        except StorageError as exc:
            if args.storage is None and study.spec.storage:  # the file named this storage
                raise located(args.study_file, study, exc) from None
            raise
        study, version = in_force(ostudy, study)
        if version is not None:
            print(
                f"rltui: {args.study_file} differs from the study's version in force (v{version}),"
                f" which this command uses; `rltui run {args.study_file}`, or ctrl+s in the "
                "window's editor, applies the file",
                file=sys.stderr,
            )
        return ostudy, study, url
    if not (args.storage and args.study):
        raise StorageError("give a study file, or both --storage URL and --study NAME")
    url = resolve_storage_url(args.storage, None)
    require_existing(url)
    ostudy, study = join_by_name(url, args.study)
    return ostudy, study, url
