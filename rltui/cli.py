"""The ``rltui`` command: the UI by default, and ``run``, ``worker``, ``validate``, ``ctl``."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from rltui import __version__
from rltui.search.lifecycle import ControlAction
from rltui.search.optuna_internals import storage_of

if TYPE_CHECKING:  # the commands import what they need when they run: `rltui -h` stays quick
    import optuna

    from rltui.search.storage import StorageError
    from rltui.spec import Problem, SpecError, StudyFile

COMMANDS = ("run", "worker", "validate", "ctl", "export", "ui")
INTERRUPTED = 130  # the shell's code for a command ended by SIGINT (128 + 2)


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a count of workers or trials)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _target(parser: argparse.ArgumentParser, optional_file: bool = True) -> None:
    parser.add_argument(
        "study_file", nargs="?" if optional_file else None, type=Path, help="the study YAML file"
    )
    parser.add_argument(
        "--storage", help="Optuna storage URL (default: the journal beside the study file)"
    )
    parser.add_argument("--study", help="study name, with --storage and no study file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rltui", description="Tune deep-RL agents from the terminal."
    )
    parser.add_argument("--version", action="version", version=f"rltui {__version__}")
    sub = parser.add_subparsers(dest="command")
    ui = sub.add_parser("ui", help="open the terminal UI (the default command)")
    _target(ui)
    run = sub.add_parser("run", help="run a study headless with local workers")
    _target(run, optional_file=False)
    run.add_argument(
        "--workers", type=_positive_int, help="worker processes (default: the study's 'workers')"
    )
    run.add_argument(
        "--trials", type=_positive_int, help="trial budget of the study (default: its 'n_trials')"
    )
    worker = sub.add_parser("worker", help="run one worker: claim trials until the budget is spent")
    _target(worker)
    worker.add_argument("--device", help="override the study's device (cpu, cuda, cuda:1, ...)")
    worker.add_argument("--max-trials", type=_positive_int, help="stop after this many trials")
    worker.add_argument("--worker-id", default=None, help=argparse.SUPPRESS)
    worker.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    # Given by LocalPool when the storage URL holds a password: the URL is in the environment
    # (rltui.launch.local.STORAGE_ENV), where `ps` does not show it.
    worker.add_argument("--storage-from-env", action="store_true", help=argparse.SUPPRESS)
    # Given by LocalPool, which has redirected the worker's output into this file already.
    worker.add_argument("--log", type=Path, default=None, help=argparse.SUPPRESS)
    validate = sub.add_parser("validate", help="check a study file; exit 1 when it has problems")
    validate.add_argument("study_file", type=Path)
    export = sub.add_parser("export", help="write a study's trials and training logs as CSV")
    _target(export)
    export.add_argument("--format", choices=("csv",), default="csv")
    export.add_argument("--out", type=Path, help="output folder (default: STUDY.rltui/export)")
    ctl = sub.add_parser("ctl", help="control trials: pause, resume, prune, kill, drain, ...")
    ctl.add_argument(
        "action",
        choices=(*(a.value for a in ControlAction), "drain", "undrain", "pause-all", "resume-all"),
    )
    ctl.add_argument("trials", nargs="*", type=int, help="trial numbers")
    ctl.add_argument("--study-file", type=Path, dest="study_file")
    ctl.add_argument("--storage")
    ctl.add_argument("--study")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 bad input or failure, 2 usage
    error from argparse, 130 interrupted)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C before a command has set up its own handling (while modules import and the
        # study opens, say) is no error of the program: one line, not a traceback.
        # `rltui run` and `rltui worker` install their own handlers once running.
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "ui")
    args = build_parser().parse_args(argv)
    from rltui.search.control import ControlError
    from rltui.search.journal import JournalWriteError
    from rltui.search.storage import StorageError
    from rltui.spec import SpecError

    try:
        return HANDLERS[args.command](args)
    except SpecError as exc:
        print(f"{exc}\n{len(exc.problems)} problem(s); nothing was started.", file=sys.stderr)
        return 1
    except (StorageError, ControlError, JournalWriteError) as exc:
        print(f"rltui: {exc}", file=sys.stderr)
        return 1


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
    from rltui.spec.source import parse_yaml, read_study

    try:
        text = read_study(path)  # reads no more than the size limit: any file can be named
    except FileNotFoundError:
        return None, [Problem((), "no such study file")]
    except UnicodeDecodeError as exc:
        where = f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
        message = f"cannot read the study file: it is not UTF-8 text ({where})"
        return None, [Problem((), message, "save it as UTF-8")]
    except OSError as exc:
        return None, [Problem((), f"cannot read the study file: {exc.strerror or exc}")]
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


def _load(path: Path, *, check_storage: bool) -> StudyFile:
    """The checked study of ``path``; raises :class:`SpecError` with its errors."""
    from rltui.spec import SpecError

    study, problems = check_file(path, check_storage=check_storage)
    if study is None:
        raise SpecError([p for p in problems if p.severity == "error"], str(path))
    return study


def _located(path: Path, study: StudyFile, exc: StorageError) -> SpecError:
    """A storage error as a problem of the study file's ``storage`` key (file:line:col)."""
    from rltui.spec import SpecError
    from rltui.spec.source import parse_yaml

    return SpecError([parse_yaml(study.text).place(_storage_problem(exc))], str(path))


def _open(args: argparse.Namespace) -> tuple[optuna.Study, StudyFile, str]:
    """Resolve the study from a file or from --storage/--study; publish a file's spec.

    Joining by name creates nothing: a journal or SQLite file that is not there is an error
    (a typo would otherwise leave an empty storage behind)."""
    from rltui.search.storage import StorageError, require_existing, resolve_storage_url
    from rltui.search.study import join_by_name, open_study

    if args.study_file is not None:
        study = _load(args.study_file, check_storage=args.storage is None)
        try:
            ostudy, url = open_study(study, args.storage)
        except StorageError as exc:
            if args.storage is None and study.spec.storage:  # the file named this storage
                raise _located(args.study_file, study, exc) from None
            raise
        return ostudy, study, url
    if not (args.storage and args.study):
        raise StorageError("give a study file, or both --storage URL and --study NAME")
    url = resolve_storage_url(args.storage, None)
    require_existing(url)
    ostudy, study = join_by_name(url, args.study)
    return ostudy, study, url


def cmd_validate(args: argparse.Namespace) -> int:
    path: Path = args.study_file
    study, problems = check_file(path)
    for problem in problems:
        print(
            problem.format(str(path)),
            file=sys.stderr if problem.severity == "error" else sys.stdout,
        )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        print(f"{len(errors)} problem(s)", file=sys.stderr)
        return 1
    assert study is not None
    print(
        f"{path}: ok — study '{study.spec.name}', {study.n_trials} trials, "
        f"{len(study.space.distributions)} searched parameter(s)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    ostudy, study, url = _open(args)
    from rltui.headless import run_headless

    workers = args.workers or study.spec.workers
    return run_headless(study, ostudy, url, workers, args.trials)


def cmd_worker(args: argparse.Namespace) -> int:
    if args.storage_from_env:
        from rltui.launch.local import STORAGE_ENV

        args.storage = os.environ.get(STORAGE_ENV) or args.storage
    ostudy, study, url = _open(args)  # bad input fails here, before torch loads
    import optuna

    from rltui.search.folders import worker_log
    from rltui.search.sampling import make_pruner, make_sampler
    from rltui.search.storage import StudyHome
    from rltui.worker.logfile import LogStream, Tee
    from rltui.worker.loop import DeviceError, Worker

    ostudy = optuna.load_study(
        study_name=study.spec.name,
        storage=storage_of(ostudy),
        sampler=make_sampler(study, args.index),
        pruner=make_pruner(study),
    )
    worker_id = args.worker_id or uuid.uuid4().hex[:8]
    try:
        worker = Worker(
            ostudy,
            url,
            worker_id,
            index=args.index,
            device=args.device,
            max_trials=args.max_trials,
            log=str(args.log) if args.log else None,
            study_file=args.study_file,
        )
    except DeviceError as exc:
        print(f"rltui: {exc}", file=sys.stderr)
        return 1
    if args.log is not None:  # started by LocalPool: the output goes to that file already
        sys.stdout, sys.stderr = LogStream(1), LogStream(2)  # a full disk drops lines, no more
        return worker.run()
    # Started by hand: print to the terminal as before, and copy into a log like the pool's,
    # beside the study file, or else in the folder the worker keeps its checkpoints in.
    # (The folder is known once the worker has read the study's settings, so the log starts
    # with the worker joining; what printed before then stays on the terminal only.)
    folder = StudyHome.beside(args.study_file).logs if args.study_file else worker.home.logs
    tee = Tee(worker_log(folder, worker_id))
    try:
        tee.start()
    except OSError as exc:
        print(
            f"rltui: cannot write the worker log {tee.log}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
    try:
        worker.log = str(tee.log)
        worker.heartbeat.update(log=str(tee.log))  # the UI's log view follows the record
        return worker.run()
    finally:
        tee.stop()


def cmd_ctl(args: argparse.Namespace) -> int:
    from rltui.search.control import ControlError, Controller

    ostudy, _study, _url = _open(args)
    controller = Controller(ostudy)
    if args.action in ("drain", "undrain"):
        controller.set_drain(args.action == "drain")
        print(
            "study draining: workers finish their trials and take no new ones"
            if args.action == "drain"
            else "drain lifted"
        )
    elif args.action == "pause-all":
        print(f"{controller.pause_all()} trial(s) asked to pause")
    elif args.action == "resume-all":
        print(f"{controller.resume_all()} trial(s) queued to resume")
    else:
        if not args.trials:
            print(f"rltui ctl {args.action}: name at least one trial number", file=sys.stderr)
            return 1
        # Each number on its own: one that cannot be acted on must not skip the others.
        failed = 0
        for number in args.trials:
            try:
                print(controller.request(number, args.action))
            except ControlError as exc:
                print(f"rltui ctl {args.action}: {exc}", file=sys.stderr)
                failed += 1
        return 1 if failed else 0
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from rltui.export import export_study
    from rltui.search.journal import JournalWriteError
    from rltui.search.study import open_to_read

    try:
        ostudy, study, url = _open(args)
    except JournalWriteError:
        if args.study_file is None:
            raise
        # A study that cannot be written (a read-only disk, a full one) is read as it is:
        # the file is not published and no study is created.
        study = _load(args.study_file, check_storage=args.storage is None)
        ostudy, url = open_to_read(study, args.storage)
    try:
        written = export_study(ostudy, study, url, args.out, args.format)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        code = f" (Errno {exc.errno})" if exc.errno else ""
        print(
            f"rltui: cannot write the export: {where}{exc.strerror or exc}{code}; "
            "pass --out FOLDER on a disk that can be written",
            file=sys.stderr,
        )
        return 1
    print(f"wrote {written}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    if args.study_file is None and args.storage and args.study:
        # Nothing to show but that study: one that cannot be opened (a mistyped name, a
        # storage that is not there) is reported here, with its did-you-mean, before the
        # window is drawn for nothing. (With a study file the UI opens anyway, to fix it in.)
        _open(args)
    from rltui.ui.app import run_ui

    return run_ui(args.study_file, args.storage, args.study)


HANDLERS = {
    "export": cmd_export,
    "run": cmd_run,
    "worker": cmd_worker,
    "validate": cmd_validate,
    "ctl": cmd_ctl,
    "ui": cmd_ui,
}
