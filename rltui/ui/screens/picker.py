"""A short list to pick one entry from, over the window: where to start a worker (``w``, when
there is a choice), which member a PBT member copies (``e`` in the population view)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from rltui.ui.widgets.footer import KeysFooter


class Picker(ModalScreen[tuple[Any] | None]):
    """``choices`` as ``(value, label)``; enter picks one (``(value,)``: a value may be None),
    escape picks none (None). Labels are shown as they are, never read as markup: host names
    and parameters come from the study file."""

    DEFAULT_CSS = """
    Picker { align: center middle; }
    #picker { width: 64; max-width: 95%; height: auto; max-height: 80%;
              border: round $primary; background: $surface; padding: 0 1; }
    #picker OptionList { height: auto; max-height: 16; border: none; }
    #picker-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Pick none", id="picker.cancel"),
    ]

    def __init__(self, title: str, hint: str, choices: Sequence[tuple[Any, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.values = [value for value, _ in choices]
        self.labels = [label for _, label in choices]

    def compose(self) -> ComposeResult:
        with Vertical(id="picker") as box:
            box.border_title = self.title_text
            yield Static(Text(self.hint), id="picker-hint")
            yield OptionList(*(Option(Text(label)) for label in self.labels), id="picker-list")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss((self.values[event.option_index],))

    def action_cancel(self) -> None:
        self.dismiss(None)
