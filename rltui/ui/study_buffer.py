"""The study file as the editor holds it: the buffer checked (against the open study too),
and the file on disk (its stamp, and writes that are whole or nothing).

Plain Python without Textual: the study-file pane calls these from its thread workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rltui.spec import Problem

if TYPE_CHECKING:
    from rltui.spec import StudyFile
    from rltui.ui.session import Session

Stamp = tuple[int, int] | None  # (mtime_ns, size) of the file; None: it does not exist


def disk_stamp(path: Path) -> Stamp:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a full disk leaves the old file."""
    temporary = path.with_name(f".{path.name}.rltui-save")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@dataclass(frozen=True)
class Check:
    """The outcome of checking one buffer."""

    text: str
    study: StudyFile | None
    problems: tuple[Problem, ...]
    incompatible: tuple[Problem, ...] = ()
    renamed: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def all_problems(self) -> list[Problem]:
        return sorted(
            [*self.problems, *self.incompatible], key=lambda p: (p.line or 0, p.column or 0)
        )

    @property
    def applicable(self) -> bool:
        return self.study is not None and not self.incompatible and not self.renamed


def check_buffer(text: str, path: Path | None, session: Session | None) -> Check:
    """Check ``text`` as the study file, and against ``session``'s study when there is one."""
    from rltui.spec import StudyFile, check_text  # on the validation thread, not at start-up
    from rltui.spec.source import YamlSyntaxError, parse_yaml

    study, problems = check_text(text, str(path) if path else None, check_env=True)
    incompatible: list[Problem] = []
    renamed = None
    if study is not None and session is not None:
        study = StudyFile(
            study.spec, study.space, text, path.resolve() if path else None, study.warnings
        )
        if study.spec.name != session.name:
            renamed = study.spec.name
        else:
            try:
                source = parse_yaml(text)
                incompatible = [source.place(p) for p in session.check_publish(study)]
            except YamlSyntaxError:
                pass
    return Check(text, study, tuple(problems), tuple(incompatible), renamed)
