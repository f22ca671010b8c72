"""A titled list to tick, over the window: which trial states the table shows, which
parameters have a column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from rltui.ui.widgets.footer import KeysFooter


class TickList(ModalScreen[tuple[str, ...] | None]):
    """A titled list to tick. Escape returns the ticked values in list order (an empty tuple
    when none, meaning all), ``a`` returns all, ``q`` cancels (None)."""

    DEFAULT_CSS = """
    TickList { align: center middle; }
    #ticks { width: 60; max-width: 95%; height: auto; max-height: 80%;
             border: round $primary; background: $surface; padding: 0 1; }
    #ticks SelectionList { height: auto; max-height: 20; border: none; }
    #ticks-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Apply", tooltip="Apply the ticked choice", id="ticks.done"),
        Binding("a", "all", "All", tooltip="Choose all (no restriction)", id="ticks.all"),
        Binding("q", "cancel", "Cancel", tooltip="Close without changing", id="ticks.cancel"),
    ]

    def __init__(self, title: str, hint: str, items: Sequence[tuple[str, str, bool]]) -> None:
        """``items``: (what the list shows, the value returned, ticked now)."""
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.items = list(items)

    def compose(self) -> ComposeResult:
        with Vertical(id="ticks") as box:
            box.border_title = self.title_text
            yield Static(self.hint, id="ticks-hint")
            # Text prompts: parameter names are shown as they are, never read as markup.
            yield SelectionList[str](
                *((Text(prompt), value, ticked) for prompt, value, ticked in self.items),
                id="tick-list",
            )
        yield KeysFooter()

    def action_done(self) -> None:
        chosen = set(self.query_one("#tick-list", SelectionList).selected)
        self.dismiss(tuple(value for _, value, _ in self.items if value in chosen))

    def action_all(self) -> None:
        self.dismiss(())

    def action_cancel(self) -> None:
        self.dismiss(None)
