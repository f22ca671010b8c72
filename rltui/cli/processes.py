"""The commands that start processes: the window (``ui``), a headless run with local workers
(``run``), and one worker (``worker``)."""

from __future__ import annotations

import argparse
import os
import sys
import uuid

from rltui.cli.output import wants_json
from rltui.cli.studies import open_target
from rltui.search.optuna_internals import storage_of


def cmd_ui(args: argparse.Namespace) -> int:
    if args.study_file is None and args.storage and args.study:
        # Nothing to show but that study: one that cannot be opened (a mistyped name, a
        # storage that is not there) is reported here, with its did-you-mean, before the
        # window is drawn for nothing. (With a study file the UI opens anyway, to fix it in.)
        open_target(args)
    from rltui.ui.services import memory

    # From here until the study shows, everything made lives on: no collection walks it
    # while the window starts (rltui.ui.services.memory).
    memory.pause()
    try:
        from rltui.ui.app import run_ui

        return run_ui(args.study_file, args.storage, args.study)
    finally:
        memory.resume()


def cmd_run(args: argparse.Namespace) -> int:
    ostudy, study, url = open_target(args, publish=True)  # running a file applies it
    from rltui.headless import run_headless
    from rltui.launch.placement import GpuChoice, PlacementError

    workers = args.workers or study.spec.workers
    try:
        gpus = GpuChoice.of_study(study.spec, args.gpus, args.workers_per_gpu)
    except PlacementError as exc:
        return _refuse_run(args, f"--gpus: {exc}")
    return run_headless(
        study, ostudy, url, workers, args.trials, as_json=wants_json(args), gpus=gpus
    )


def _refuse_run(args: argparse.Namespace, message: str) -> int:
    from rltui.cli.output import fail

    print(f"rltui run: {message}", file=sys.stderr)
    fail(args, f"rltui run: {message}")
    return 1


def cmd_worker(args: argparse.Namespace) -> int:
    if args.storage_from_env:
        from rltui.launch.local import STORAGE_ENV

        args.storage = os.environ.get(STORAGE_ENV) or args.storage
    ostudy, study, url = open_target(args)  # bad input fails here, before torch loads
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
