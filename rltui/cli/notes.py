"""``rltui note``: print or set a study's note or a trial's, the notes optuna-dashboard shows.

``rltui note STUDY_FILE [--trial N] [--print | --set TEXT | --file F]`` (or ``--storage URL
--study NAME`` for a study with no file at hand). ``--file -`` reads the text from stdin.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rltui.cli.output import add_json_flag, emit, fail, wants_json
from rltui.completion import complete_as

HELP = "print or set the study's note or a trial's (optuna-dashboard shows the same notes)"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``note`` to the ``rltui`` command's subparsers."""
    note = subparsers.add_parser("note", help=HELP, description=HELP + ".")
    complete_as(
        note.add_argument("study_file", nargs="?", type=Path, help="the study YAML file"), "study"
    )
    complete_as(
        note.add_argument(
            "--storage", help="Optuna storage URL (default: the journal beside the study file)"
        ),
        "file",
    )
    note.add_argument("--study", help="study name, with --storage and no study file")
    note.add_argument("--trial", type=int, help="the trial's number (default: the study's note)")
    what = note.add_mutually_exclusive_group()
    what.add_argument("--print", action="store_true", help="print the note (the default)")
    what.add_argument("--set", metavar="TEXT", help="replace the note with TEXT")
    complete_as(
        what.add_argument(
            "--file", type=Path, help="replace the note with the text of a file ('-': stdin)"
        ),
        "file",
    )
    add_json_flag(note, "print the note (or what was saved) as one JSON document")


def _new_text(args: argparse.Namespace) -> str | None:
    """The text to save, or None to print the note; raises OSError for an unreadable file."""
    if args.set is not None:
        return str(args.set)
    if args.file is None:
        return None
    if str(args.file) == "-":
        return sys.stdin.read()
    return Path(args.file).read_text(encoding="utf-8")


def cmd_note(args: argparse.Namespace) -> int:
    """Print the note, or save the new text over the version read just before."""
    from rltui.cli.studies import open_target
    from rltui.search import notes

    def failed(message: str) -> int:
        print(f"rltui note: {message}", file=sys.stderr)
        fail(args, message)
        return 1

    try:
        text = _new_text(args)
    except (OSError, UnicodeDecodeError) as exc:
        return failed(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}")
    ostudy, _study, _url = open_target(args)
    number = args.trial
    what = "the study's note" if number is None else f"trial {number}'s note"
    if number is not None and not 0 <= number < len(ostudy.get_trials(deepcopy=False)):
        count = len(ostudy.get_trials(deepcopy=False))
        known = f"its trials are 0 to {count - 1}" if count else "it has no trials yet"
        return failed(f"study {ostudy.study_name} has no trial {number}: {known}")
    current = (
        notes.read_study_note(ostudy) if number is None else notes.read_trial_note(ostudy, number)
    )
    if text is None:
        if wants_json(args):
            emit({"ok": True, "trial": number, "version": current.version, "text": current.text})
        else:
            sys.stdout.write(current.text + ("\n" if current.text[-1:] not in ("", "\n") else ""))
        return 0
    try:
        if number is None:
            saved = notes.save_study_note(ostudy, text, current.version)
        else:
            saved = notes.save_trial_note(ostudy, number, text, current.version)
    except notes.NoteConflict as conflict:  # saved elsewhere in the instant between
        return failed(f"{conflict}; run the command again")
    if wants_json(args):
        emit({"ok": True, "trial": number, "version": saved.version, "text": saved.text})
    else:
        print(f"{what} saved (version {saved.version})")
    return 0
