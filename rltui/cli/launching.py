"""``rltui launch``: start a study's workers where its ``launcher`` block says (SSH hosts, or a
Slurm array job), and drain a Slurm job (``--cancel JOBID``).

The study is published to its storage first, as ``rltui run`` does; the workers then join it
by storage URL and name, so the storage must be one they reach: PostgreSQL, or a journal file
on a folder every host shares at the same path. The command says so when the storage is a
local journal file. Local workers: ``rltui run`` or the window's ``w``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rltui.cli.output import add_json_flag, emit, fail, wants_json
from rltui.spec.wording import counted


def add_launch_parser(sub: Any, complete_as: Any, positive_int: Any) -> None:
    """The ``launch`` command."""
    parser = sub.add_parser(
        "launch",
        help="start workers on SSH hosts or as a Slurm array job, as the study's launcher says",
        description="Start a study's workers where its 'launcher' block says: on SSH hosts "
        "(type: ssh) or as a Slurm array job (type: slurm). The workers join the study through "
        "its storage. --cancel JOBID drains a Slurm job: each worker pauses its trial and "
        "leaves.",
    )
    complete_as(
        parser.add_argument("study_file", nargs="?", type=Path, help="the study YAML file"),
        "study",
    )
    complete_as(
        parser.add_argument(
            "--storage", help="Optuna storage URL the workers reach (default: the study's)"
        ),
        "file",
    )
    parser.add_argument(
        "--workers", type=positive_int, help="how many (default: the study's 'workers')"
    )
    parser.add_argument("--cancel", metavar="JOBID", help="drain Slurm job JOBID")
    parser.add_argument(
        "--force", action="store_true", help="with --cancel: cancel at once, as scancel does"
    )
    add_json_flag(parser, "print what was started (hosts and pids, or the job id) as JSON")


def _refuse(args: argparse.Namespace, message: str) -> int:
    line = f"rltui launch: {message}"
    print(line, file=sys.stderr)
    fail(args, line)
    return 1


def cmd_launch(args: argparse.Namespace) -> int:
    from rltui.launch.slurm import SlurmLauncher
    from rltui.launch.ssh import LaunchError

    if args.cancel is not None:
        if not args.cancel.isdigit():
            return _refuse(args, f"--cancel '{args.cancel}' is not a Slurm job id (a number)")
        try:
            SlurmLauncher("", "").cancel(_job(args.cancel), force=args.force)
        except LaunchError as exc:
            return _refuse(args, str(exc))
        done = "cancelled" if args.force else "draining: each worker pauses its trial and leaves"
        print(f"job {args.cancel} {done}")
        return 0
    if args.study_file is None:
        return _refuse(args, "give the study file whose launcher block says where to start")
    from rltui.cli.studies import open_target

    args.study = None
    _, study, url = open_target(args, publish=True)  # applies the file, as rltui run does
    spec = study.spec
    launcher = spec.launcher
    count = args.workers or spec.workers
    if launcher.type == "local":
        return _refuse(
            args,
            "the study's launcher is local: start workers with `rltui run` or `w` in the "
            "window, or set launcher: {type: ssh, hosts: [...]} or {type: slurm} in the file",
        )
    if url.startswith("journal:"):
        print(
            f"note: the workers reach the storage at {url}: a journal file must be on a folder "
            "every host shares at that path (else give --storage postgresql://...)",
            file=sys.stderr,
        )
    from rltui.launch.remote import launcher_of
    from rltui.launch.ssh import SshLauncher

    remote = launcher_of(spec, url, spec.name)
    try:
        if isinstance(remote, SshLauncher):
            return _ssh(args, remote, count)
        return _slurm(args, remote, count)
    except LaunchError as exc:
        return _refuse(args, str(exc))


def _ssh(args: argparse.Namespace, ssh: Any, count: int) -> int:
    started = ssh.start(count)
    if wants_json(args):
        workers = [
            {"worker": w.worker_id, "host": w.host, "pid": w.pid, "log": w.log} for w in started
        ]
        emit({"ok": True, "launcher": "ssh", "workers": workers})
        return 0
    for worker in started:
        print(f"worker {worker.worker_id} on {worker.host} (pid {worker.pid}), log {worker.log}")
    return 0


def _slurm(args: argparse.Namespace, slurm: Any, count: int) -> int:
    job = slurm.submit(count)
    if wants_json(args):
        emit({"ok": True, "launcher": "slurm", "job": job.job_id, "workers": job.tasks})
        return 0
    print(
        f"job {job.job_id}: {counted(job.tasks, 'worker')}, logs in {job.log_dir}; "
        f"`rltui launch --cancel {job.job_id}` drains them"
    )
    return 0


def _job(job_id: str) -> Any:
    from rltui.launch.slurm import SlurmJob

    return SlurmJob(job_id, 0, Path("."))
