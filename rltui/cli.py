"""The ``rltui`` command: the UI by default, and ``run``, ``worker``, ``validate``, ``ctl``."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

COMMANDS = ("run", "worker", "validate", "ctl", "export", "ui")


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
    sub = parser.add_subparsers(dest="command")
    ui = sub.add_parser("ui", help="open the terminal UI (the default command)")
    _target(ui)
    run = sub.add_parser("run", help="run a study headless with local workers")
    _target(run, optional_file=False)
    run.add_argument(
        "--workers", type=int, help="worker processes (default: the study's 'workers')"
    )
    run.add_argument(
        "--trials", type=int, help="trial budget of the study (default: its 'n_trials')"
    )
    worker = sub.add_parser("worker", help="run one worker: claim trials until the budget is spent")
    _target(worker)
    worker.add_argument("--device", help="override the study's device (cpu, cuda, cuda:1, ...)")
    worker.add_argument("--max-trials", type=int, help="stop after this many trials")
    worker.add_argument("--worker-id", default=None, help=argparse.SUPPRESS)
    worker.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    validate = sub.add_parser("validate", help="check a study file; exit 1 when it has problems")
    validate.add_argument("study_file", type=Path)
    export = sub.add_parser("export", help="write a study's trials and training logs as CSV")
    _target(export)
    export.add_argument("--format", choices=("csv",), default="csv")
    export.add_argument("--out", type=Path, help="output folder (default: STUDY.rltui/export)")
    ctl = sub.add_parser("ctl", help="control trials: pause, resume, prune, kill, drain, ...")
    ctl.add_argument(
        "action",
        choices=("pause", "resume", "prune", "kill", "drain", "undrain", "pause-all", "resume-all"),
    )
    ctl.add_argument("trials", nargs="*", type=int, help="trial numbers")
    ctl.add_argument("--study-file", type=Path, dest="study_file")
    ctl.add_argument("--storage")
    ctl.add_argument("--study")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "ui")
    args = build_parser().parse_args(argv)
    from rltui.search.control import ControlError
    from rltui.search.storage import StorageError
    from rltui.spec import SpecError

    try:
        return HANDLERS[args.command](args)
    except SpecError as exc:
        print(f"{exc}\n{len(exc.problems)} problem(s); nothing was started.", file=sys.stderr)
        return 1
    except (StorageError, ControlError) as exc:
        print(f"rltui: {exc}", file=sys.stderr)
        return 1


def _open(args: argparse.Namespace):  # -> tuple[optuna.Study, Study, str]
    """Resolve the study from a file or from --storage/--study; publish a file's spec."""
    from rltui.search.storage import StorageError, resolve_storage_url
    from rltui.search.study import join_by_name, open_study
    from rltui.spec import load_study

    if args.study_file is not None:
        study = load_study(args.study_file)
        ostudy, url = open_study(study, args.storage)
        return ostudy, study, url
    if not (args.storage and args.study):
        raise StorageError("give a study file, or both --storage URL and --study NAME")
    url = resolve_storage_url(args.storage, None)
    ostudy, study = join_by_name(url, args.study)
    return ostudy, study, url


def cmd_validate(args: argparse.Namespace) -> int:
    from rltui.search.optimizers import check_optimizers
    from rltui.spec import check_text

    path: Path = args.study_file
    if not path.exists():
        print(f"{path}: no such study file", file=sys.stderr)
        return 1
    study, problems = check_text(path.read_text(encoding="utf-8"), str(path))
    if study is not None:
        problems = problems + check_optimizers(study)
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
    from rltui.headless import run_headless
    from rltui.search.optimizers import check_optimizers
    from rltui.spec import SpecError

    ostudy, study, url = _open(args)
    problems = check_optimizers(study)
    if problems:
        raise SpecError(problems, str(args.study_file))
    workers = args.workers or study.spec.workers
    return run_headless(study, ostudy, url, workers, args.trials)


def cmd_worker(args: argparse.Namespace) -> int:
    import optuna

    from rltui.search.optimizers import make_pruner, make_sampler
    from rltui.worker.loop import Worker

    ostudy, study, url = _open(args)
    ostudy = optuna.load_study(
        study_name=study.spec.name,
        storage=ostudy._storage,
        sampler=make_sampler(study, args.index),
        pruner=make_pruner(study),
    )
    worker_id = args.worker_id or uuid.uuid4().hex[:8]
    return Worker(
        ostudy,
        url,
        worker_id,
        index=args.index,
        device=args.device,
        max_trials=args.max_trials,
        study_file=args.study_file,
    ).run()


def cmd_ctl(args: argparse.Namespace) -> int:
    from rltui.search.control import Controller

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
        for number in args.trials:
            print(controller.request(number, args.action))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from rltui.export import export_study

    ostudy, study, url = _open(args)
    written = export_study(ostudy, study, url, args.out, args.format)
    print(f"wrote {written}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
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
