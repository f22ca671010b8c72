"""The preview shown before an edited study file is applied to a study that has trials.

It lists what changes (search space, fixed hyperparameters, settings), the trials it enqueues
and the budget, and what Optuna refuses with the ways out. ``a`` (or the Apply button)
applies; ``escape`` leaves the study as it is (the file stays saved).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from rltui.spec import format_path
from rltui.ui.models.preview import Preview
from rltui.ui.screens.dialogs import DIALOG_CSS
from rltui.ui.widgets.footer import KeysFooter

SECTIONS = ("search space", "fixed", "settings")
TITLES = {
    "search space": "Search space",
    "fixed": "Fixed hyperparameters",
    "settings": "Settings",
}


def preview_text(preview: Preview) -> Text:
    """The preview as plain text with styles (study text is never read as markup)."""
    text = Text()
    if preview.refused:
        text.append("Optuna refuses this edit inside the running study:\n", style="bold red")
        for problem in preview.refused:
            text.append(f"  ✗ {format_path(problem.path)}: ", style="bold")
            text.append(f"{problem.message}\n")
            if problem.hint:
                text.append(f"    way out: {problem.hint}\n", style="italic")
        text.append("\n")
    for section in SECTIONS:
        changes = [c for c in preview.changes if c.section == section]
        if not changes:
            continue
        text.append(f"{TITLES[section]}\n", style="bold")
        for change in changes:
            mark = {"added": "+", "removed": "-", "changed": "~"}[change.verb]
            text.append(f"  {mark} ", style="bold")
            text.append(f"{change.describe()}\n")
        text.append("\n")
    budget = preview.budget_lines()
    if budget:
        text.append("Trials\n", style="bold")
        for line in budget:
            warn = line.startswith("the study then holds")
            text.append(f"  {'!' if warn else '·'} {line}\n", style="yellow" if warn else "")
        text.append("\n")
    if preview.empty:
        text.append("Nothing changes for the study (only comments or layout differ).\n")
    elif preview.applicable:
        text.append(
            "Applied, this becomes the next study-file version: every worker uses it for its "
            "next trial; running and paused trials keep the version they started with.",
            style="dim",
        )
    return text


class ApplyPreviewScreen(ModalScreen[bool]):
    """Returns True to apply, False to leave the study as it is."""

    DEFAULT_CSS = (
        """
    ApplyPreviewScreen { align: center middle; }
    ApplyPreviewScreen .dialog { width: 90; max-height: 90%; }
    ApplyPreviewScreen VerticalScroll { height: auto; max-height: 30; }
    """
        + DIALOG_CSS
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "answer(True)", "Apply", id="preview.apply"),
        Binding("escape,n", "answer(False)", "Not now", id="preview.cancel"),
    ]

    def __init__(self, preview: Preview, file_name: str) -> None:
        super().__init__()
        self.preview = preview
        self.file_name = file_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Apply {self.file_name} to the study?"
            with VerticalScroll():
                yield Static(preview_text(self.preview), id="preview-text")
            with Horizontal():
                yield Button("Not now (esc)", id="cancel")
                yield Button(
                    "Apply (a)",
                    id="apply",
                    variant="primary",
                    disabled=not self.preview.applicable,
                )
        yield KeysFooter()  # this preview's keys, not the editor's under it

    def on_mount(self) -> None:
        button = "#apply" if self.preview.applicable else "#cancel"
        self.query_one(button, Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters == (True,) and not self.preview.applicable:
            return None
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "apply")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value and self.preview.applicable)
