"""Which logged columns the comparison view charts: every column the compared trials' logs
hold, ticked ones shown; closing applies the choice."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from rltui.ui.models.metrics import MAX_CHARTS
from rltui.ui.widgets.footer import KeysFooter

# What the picker returns for "the default columns".
DEFAULTS: tuple[str, ...] = ()


class ColumnPicker(ModalScreen[tuple[str, ...] | None]):
    """Returns the ticked columns in list order (``DEFAULTS`` to go back to the default
    set), or None when cancelled."""

    DEFAULT_CSS = """
    ColumnPicker { align: center middle; }
    #picker { width: 60; max-width: 95%; height: 80%; border: round $primary;
              background: $surface; padding: 0 1; }
    #picker SelectionList { height: 1fr; border: none; }
    #picker-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,m", "done", "Show", id="picker.done"),
        Binding("d", "defaults", "Defaults", id="picker.defaults"),
        Binding("q", "cancel", "Cancel", id="picker.cancel"),
    ]

    def __init__(self, available: tuple[str, ...], shown: tuple[str, ...]) -> None:
        super().__init__()
        self.available = available
        self.shown = shown

    def compose(self) -> ComposeResult:
        with Vertical(id="picker") as box:
            box.border_title = "Columns to compare"
            yield Static(
                f"space ticks a column (at most {MAX_CHARTS}); escape shows them; "
                "d: the defaults; q: cancel",
                id="picker-hint",
            )
            yield SelectionList[str](
                *((name, name, name in self.shown) for name in self.available), id="columns"
            )
        yield KeysFooter()

    @property
    def ticked(self) -> tuple[str, ...]:
        chosen = set(self.query_one("#columns", SelectionList).selected)
        return tuple(name for name in self.available if name in chosen)

    @on(SelectionList.SelectionToggled)
    def _at_most(self, event: SelectionList.SelectionToggled[str]) -> None:
        if len(event.selection_list.selected) > MAX_CHARTS:
            event.selection_list.deselect(event.selection.value)
            self.notify(f"at most {MAX_CHARTS} charts side by side", severity="warning")

    def action_done(self) -> None:
        self.dismiss(self.ticked or DEFAULTS)

    def action_defaults(self) -> None:
        self.dismiss(DEFAULTS)

    def action_cancel(self) -> None:
        self.dismiss(None)
