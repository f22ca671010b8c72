"""The commands that check or act on a study and say what they did: ``validate``, ``export``
and ``ctl``; each prints lines, or with ``--json`` one document (:mod:`rltui.cli.output`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rltui.cli.output import emit, fail, problem_doc, say, wants_json
from rltui.cli.studies import check_file, load, open_target
from rltui.search.lifecycle import ControlAction
from rltui.spec.wording import counted

STUDY_ACTIONS = ("drain", "undrain", "pause-all", "resume-all")
CTL_ACTIONS = (*(a.value for a in ControlAction), *STUDY_ACTIONS)


def cmd_validate(args: argparse.Namespace) -> int:
    path: Path = args.study_file
    study, problems = check_file(path)
    errors = [p for p in problems if p.severity == "error"]
    if wants_json(args):
        emit(
            {
                "ok": not errors,
                "file": str(path),
                "study": study.spec.name if study else None,
                "n_trials": study.n_trials if study else None,
                "searched": sorted(study.space.distributions) if study else [],
                "problems": [problem_doc(p) for p in problems],
            }
        )
        return 1 if errors else 0
    for problem in problems:
        print(
            problem.format(str(path)),
            file=sys.stderr if problem.severity == "error" else sys.stdout,
        )
    if errors:
        print(counted(len(errors), "problem"), file=sys.stderr)
        return 1
    assert study is not None
    print(
        f"{path}: ok — study '{study.spec.name}', {counted(study.n_trials, 'trial')}, "
        f"{counted(len(study.space.distributions), 'searched parameter')}"
    )
    return 0


def cmd_ctl(args: argparse.Namespace) -> int:
    from rltui.search.control import ControlError, Controller
    from rltui.search.folders import study_home

    ostudy, study, url = open_target(args)
    controller = Controller(ostudy, study_home(study, url, study.path).checkpoints)
    doc: dict[str, Any] = {"ok": True, "action": args.action, "study": ostudy.study_name}
    done: list[dict[str, Any]] = []
    if args.action in ("drain", "undrain"):
        controller.set_drain(args.action == "drain")
        doc["draining"] = args.action == "drain"
        say(
            args,
            "study draining: workers finish their trials and take no new ones"
            if args.action == "drain"
            else "drain lifted",
        )
    elif args.action in ("pause-all", "resume-all"):
        if args.action == "pause-all":
            acted = controller.pause_all()
            say(args, f"{counted(len(acted), 'trial')} asked to pause")
        else:
            acted = controller.resume_all()
            say(args, f"{counted(len(acted), 'trial')} queued to resume")
        done = [{"number": n, "ok": True, "message": m} for n, m in acted.items()]
    elif not args.trials:
        message = f"rltui ctl {args.action}: name at least one trial number"
        print(message, file=sys.stderr)
        fail(args, message)
        return 1
    else:
        # Each number on its own: one that cannot be acted on must not skip the others.
        for number in args.trials:
            try:
                result = controller.request(number, args.action)
            except ControlError as exc:
                print(f"rltui ctl {args.action}: {exc}", file=sys.stderr)
                done.append({"number": number, "ok": False, "message": str(exc)})
                continue
            say(args, result)
            done.append({"number": number, "ok": True, "message": result})
    doc["trials"] = done
    doc["ok"] = all(entry["ok"] for entry in done)
    if wants_json(args):
        emit(doc)
    return 0 if doc["ok"] else 1


def cmd_export(args: argparse.Namespace) -> int:
    from rltui.export import export_study
    from rltui.search.journal import JournalWriteError
    from rltui.search.study import open_to_read

    try:
        ostudy, study, url = open_target(args)
    except JournalWriteError:
        if args.study_file is None:
            raise
        # A study that cannot be written (a read-only disk, a full one) is read as it is:
        # the file is not published and no study is created.
        study = load(args.study_file, check_storage=args.storage is None)
        ostudy, url = open_to_read(study, args.storage)
    from rltui.convert import ConversionError

    try:
        done = export_study(ostudy, study, url, args.out, args.format, args.trial)
    except ConversionError as exc:
        message = f"rltui export: {exc}"
        print(message, file=sys.stderr)
        fail(args, message)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        code = f" (Errno {exc.errno})" if exc.errno else ""
        message = (
            f"rltui: cannot write the export: {where}{exc.strerror or exc}{code}; "
            "pass --out FOLDER on a disk that can be written"
        )
        print(message, file=sys.stderr)
        fail(args, message)
        return 1
    for note in done.notes:
        print(note, file=sys.stderr)
    if not wants_json(args):
        one = args.format in ("zoo", "schedule")
        print(f"wrote {done.files[0] if one else done.folder}")
        return 0
    emit(
        {
            "ok": True,
            "study": study.spec.name,
            "format": args.format,
            "out": str(done.folder.resolve()),
            "files": sorted(str(p.resolve()) for p in done.files),
            "notes": done.notes,
        }
    )
    return 0
