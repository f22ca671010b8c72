"""Small modal questions: confirm a destructive action, and what to do with workers on quit.
Each shows its own keys in the footer, not those of the screen under it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from rltui.ui.widgets.footer import KeysFooter

DIALOG_CSS = """
.dialog { width: 64; max-width: 95%; height: auto; padding: 1 2; border: round $primary;
          background: $surface; }
.dialog Label { width: 1fr; margin-bottom: 1; }
.dialog Horizontal { height: auto; align-horizontal: right; }
.dialog Button { margin-left: 1; min-width: 10; }
.dialog .detail { height: auto; max-height: 40vh; margin-bottom: 1; }
"""


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no; ``y``/``n``/escape work as well as the buttons."""

    DEFAULT_CSS = "ConfirmScreen { align: center middle; }" + DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(
        self, question: str, yes: str = "Yes", no: str = "Cancel", detail: Text | None = None
    ) -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no
        self.detail = detail  # shown under the question, scrolled when long (a diff)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            if self.detail is not None:
                with VerticalScroll(classes="detail"):
                    yield Static(self.detail)
            with Horizontal():
                yield Button(f"{self.no} (n)", id="no")
                yield Button(f"{self.yes} (y)", id="yes", variant="error")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class QuitScreen(ModalScreen[str | None]):
    """Returns ``keep`` (workers go on: the default), ``stop`` (SIGTERM to local workers), or
    None to stay."""

    DEFAULT_CSS = "QuitScreen { align: center middle; }" + DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y,k", "answer('keep')", "Keep workers", id="quit.keep"),
        Binding("s", "answer('stop')", "Stop workers", id="quit.stop"),
        Binding("escape,n", "answer(None)", "Stay", id="quit.stay"),
    ]

    def __init__(self, running: int) -> None:
        super().__init__()
        self.running = running

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                f"Quit rltui. {self.running} {'workers are' if self.running != 1 else 'worker is'} "
                f"running: keep {'them' if self.running != 1 else 'it'} going? Workers are "
                "detached; reopen rltui later to see the study as it is. Stopping them "
                "pauses their trials with a checkpoint (R resumes them later)."
            )
            with Horizontal():
                yield Button("Stay (n)", id="stay")
                yield Button("Stop them (s)", id="stop", variant="warning")
                yield Button("Keep going (k)", id="keep", variant="primary")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "stay" else event.button.id)

    def action_answer(self, value: str | None) -> None:
        self.dismiss(value)


class UnsavedScreen(ModalScreen[str | None]):
    """The study file has unsaved edits: ``save`` (write the file; nothing is applied),
    ``discard``, or None to stay."""

    DEFAULT_CSS = "UnsavedScreen { align: center middle; }" + DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('save')", "Save", id="unsaved.save"),
        Binding("d", "answer('discard')", "Discard", id="unsaved.discard"),
        Binding("escape,c", "answer(None)", "Cancel", id="unsaved.cancel"),
    ]

    def __init__(self, name: str, leaving: str = "quitting") -> None:
        super().__init__()
        self.name_shown = name
        self.leaving = leaving

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                f"{self.name_shown} has unsaved edits. Save them to the file before "
                f"{self.leaving}? (Saving applies nothing to the study; ctrl+s in its editor "
                "later shows what applying would change.)"
            )
            with Horizontal():
                yield Button("Cancel (c)", id="cancel")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Save (s)", id="save", variant="primary")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id)

    def action_answer(self, value: str | None) -> None:
        self.dismiss(value)


def overwrite_question(name: str, on_disk: str | None, buffer: str) -> ConfirmScreen:
    """Whether to overwrite the study file, changed on disk since it was opened, with the
    editor's buffer: the question shows what the disk holds that would be lost."""
    from rltui.ui.models.preview import text_diff
    from rltui.ui.screens.versions import diff_text

    detail = None
    if on_disk is not None:
        detail = diff_text(text_diff(on_disk, buffer, f"{name} on disk", "buffer"))
    return ConfirmScreen(
        f"{name} changed on disk after you opened it. Overwrite it with your buffer? The "
        "lines marked - are on disk and would be lost (ctrl+r instead reloads the disk's "
        "version).",
        yes="Overwrite",
        detail=detail,
    )
