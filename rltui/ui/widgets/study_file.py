"""The study-file pane: the editor with live validation and save-and-apply.

Validation runs ~300 ms after the last keystroke, on a thread, and also checks the edit
against the running study: edits Optuna would refuse are shown (with the way out) before the
user saves. ctrl+s always writes the buffer to disk, so nothing typed is lost; the new spec
version is applied to the study only when the buffer is valid and compatible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import TextArea

from rltui.spec import Problem, SpecError
from rltui.ui.widgets.editor import StudyEditor

if TYPE_CHECKING:
    from rltui.spec import Study
    from rltui.ui.session import Session

DEBOUNCE = 0.3


@dataclass(frozen=True)
class Check:
    """The outcome of checking one buffer."""

    text: str
    study: Study | None
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
    from rltui.spec import Study, check_text  # on the validation thread, not at start-up
    from rltui.spec.source import YamlSyntaxError, parse_yaml

    study, problems = check_text(text, str(path) if path else None, check_env=True)
    incompatible: list[Problem] = []
    renamed = None
    if study is not None and session is not None:
        study = Study(
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


class StudyFilePane(Vertical):
    """Holds the editor; posts :class:`Checked` after each validation and :class:`Saved`."""

    class Checked(Message):
        def __init__(self, check: Check) -> None:
            super().__init__()
            self.check = check

    class Saved(Message):
        """The file was written; ``applied`` is the spec version in force, or None."""

        def __init__(self, path: Path, check: Check, applied: int | None, note: str) -> None:
            super().__init__()
            self.path = path
            self.check = check
            self.applied = applied
            self.note = note

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: Path | None = None
        self.session: Session | None = None
        self.saved_text: str = ""
        self.last_check: Check | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield StudyEditor(id="editor")

    @property
    def editor(self) -> StudyEditor:
        return self.query_one(StudyEditor)

    @property
    def modified(self) -> bool:
        return self.editor.text != self.saved_text

    def load(self, path: Path | None, text: str) -> None:
        """Show ``text`` (the file at ``path``) and check it."""
        self.path = path
        self.saved_text = text
        self.editor.load_text(text)
        self.validate_now()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self.validate_now)

    def validate_now(self) -> None:
        self._validate(self.editor.text, self.path, self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate")
    def _validate(self, text: str, path: Path | None, session: Session | None) -> None:
        self.post_message(self.Checked(check_buffer(text, path, session)))

    def on_study_file_pane_checked(self, event: Checked) -> None:
        if event.check.text != self.editor.text:
            return  # stale: a newer check is on its way
        self.last_check = event.check
        self.editor.mark_problems(p.line for p in event.check.all_problems if p.line)

    def save(self) -> None:
        """Write the buffer to disk; apply it to the study when valid and compatible."""
        path = self.path or Path.cwd() / "study.yaml"
        self._save(self.editor.text, path, self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def _save(self, text: str, path: Path, session: Session | None) -> None:
        check = check_buffer(text, path, session)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.post_message(self.Saved(path, check, None, f"not saved: {exc}"))
            return
        applied: int | None = None
        if session is None:
            note = (
                "saved; no study was open: opening it now"
                if check.study is not None
                else "saved; no study is open, so nothing was applied"
            )
        elif check.study is None:
            note = f"saved to disk, not applied: {len(check.errors)} problem(s) in the file"
        elif check.renamed:
            note = (
                f"saved to disk, not applied: the name changed to '{check.renamed}', which is "
                "another study; open it from the explorer"
            )
        elif check.incompatible:
            note = (
                "saved to disk, not applied: Optuna cannot make this change inside a running "
                "study; see the problems view for the way out"
            )
        else:
            try:
                applied = session.publish(check.study)
                note = f"saved and applied: study file version {applied}, used by the next trials"
            except SpecError as exc:
                note = f"saved to disk, not applied: {exc}"
        self.post_message(self.Saved(path, check, applied, note))

    def on_study_file_pane_saved(self, event: Saved) -> None:
        if not event.note.startswith("not saved"):
            self.saved_text = event.check.text
            self.path = event.path
        self.last_check = event.check
        self.editor.mark_problems(p.line for p in event.check.all_problems if p.line)
