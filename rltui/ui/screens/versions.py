"""The study file's versions: every version the study has applied, how its trials did (run,
complete, best and median value; ★ on the version whose trials reached the best value), each
diffed against the editor's buffer, and any of them restorable into the buffer.

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
from rltui.ui.models.version_stats import VersionStats, best_version
from rltui.ui.widgets.footer import KeysFooter

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
    VersionsScreen OptionList { width: 34; height: 1fr; border: none; }
    VersionsScreen VerticalScroll { width: 1fr; height: 1fr; padding: 0 1; }
    VersionsScreen #versions-help { height: auto; padding: 0 1; color: $text-muted; }
    VersionsScreen #versions-stats { height: auto; margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "restore", "Restore into the editor", id="versions.restore"),
        Binding("escape,q", "close", "Close", id="versions.close"),
    ]

    def __init__(
        self,
        versions: list[Version],
        buffer: str,
        in_force: int | None,
        stats: dict[int, VersionStats] | None = None,
        maximize: bool = True,
    ) -> None:
        """``stats``: how each version's trials did (:func:`version_stats`), None when the
        study's trials are not known yet."""
        super().__init__()
        self.versions = list(reversed(versions))  # newest first
        self.buffer = buffer
        self.in_force = in_force
        self.stats = stats
        self.maximizing = maximize
        self.best: int | None = None

    def compose(self) -> ComposeResult:
        self.best = best_version(self.stats or {}, self.maximizing)
        with Vertical() as box:
            box.border_title = "Study file versions"
            yield Static(
                "↑/↓ choose a version (★: its trials reached the best value) · the diff is "
                "from it to the editor's buffer · r restores it · esc closes",
                id="versions-help",
            )
            with Horizontal():
                yield OptionList(
                    *[Option(self._label(v), id=str(v[0])) for v in self.versions],
                    id="versions-list",
                )
                with VerticalScroll():
                    yield Static(id="versions-stats")
                    yield Static(id="versions-diff")
        yield KeysFooter()  # this list's keys, not the editor's under it

    def _label(self, version: Version) -> Text:
        number, created, _ = version
        when = datetime.fromtimestamp(created).strftime("%m-%d %H:%M") if created else "–"
        label = Text(f"v{number}  {when}")
        if number == self.in_force:
            label.append("  in force", style="bold")
        if number == self.best:
            label.append(" ★", style="bold yellow")
        if self.stats is None:
            return label
        found = self.stats.get(number)
        if found is None:
            label.append("\n  no trials ran with it", style="dim")
            return label
        label.append(f"\n  {found.run} run · {found.complete} complete", style="dim")
        if found.best is not None:
            label.append(f"\n  best {found.best:.4g}", style="bold" if number == self.best else "")
            if found.median is not None:
                label.append(f" · median {found.median:.4g}", style="dim")
        return label

    def stats_text(self, number: int) -> Text:
        """How version ``number``'s trials did, in words."""
        if self.stats is None:
            return Text("how its trials did: not known (the study has not been read yet)", "dim")
        found = self.stats.get(number)
        if found is None:
            return Text(f"version {number}: no trials ran with it", style="dim")
        text = Text(f"version {number}: ", style="bold")
        text.append(
            f"{found.run} trial{'s' if found.run != 1 else ''} run ({found.complete} complete, "
            f"{found.pruned} pruned, {found.failed} failed)"
        )
        if found.best is not None:
            text.append(f", best {found.best:.6g} (trial {found.best_trial})")
        if found.median is not None:
            text.append(f", median {found.median:.6g} over its complete trials")
        if number == self.best:
            text.append("\n★ the best trials came from this version", style="bold yellow")
        elif self.best is not None:
            shown = f"version {self.best}" if self.best else "trials with no recorded version"
            text.append(f"\nthe best trials came from {shown}", style="dim")
        return text

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
        self.query_one("#versions-stats", Static).update(self.stats_text(number))
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
