"""The ``rltui`` command: the UI by default, and ``run``, ``worker``, ``validate``, ``export``,
``ctl``, ``import``, ``plot`` and ``completion``.

A command is a subparser added in :func:`build_parser` and a handler in :data:`HANDLERS`.
The handlers live beside this module by kind: :mod:`rltui.cli.processes` (ui, run, worker)
and :mod:`rltui.cli.study_commands` (validate, export, ctl), :mod:`rltui.cli.conversions`
(import), :mod:`rltui.cli.plot` (plot), and read studies through
:mod:`rltui.cli.studies`. Shell completion is written from this parser
(:mod:`rltui.completion`), so a new command or option completes without more work.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

from rltui import __version__
from rltui.cli.conversions import add_import_parser, cmd_import
from rltui.cli.launching import add_launch_parser, cmd_launch
from rltui.cli.notes import add_parser as add_note_parser
from rltui.cli.notes import cmd_note
from rltui.cli.output import add_json_flag, fail
from rltui.cli.plot import add_plot_parser, cmd_plot
from rltui.cli.processes import cmd_run, cmd_ui, cmd_worker
from rltui.cli.studies import check_file
from rltui.cli.study_commands import CTL_ACTIONS, cmd_ctl, cmd_export, cmd_validate
from rltui.completion import SHELLS, complete_as, script
from rltui.export import FORMATS as EXPORT_FORMATS
from rltui.spec.wording import counted

__all__ = ["COMMANDS", "HANDLERS", "build_parser", "check_file", "main"]

INTERRUPTED = 130  # the shell's code for a command ended by SIGINT (128 + 2)

RUN_JSON_HELP = (
    "print the summary (best trial, its parameters and hyperparameters, trials by state, "
    "wall time) as one JSON document on stdout; the live table or the event lines go to "
    "stderr"
)
COMPLETION_HELP = """\
Print a completion script for the shell named; load it with
  bash:  eval "$(rltui completion bash)"   (in ~/.bashrc)
  zsh:   rltui completion zsh > ~/.zfunc/_rltui   (with ~/.zfunc in $fpath, before compinit)
  fish:  rltui completion fish > ~/.config/fish/completions/rltui.fish"""


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a count of workers or trials)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _study_file(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    nargs = "?" if optional else None
    action = parser.add_argument("study_file", nargs=nargs, type=Path, help="the study YAML file")
    complete_as(action, "study")


def _target(parser: argparse.ArgumentParser, optional_file: bool = True) -> None:
    _study_file(parser, optional=optional_file)
    complete_as(
        parser.add_argument(
            "--storage", help="Optuna storage URL (default: the journal beside the study file)"
        ),
        "file",
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
    run = sub.add_parser(
        "run",
        help="run a study headless with local workers",
        description="Run a study headless with local workers. On a terminal it shows a live "
        "table of the trials; piped or redirected (nohup, a file) it prints one line per "
        "event, with its time, as it happens. A summary follows at the end.",
    )
    _target(run, optional_file=False)
    run.add_argument(
        "--workers", type=_positive_int, help="worker processes (default: the study's 'workers')"
    )
    run.add_argument(
        "--trials", type=_positive_int, help="trial budget of the study (default: its 'n_trials')"
    )
    run.add_argument(
        "--gpus",
        metavar="all|none|0,2",
        help="the GPUs to spread the workers over (default: the study's 'gpus', else all)",
    )
    run.add_argument(
        "--workers-per-gpu",
        type=_positive_int,
        metavar="N",
        help="at most N workers on one GPU (default: the study's 'workers_per_gpu', else no limit)",
    )
    add_json_flag(run, RUN_JSON_HELP)
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
    _study_file(validate)
    add_json_flag(
        validate, "print the problems (line, column, key, message, hint) as one JSON document"
    )
    export = sub.add_parser(
        "export", help="write a study's trials and training logs (CSV, or for other tools)"
    )
    _target(export)
    export.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default="csv",
        help="csv (default); tune: a Ray Tune experiment folder; zoo: an rl-baselines3-zoo "
        "hyperparams file of one trial; schedule: the hyperparameter schedule that trained a "
        "PBT member",
    )
    export.add_argument(
        "--trial",
        type=int,
        help="the trial of a zoo export, or the last segment of a schedule (default: the best)",
    )
    complete_as(
        export.add_argument("--out", type=Path, help="output folder (default: STUDY.rltui/export)"),
        "folder",
    )
    add_json_flag(export, "print what was written where as one JSON document")
    ctl = sub.add_parser("ctl", help="control trials: pause, resume, prune, kill, drain, ...")
    ctl.add_argument("action", choices=CTL_ACTIONS)
    ctl.add_argument("trials", nargs="*", type=int, help="trial numbers")
    complete_as(ctl.add_argument("--study-file", type=Path, dest="study_file"), "study")
    complete_as(ctl.add_argument("--storage"), "file")
    ctl.add_argument("--study")
    add_json_flag(ctl, "print what was done to which trials as one JSON document")
    add_import_parser(sub, complete_as)
    add_plot_parser(sub, complete_as)
    add_note_parser(sub)
    add_launch_parser(sub, complete_as, _positive_int)
    completion = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh, fish)",
        description=COMPLETION_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    completion.add_argument("shell", choices=SHELLS)
    return parser


def cmd_completion(args: argparse.Namespace) -> int:
    sys.stdout.write(script(args.shell, build_parser(), default="ui"))
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ui": cmd_ui,
    "run": cmd_run,
    "worker": cmd_worker,
    "validate": cmd_validate,
    "export": cmd_export,
    "ctl": cmd_ctl,
    "import": cmd_import,
    "plot": cmd_plot,
    "note": cmd_note,
    "launch": cmd_launch,
    "completion": cmd_completion,
}
COMMANDS = tuple(HANDLERS)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 bad input or failure, 2 usage
    error from argparse, 130 interrupted)."""
    try:
        code = _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C before a command has set up its own handling (while modules import and the
        # study opens, say) is no error of the program: one line, not a traceback.
        # `rltui run` and `rltui worker` install their own handlers once running.
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    if argv is None and sys.argv[1:2] == ["worker"]:
        end_worker_process(code)
    return code


def end_worker_process(code: int) -> None:
    """End a worker process now that it has left its study.

    Everything it writes is written by then: each storage write is complete when it returns,
    its trials closed their envs, its heartbeat wrote the record of its leaving. What is
    left is the interpreter's teardown of torch and the modules training loaded: about a
    second, which ``rltui run`` would wait for before it reports the study's end."""
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken stream has nothing to flush
            stream.flush()
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "ui")
    args = build_parser().parse_args(argv)
    # Not from the modules that raise them, which import Optuna: the window's first frame
    # would wait for it.
    from rltui.search.errors import ControlError, JournalWriteError, StorageError
    from rltui.spec import SpecError

    try:
        return HANDLERS[args.command](args)
    except SpecError as exc:
        print(
            f"{exc}\n{counted(len(exc.problems), 'problem')}; nothing was started.", file=sys.stderr
        )
        fail(
            args,
            f"{counted(len(exc.problems), 'problem')} in the study file",
            exc.problems,
            exc.filename,
        )
        return 1
    except (StorageError, ControlError, JournalWriteError) as exc:
        print(f"rltui: {exc}", file=sys.stderr)
        fail(args, str(exc))
        return 1
