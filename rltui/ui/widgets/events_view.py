"""The events pane: every study event seen since the study was opened, newest at the bottom."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.theme import Theme
from textual.widgets import RichLog

from rltui.search.events import StudyEvent, clock

MAX_EVENTS = 1000  # a study left running for days must not grow the pane without end
EMPTY = "no events since the study was opened (workers leaving, lost; retries; budget)"


class EventsView(RichLog):
    """Read-only, scrollable list of :class:`StudyEvent` lines: ``time · text``, the text in
    the theme's colour for its severity. Lines are plain text, never read as markup: they
    quote worker ids, hosts and error messages, any of which may hold ``[``."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "events-view--time",
        "events-view--information",
        "events-view--warning",
        "events-view--error",
        "events-view--empty",
    }

    DEFAULT_CSS = """
    EventsView {
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    EventsView > .events-view--time { color: $text-muted; }
    EventsView > .events-view--information { color: $foreground; }
    EventsView > .events-view--warning { color: $text-warning; }
    EventsView > .events-view--error { color: $text-error; }
    EventsView > .events-view--empty { color: $text-muted; text-style: italic; }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(
            max_lines=MAX_EVENTS,
            min_width=20,
            wrap=True,
            markup=False,
            highlight=False,
            auto_scroll=True,
            name=name,
            id=id,
            classes=classes,
        )
        self.events: deque[StudyEvent] = deque(maxlen=MAX_EVENTS)
        # The width the lines were wrapped to; 0 until the pane has a size (a hidden tab).
        self._width = 0

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def on_resize(self, event: Resize) -> None:
        # RichLog wraps a line once, when written: wrap them all again to the new width.
        if self.scrollable_content_region.width != self._width:
            self._write_all()

    def add(self, events: Sequence[StudyEvent]) -> None:
        """Append ``events`` (oldest first); the oldest lines go beyond :data:`MAX_EVENTS`."""
        if not events:
            return
        first = not self.events
        self.events.extend(events)
        if not self._width:
            return  # written once the pane has a size
        if first:
            self._write_all()  # replaces the empty-state line
            return
        for event in events:
            self.write(self._line(event), width=self._width)

    def _on_theme_changed(self, _theme: Theme) -> None:
        # Lines keep the colours of the theme they were written under: write them again.
        self._write_all()

    def _write_all(self) -> None:
        self._width = self.scrollable_content_region.width
        if not self._width:
            return
        self.clear()
        if not self.events:
            self.write(Text(EMPTY, style=self._style("empty")), width=self._width)
            return
        for event in self.events:
            self.write(self._line(event), width=self._width)

    def _line(self, event: StudyEvent) -> Text:
        return Text.assemble(
            (f"{clock(event)} · ", self._style("time")),
            (event.text, self._style(event.severity)),
        )

    def _style(self, part: str) -> Style:
        return self.get_component_rich_style(f"events-view--{part}", partial=True)
