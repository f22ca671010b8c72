"""What the commands print for scripts: ``--json``, one JSON document on stdout.

With ``--json`` a command prints that document and nothing else on stdout (a failure too is a
document, ``{"ok": false, "error": ...}``, beside the usual message on stderr); without it,
its usual lines. Exit statuses do not change with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rltui.spec import Problem

JSON_HELP = "print one JSON document on stdout (for scripts) instead of lines"


def add_json_flag(parser: argparse.ArgumentParser, help_: str = JSON_HELP) -> None:
    parser.add_argument("--json", action="store_true", help=help_)


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def say(args: argparse.Namespace, line: str) -> None:
    """Print ``line`` on stdout, unless stdout carries the JSON document."""
    if not wants_json(args):
        print(line)


def emit(doc: dict[str, Any]) -> None:
    """Print ``doc``: the one JSON document of the command, whole and flushed."""
    sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


def problem_doc(problem: Problem) -> dict[str, Any]:
    """One problem of a study file: where (line and column, 1-based; the key path), what,
    and how to fix it."""
    from rltui.spec.problems import format_path

    return {
        "line": problem.line,
        "column": problem.column,
        "severity": problem.severity,
        "key": format_path(problem.path),
        "message": problem.message,
        "hint": problem.hint,
    }


def fail(
    args: argparse.Namespace,
    message: str,
    problems: Sequence[Problem] = (),
    filename: str | None = None,
) -> None:
    """With ``--json``, the document of a command that failed (its message went to stderr)."""
    if wants_json(args):
        doc: dict[str, Any] = {"ok": False, "error": message}
        if filename is not None or problems:
            doc["file"] = filename
            doc["problems"] = [problem_doc(p) for p in problems]
        emit(doc)
