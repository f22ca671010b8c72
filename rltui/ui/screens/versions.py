"""The study file's versions: every version the study has applied, each diffed against the
editor's buffer, and any of them restorable into the buffer.

Restoring only replaces the editor's text (undo brings the buffer back); it becomes a new
version the usual way, through save, preview and apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from rltui.ui.models.preview import text_diff

Version = tuple[int, float | None, str]


def diff_text(lines: list[str]) -> Text:
    """A unified diff, coloured by line kind; study text is never read as markup."""
    if not lines:
        return Text("the same as the editor's buffer", style="dim")
    text = Text()
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        text.append(line + "\n", style=style)
    return text


class VersionsScreen(ModalScreen[str | None]):
    """Returns the text of the version to restore into the editor, or None."""

    DEFAULT_CSS = """
    VersionsScreen { align: center middle; }
    VersionsScreen > Vertical { width: 95%; height: 90%; border: round $primary;
                                background: $surface; }
    VersionsScreen Horizontal { height: 1fr; }
    VersionsScreen OptionList { width: 30; height: 1fr; border: none; }
    VersionsScreen VerticalScroll { width: 1fr; height: 1fr; padding: 0 1; }
    VersionsScreen #versions-help { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "restore", "Restore into the editor", id="versions.restore"),
        Binding("escape,q", "close", "Close", id="versions.close"),
    ]

    def __init__(self, versions: list[Version], buffer: str, in_force: int | None) -> None:
        super().__init__()
        self.versions = list(reversed(versions))  # newest first
        self.buffer = buffer
        self.in_force = in_force

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Study file versions"
            yield Static(
                "↑/↓ choose a version · the diff is from it to the editor's buffer · "
                "r restores it into the editor · esc closes",
                id="versions-help",
            )
            with Horizontal():
                yield OptionList(
                    *[Option(self._label(v), id=str(v[0])) for v in self.versions],
                    id="versions-list",
                )
                with VerticalScroll():
                    yield Static(id="versions-diff")

    def _label(self, version: Version) -> Text:
        number, created, _ = version
        when = datetime.fromtimestamp(created).strftime("%m-%d %H:%M") if created else "–"
        label = Text(f"v{number}  {when}")
        if number == self.in_force:
            label.append("  in force", style="bold")
        return label

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        if self.versions:
            listing.highlighted = 0
            self._show(0)
        else:
            self.query_one("#versions-diff", Static).update(
                Text("this study has no stored study-file versions", style="dim")
            )
        listing.focus()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def _show(self, index: int) -> None:
        number, _, text = self.versions[index]
        lines = text_diff(text, self.buffer, f"version {number}", "editor")
        self.query_one("#versions-diff", Static).update(diff_text(lines))

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_restore()

    def action_restore(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or not self.versions:
            return
        self.dismiss(self.versions[index][2])

    def action_close(self) -> None:
        self.dismiss(None)
