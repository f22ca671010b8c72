"""The study file as the editor holds it: the buffer checked (against the open study too),
the file on disk (its stamp, and writes that are whole or nothing), and what a save means for
the open study.

Plain Python without Textual: the study-file pane calls these from its thread workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rltui.spec import Problem
from rltui.spec.wording import counted

if TYPE_CHECKING:
    from rltui.spec import StudyFile
    from rltui.ui.models.preview import Preview
    from rltui.ui.services.session import Session

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


@dataclass(frozen=True)
class AfterSave:
    """What a buffer just written to disk means for the open study: a note to show, or a
    preview of the changes to apply on the user's word, or an edit to apply at once."""

    note: str = ""
    preview: Preview | None = None
    apply_now: bool = False


def after_save(check: Check, session: Session | None) -> AfterSave:
    """What to do once ``check``'s buffer is on disk (reads the storage: on a thread)."""
    if session is None:
        if check.study is not None:
            return AfterSave("saved; no study was open: opening it now")
        return AfterSave("saved; no study is open, so nothing was applied")
    if check.study is None:
        return AfterSave(
            f"saved to disk, not applied: {counted(len(check.errors), 'problem')} in the file"
        )
    if check.renamed:
        return AfterSave(
            f"saved to disk, not applied: the name changed to '{check.renamed}', which is "
            "another study; open it from the explorer"
        )
    from rltui.ui.models.preview import build_preview

    preview = build_preview(session, check.study)
    if preview.empty:
        return AfterSave("saved; nothing changes for the study")
    if preview.trials == 0 and preview.applicable:
        return AfterSave(apply_now=True)  # no trial to disturb yet: as a new study would be
    return AfterSave(preview=preview)
