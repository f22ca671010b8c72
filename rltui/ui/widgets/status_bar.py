"""The status bar: study, storage (password masked), sampler/pruner, counts, best, workers."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot
from rltui.ui import cells


class StatusBar(Static):
    """One line at the bottom, redrawn only when its text changes."""

    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; color: $foreground; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._last: Text | None = None

    def show(self, text: Text) -> None:
        if self._last is not None and text == self._last:
            return
        self._last = text
        self.update(text)

    def show_message(self, message: str) -> None:
        self.show(Text(message))

    def show_study(
        self,
        *,
        study: str,
        storage: str,
        sampler: str,
        pruner: str,
        device: str,
        snapshot: Snapshot | None,
        width: int = 120,
    ) -> None:
        """Wide terminals get words; narrower ones letters (W R P C X F), then less."""
        theme = self.app.current_theme
        narrow, wide = width < 110, width >= 150
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(
            f" {study} ", style=cells.theme_style(theme, "primary", bold=True, reverse=True)
        )
        if not narrow:
            text.append(f" {storage} ", style="dim")
            text.append(f"│ {sampler}/{pruner} ")
        if snapshot is not None:
            text.append("│ ")
            counts = snapshot.counts
            for status in TrialStatus:
                if counts.get(status):
                    colour = cells.theme_style(theme, cells.STATE_COLOUR[status])
                    if wide:
                        text.append(f"{counts[status]} {status.value.lower()} ", style=colour)
                    else:
                        text.append(f"{counts[status]}{cells.SHORT[status]} ", style=colour)
            best = snapshot.best
            if best is not None:
                text.append(
                    f"│ best {cells.number(best.value)} (#{best.number}) ",
                    style=cells.theme_style(theme, "warning"),
                )
            live = sum(1 for w in snapshot.workers if w.alive)
            text.append(
                f"│ {live} worker{'s' if live != 1 else ''} " if not narrow else f"│ {live}w "
            )
            if snapshot.draining:
                text.append("draining ", style=cells.theme_style(theme, "warning", bold=True))
        text.append(f"│ {device}")
        self.show(text)
