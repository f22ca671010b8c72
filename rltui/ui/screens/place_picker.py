"""Where to start a worker, asked by ``w`` when there is a choice: this machine (on the GPU
with the fewest workers, or a GPU the user picks), the study's SSH hosts, or a Slurm job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from rltui.ui.models.worker_places import Place


class PlacePicker(ModalScreen[Place | None]):
    """A list of places; enter picks one, escape starts nothing (None)."""

    DEFAULT_CSS = """
    PlacePicker { align: center middle; }
    #places { width: 64; max-width: 95%; height: auto; max-height: 80%;
              border: round $primary; background: $surface; padding: 0 1; }
    #places OptionList { height: auto; max-height: 16; border: none; }
    #places-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Start no worker", id="places.cancel"),
    ]

    def __init__(self, places: Sequence[Place]) -> None:
        super().__init__()
        self.places = list(places)

    def compose(self) -> ComposeResult:
        with Vertical(id="places") as box:
            box.border_title = "Start a worker where?"
            yield Static("enter starts it there · esc starts none", id="places-hint")
            # Host names come from the study file: shown as they are, never read as markup.
            yield OptionList(
                *(Option(Text(p.label), id=p.key) for p in self.places), id="place-list"
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.places[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
