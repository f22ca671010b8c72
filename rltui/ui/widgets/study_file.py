"""The study-file pane: the editor with live validation, save, preview and apply.

Validation runs ~300 ms after the last keystroke, on a thread, and also checks the edit
against the running study: edits Optuna would refuse are shown (with the way out) before the
user saves. ctrl+s always writes the buffer to disk, so nothing typed is lost. A study that
has trials is never changed by a save alone: the pane shows what would change (the preview)
and applies it only when the user says so.

The file on disk is watched. A change made elsewhere reloads an unmodified buffer (it equals
what was on disk, so nothing is lost, as in VS Code) and, when the buffer has edits of its
own, is shown as a conflict: ctrl+r takes the disk's version, and a save asks before
overwriting it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static, TextArea

from rltui.spec import SpecError
from rltui.spec.reading import read_study, why_unreadable
from rltui.ui.models.study_buffer import (
    Check,
    Stamp,
    after_save,
    check_buffer,
    disk_stamp,
    write_atomically,
)
from rltui.ui.widgets.editor import StudyEditor

if TYPE_CHECKING:
    from rltui.ui.services.session import Session

DEBOUNCE = 0.3
DISK_POLL = 1.0  # seconds between looks at the file on disk


class StudyFilePane(Vertical):
    """Holds the editor; posts :class:`Checked` after each validation, :class:`Saved` after a
    save, :class:`Applied` when a version is applied, :class:`ModifiedChanged` when the buffer
    starts or stops differing from the file."""

    DEFAULT_CSS = """
    StudyFilePane > #disk-banner { height: auto; padding: 0 1; display: none;
                                   background: $warning 20%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+r",
            "reload",
            "Reload",
            tooltip="Reload the study file from disk (your unsaved edits are dropped)",
            id="editor.reload",
        ),
        Binding(
            "ctrl+o",
            "versions",
            "Versions",
            tooltip="The study file's versions: diff against the buffer, restore one",
            id="editor.versions",
        ),
    ]

    class Checked(Message):
        def __init__(self, check: Check) -> None:
            super().__init__()
            self.check = check

    class Saved(Message):
        """The save ended: ``written`` whether the file was written; ``note`` says what
        happened for the user (empty when a preview or an apply that follows says it)."""

        def __init__(
            self, path: Path, check: Check, written: bool, note: str, stamp: Stamp = None
        ) -> None:
            super().__init__()
            self.path = path
            self.check = check
            self.written = written
            self.note = note
            self.stamp = stamp  # the file as written: not a change made elsewhere

    class Applied(Message):
        """``version`` of the study file is in force in the study now."""

        def __init__(self, version: int, note: str) -> None:
            super().__init__()
            self.version = version
            self.note = note

    class ModifiedChanged(Message):
        def __init__(self, modified: bool) -> None:
            super().__init__()
            self.modified = modified

    class DiskChanged(Message):
        """The file on disk is no longer what the pane last loaded or saved."""

        def __init__(self, text: str | None, stamp: Stamp) -> None:
            super().__init__()
            self.text = text
            self.stamp = stamp

    class PreviewReady(Message):
        def __init__(self, path: Path, check: Check, preview: object) -> None:
            super().__init__()
            self.path = path
            self.check = check
            self.preview = preview

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: Path | None = None
        self.session: Session | None = None
        self.saved_text: str = ""
        self.last_check: Check | None = None
        self._timer: Timer | None = None
        self._stamp: Stamp = None  # the file on disk as last loaded or saved
        self._conflict: str | None = None  # disk text that differs from a modified buffer
        self._modified = False

    def compose(self) -> ComposeResult:
        yield Static(id="disk-banner")
        yield StudyEditor(id="editor")

    def on_mount(self) -> None:
        self.set_interval(DISK_POLL, self._look_at_disk)

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
        self._stamp = disk_stamp(path) if path is not None else None
        self._set_conflict(None)
        self.editor.load_text(text)
        self._note_modified()
        # After the next frame: the check's thread imports the spec's models (pydantic), and
        # the window's first frame is drawn before that.
        self.call_after_refresh(self.validate_now)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._note_modified()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self.validate_now)

    def _note_modified(self) -> None:
        modified = self.modified
        if modified != self._modified:
            self._modified = modified
            self.post_message(self.ModifiedChanged(modified))

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

    # The file on disk -------------------------------------------------------------

    def _look_at_disk(self) -> None:
        if self.path is not None:
            self._read_disk(self.path, self._stamp)

    @work(thread=True, exclusive=True, exit_on_error=False, group="disk")
    def _read_disk(self, path: Path, known: Stamp) -> None:
        stamp = disk_stamp(path)
        if stamp == known:
            return
        try:
            text = read_study(path) if stamp is not None else None
        except (OSError, UnicodeDecodeError):
            return  # being written, or unreadable for now: look again next time
        self.post_message(self.DiskChanged(text, stamp))

    def on_study_file_pane_disk_changed(self, event: DiskChanged) -> None:
        event.stop()
        self._stamp = event.stamp
        name = self.path.name if self.path else "the study file"
        if event.text is None:
            self._set_conflict(None)
            self.notify(
                f"{name} was deleted or moved on disk; ctrl+s writes the buffer back",
                severity="warning",
                timeout=8,
            )
            self.saved_text = ""
            self._note_modified()
            return
        if event.text == self.saved_text:
            return  # touched, not changed
        if not self.modified:
            self.load(self.path, event.text)
            self.notify(f"{name} changed on disk: reloaded (the buffer had no edits)", timeout=5)
            return
        self._set_conflict(event.text)
        self.notify(
            f"{name} changed on disk while you edit it: ctrl+r takes the disk's version; "
            "ctrl+s asks before overwriting it",
            title="Conflict",
            severity="warning",
            timeout=10,
        )

    def _set_conflict(self, text: str | None) -> None:
        self._conflict = text
        banner = self.query_one("#disk-banner", Static)
        banner.display = text is not None
        if text is not None:
            banner.update(
                "The file changed on disk and your buffer has edits: ctrl+r reloads the disk's "
                "version (dropping your edits); ctrl+s asks before overwriting it."
            )

    def action_reload(self) -> None:
        path = self.path
        if path is None:
            self.notify("this buffer has no file to reload from", severity="warning")
            return
        try:
            text = read_study(path)
        except (OSError, UnicodeDecodeError) as exc:
            self.notify(f"cannot reload {path}: {why_unreadable(exc)}", severity="error")
            return
        self.load(path, text)
        self.notify(f"reloaded {path.name} from disk", timeout=3)

    # Versions -------------------------------------------------------------------

    def action_versions(self) -> None:
        session = self.session
        if session is None:
            self.notify("no study is open: versions live in the study", severity="warning")
            return
        self._read_versions(session, self.editor.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="versions")
    def _read_versions(self, session: Session, buffer: str) -> None:
        from rltui.search.study import spec_history, spec_version
        from rltui.ui.models.version_stats import stats_of

        history, in_force = spec_history(session.ostudy), spec_version(session.ostudy)
        # How each version's trials did, from the window's last snapshot, on this thread.
        stats = stats_of(getattr(self.screen, "snapshot", None))
        self.app.call_from_thread(self._show_versions, history, buffer, in_force, stats)

    def _show_versions(self, history: list[Any], buffer: str, in_force: int, stats: Any) -> None:
        from rltui.ui.screens.versions import VersionsScreen

        def chosen(text: str | None) -> None:
            if text is not None:
                editor = self.editor
                editor.replace(text, editor.document.start, editor.document.end)
                self.notify(
                    "version restored into the editor: ctrl+s saves it, then the preview "
                    "applies it (ctrl+z undoes the restore)",
                    timeout=6,
                )

        self.app.push_screen(VersionsScreen(history, buffer, in_force or None, *stats), chosen)

    # Saving and applying -----------------------------------------------------------

    def on_study_editor_save_requested(self, event: StudyEditor.SaveRequested) -> None:
        event.stop()
        self.save(event.text)

    def save(self, text: str | None = None) -> None:
        """Write ``text`` (the buffer) to disk; when it is valid for an open study with trials,
        show what applying it would change and apply on the user's word."""
        text = self.editor.text if text is None else text
        path = self.path or Path.cwd() / "study.yaml"
        if self._conflict is not None:
            from rltui.ui.screens.dialogs import overwrite_question

            def answered(yes: bool | None) -> None:
                if yes:
                    self._save(text, path, self.session)
                else:
                    self.notify("not saved: ctrl+r shows the disk's version", timeout=4)

            try:
                on_disk: str | None = read_study(path)
            except (OSError, UnicodeDecodeError):
                on_disk = None  # gone or unreadable: nothing to compare with
            if on_disk != text:  # else the other program wrote what the buffer holds
                self.app.push_screen(overwrite_question(path.name, on_disk, text), answered)
                return
        self._save(text, path, self.session)

    def save_only(self, then: Callable[[], None]) -> None:
        """Write the buffer to its file and nothing else (quitting with unsaved edits), then
        call ``then``; a failed write says why and does not call it, so nothing is lost."""
        path = self.path or Path.cwd() / "study.yaml"
        text = self.editor.text
        try:
            write_atomically(path, text)
        except OSError as exc:
            self.notify(f"not saved: {exc} (still here, your buffer is kept)", severity="error")
            return
        self.saved_text = text
        self._stamp = disk_stamp(path)
        self._note_modified()
        then()

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def _save(self, text: str, path: Path, session: Session | None) -> None:
        check = check_buffer(text, path, session)
        try:
            write_atomically(path, text)
        except OSError as exc:
            self.post_message(
                self.Saved(path, check, False, f"not saved: {exc} (your buffer is kept)")
            )
            return
        stamp = disk_stamp(path)
        after = after_save(check, session)
        # Applied at once or previewed, the apply's note or the preview says what happened.
        self.post_message(self.Saved(path, check, True, after.note, stamp))
        if after.apply_now and session is not None:
            self._publish(session, check)
        elif after.preview is not None:
            self.post_message(self.PreviewReady(path, check, after.preview))

    def on_study_file_pane_saved(self, event: Saved) -> None:
        if event.written:
            self._stamp = event.stamp
            self.saved_text = event.check.text
            self.path = event.path
            self._set_conflict(None)
            self._note_modified()
        self.last_check = event.check
        self.editor.mark_problems(p.line for p in event.check.all_problems if p.line)

    def on_study_file_pane_preview_ready(self, event: PreviewReady) -> None:
        event.stop()
        from rltui.ui.models.preview import Preview
        from rltui.ui.screens.apply_preview import ApplyPreviewScreen

        preview = event.preview
        assert isinstance(preview, Preview)
        session = self.session

        def answered(apply: bool | None) -> None:
            if apply and session is not None:
                self._publish(session, event.check)
            elif preview.applicable:
                self.notify(
                    "saved, not applied: the study keeps its current version "
                    "(ctrl+s shows the preview again)",
                    timeout=6,
                )
            else:
                self.notify(
                    "saved, not applied: Optuna refuses this edit (the problems view says why)",
                    severity="warning",
                    timeout=6,
                )

        self.app.push_screen(ApplyPreviewScreen(preview, event.path.name), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="apply")
    def _publish(self, session: Session, check: Check) -> None:
        assert check.study is not None
        try:
            version = session.publish(check.study)
        except (SpecError, OSError) as exc:  # refused by Optuna, or a storage that is read-only
            self.notify(f"not applied: {exc}", severity="warning", timeout=8)
            return
        self.post_message(
            self.Applied(version, f"applied: study file version {version}, used by the next trials")
        )
