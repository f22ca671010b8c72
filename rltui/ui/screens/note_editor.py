"""The note editor: the study's note or a trial's, as optuna-dashboard shows them.

A modal text area: ``ctrl+s`` saves (off the UI thread), ``escape`` closes and asks first
when the text has unsaved edits. A save refused because the note was saved elsewhere since it
was read keeps the user's text in the editor, says so and shows the start of the stored text;
``ctrl+s`` again then replaces it. Notes are text, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static, TextArea

from rltui.search import notes
from rltui.search.notes import Note, NoteConflict
from rltui.ui.screens.dialogs import ConfirmScreen
from rltui.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    import optuna

SHOWN_LINES = 4  # of the stored text, after a refused save


def first_lines(text: str, count: int = SHOWN_LINES) -> str:
    """The first ``count`` lines of ``text``, with ``…`` when there is more."""
    lines = text.splitlines()
    return "\n".join(lines[:count]) + ("\n…" if len(lines) > count else "")


def note_title(number: int | None) -> str:
    return "the study's note" if number is None else f"trial {number}'s note"


class NoteEditorScreen(ModalScreen[Note | None]):
    """Edits the note of trial ``number`` (the study's for None). Returns the note as last
    saved here, or None when nothing was saved."""

    DEFAULT_CSS = """
    NoteEditorScreen { align: center middle; }
    NoteEditorScreen > Vertical { width: 90; max-width: 95%; height: 80%; padding: 0 1;
                                  border: round $primary; background: $surface; }
    NoteEditorScreen #note-help { height: auto; color: $text-muted; }
    NoteEditorScreen TextArea { height: 1fr; }
    NoteEditorScreen #note-status { height: auto; max-height: 8; }
    NoteEditorScreen #note-status.-warning { color: $warning; }
    NoteEditorScreen #note-status.-error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", tooltip="Save the note", id="note.save"),
        Binding(
            "escape",
            "close",
            "Close",
            tooltip="Close (asks first about unsaved text)",
            id="note.close",
        ),
    ]

    def __init__(
        self, ostudy: optuna.Study, number: int | None, read_only: str | None = None
    ) -> None:
        super().__init__()
        self.ostudy = ostudy
        self.number = number
        self.read_only = read_only  # why the storage cannot be written, or None
        self.base: Note | None = None  # the stored note a save replaces (None: not read yet)
        self.saved: Note | None = None
        self.saving = False

    @property
    def what(self) -> str:
        return note_title(self.number)

    @property
    def area(self) -> TextArea:
        return self.query_one("#note-text", TextArea)

    @property
    def modified(self) -> bool:
        """Whether the text differs from the note as stored (as last read or saved)."""
        return self.base is not None and self.area.text != self.base.text

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Study note" if self.number is None else f"Trial {self.number} note"
            yield Static(
                "ctrl+s saves (optuna-dashboard shows the same note) · esc closes", id="note-help"
            )
            yield TextArea(id="note-text", read_only=True, soft_wrap=True)
            yield Static(Text("reading the note…", style="dim"), id="note-status")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.area.focus()
        self._read()

    def _status(self, text: str | Text, kind: str = "") -> None:
        status = self.query_one("#note-status", Static)
        status.update(text if isinstance(text, Text) else Text(text))
        status.set_class(kind == "warning", "-warning")
        status.set_class(kind == "error", "-error")

    # Reading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="note-read")
    def _read(self) -> None:
        try:
            if self.number is None:
                note = notes.read_study_note(self.ostudy)
            else:
                note = notes.read_trial_note(self.ostudy, self.number)
        except Exception as exc:  # a storage that cannot be read: said in the editor
            self.app.call_from_thread(self._read_failed, exc)
            return
        self.app.call_from_thread(self._loaded, note)

    def _loaded(self, note: Note) -> None:
        if not self.is_attached:
            return
        self.base = note
        area = self.area
        area.load_text(note.text)
        area.move_cursor(area.document.end)
        if self.read_only:
            self._status(f"read only: {self.read_only}", "warning")
            return
        area.read_only = False
        said = f"version {note.version}" if note.version else "no note yet"
        self._status(Text(f"{self.what}: {said}", style="dim"))

    def _read_failed(self, error: Exception) -> None:
        if self.is_attached:
            self._status(f"{self.what} could not be read: {error}", "error")

    # Saving -------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.base is None or self.saving:
            return  # not read yet, or a save under way: that save's answer comes first
        if self.read_only:
            self._status(f"not saved: {self.read_only}", "error")
            return
        self.saving = True
        self._status(Text("saving…", style="dim"))
        self._save(self.area.text, self.base.version)

    @work(thread=True, exclusive=True, exit_on_error=False, group="note-save")
    def _save(self, text: str, expected: int) -> None:
        try:
            if self.number is None:
                note = notes.save_study_note(self.ostudy, text, expected)
            else:
                note = notes.save_trial_note(self.ostudy, self.number, text, expected)
        except NoteConflict as conflict:
            self.app.call_from_thread(self._refused, conflict)
        except Exception as exc:  # a full disk, a storage gone: the text stays here
            self.app.call_from_thread(self._save_failed, exc)
        else:
            self.app.call_from_thread(self._saved, note)

    def _saved(self, note: Note) -> None:
        self.saving = False
        self.base = self.saved = note
        if self.is_attached:
            self._status(Text(f"saved as version {note.version}", style="dim"))
        self.notify(f"{self.what} saved (version {note.version})", timeout=3)

    def _refused(self, conflict: NoteConflict) -> None:
        self.saving = False
        # The stored note is what a second save replaces: the user has now been told of it.
        self.base = conflict.current
        message = Text(
            f"Not saved: {self.what} was saved elsewhere (version {conflict.current.version}) "
            "since it was opened here. Your text is kept in the editor: ctrl+s again replaces "
            "the stored text; esc drops yours.\n",
        )
        if conflict.current.text:
            message.append("The stored text begins:\n", style="bold")
            message.append(first_lines(conflict.current.text))
        else:
            message.append("The stored note is empty now.", style="bold")
        if self.is_attached:
            self._status(message, "warning")
        self.notify(
            f"{self.what} was changed elsewhere: not saved, your text is kept",
            severity="warning",
            timeout=6,
        )

    def _save_failed(self, error: Exception) -> None:
        self.saving = False
        if self.is_attached:
            self._status(
                f"Not saved: {error}. Your text is kept in the editor: ctrl+s tries again.",
                "error",
            )

    # Closing ------------------------------------------------------------------------

    def action_close(self) -> None:
        if not self.modified:
            self.dismiss(self.saved)
            return

        def answered(drop: bool | None) -> None:
            if drop:
                self.dismiss(self.saved)

        self.app.push_screen(
            ConfirmScreen(
                f"{self.what[0].upper()}{self.what[1:]} has unsaved text. Drop it?",
                yes="Drop it",
                no="Keep editing",
            ),
            answered,
        )


def open_note_editor(screen: Screen[object], number: int | None) -> NoteEditorScreen | None:
    """Open the editor on ``number``'s note (the study's for None), on the study of the window
    ``screen``; says why not when no study is open."""
    # Opened over a dialog (the palette on a trial's detail), the window's study still counts.
    session = getattr(screen, "session", None) or getattr(
        getattr(screen.app, "main_screen", None), "session", None
    )
    if session is None:
        screen.notify("no study is open: notes live in the study", severity="warning")
        return None
    editor = NoteEditorScreen(session.ostudy, number, session.read_only)
    screen.app.push_screen(editor)
    return editor
