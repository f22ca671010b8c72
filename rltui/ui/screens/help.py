"""The help screen: what rltui is, and every key, generated from the bindings."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "rltui watches and steers an Optuna study of RL agents. The UI only talks to the storage: "
    "trials run in detached worker processes, so closing rltui stops no training.\n\n"
    "Tabs: Trials (Enter opens a trial; space marks it for comparison), Study file (edit; "
    "ctrl+s saves and applies when valid), Charts, Compare (the marked trials' logged columns "
    "side by side, or the selected trial and the best when none is marked; m picks the "
    "columns). The sidebar lists the workers of every host (Enter on one shows its whole "
    "record). ctrl+p opens the command palette with every action."
)


def keys_table(bindings: list[tuple[str, list[BindingType]]]) -> Table:
    table = Table(show_header=True, header_style="bold", show_edge=False, expand=True)
    table.add_column("key", no_wrap=True)
    table.add_column("action")
    table.add_column("where", style="dim")
    for where, group in bindings:
        for binding in group:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            key = binding.key_display or binding.key.replace("ctrl+", "^")
            table.add_row(key, binding.tooltip or binding.description, where)
    return table


class HelpScreen(ModalScreen[None]):
    """F1 or ?; escape closes."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 90; max-width: 95%; height: 90%; border: round $primary; background: $surface;
            padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "close", "Close", id="help.close")
    ]

    def __init__(self, bindings: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as box:
            box.border_title = "rltui help"
            yield Static(Text(INTRO))
            yield Static(keys_table(self.bindings))

    def action_close(self) -> None:
        self.dismiss(None)
