"""A trial's detail: parameters, every evaluation, the error and traceback tail, its log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from rltui.search.reader import TrialRow
from rltui.ui import cells
from rltui.ui.cells import Clock
from rltui.ui.widgets.log_view import read_tail

TRACEBACK_LINES = 20
LOG_LINES = 40


def summary(row: TrialRow, clock: Clock) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("state", row.status.value + (f" ({row.pending} requested)" if row.pending else ""))
    grid.add_row("value", cells.number(row.value))
    grid.add_row("progress", cells.progress(row))
    grid.add_row("time", cells.duration(cells.trial_duration(row, clock)))
    grid.add_row("worker", row.worker or "–")
    if row.spec_version:
        grid.add_row("study file", f"version {row.spec_version}")
    return grid


def params_table(row: TrialRow) -> Table:
    table = Table(title="parameters", title_justify="left", expand=False, show_edge=False)
    table.add_column("name")
    table.add_column("value", justify="right")
    for name, value in sorted(row.params.items()):
        table.add_row(name, cells.param(value))
    return table


def evaluations_table(row: TrialRow) -> Table:
    table = Table(title=f"evaluations ({len(row.curve)})", title_justify="left", show_edge=False)
    table.add_column("timesteps", justify="right")
    table.add_column("mean reward", justify="right")
    for step, value in row.curve:
        table.add_row(f"{step:,}", cells.number(value))
    return table


class TrialDetailScreen(ModalScreen[None]):
    """Opened with Enter on a trial; escape closes it."""

    DEFAULT_CSS = """
    TrialDetailScreen { align: center middle; }
    #detail { width: 90%; height: 90%; border: round $primary; background: $surface; padding: 0 1; }
    #detail Static { margin-bottom: 1; }
    #detail .error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss_detail", "Close", id="detail.close")
    ]

    def __init__(self, row: TrialRow, log: Path | None, clock: Clock = datetime.now) -> None:
        super().__init__()
        self.row = row
        self.log_path = log
        self.clock = clock

    def compose(self) -> ComposeResult:
        row = self.row
        with VerticalScroll(id="detail") as box:
            box.border_title = f"Trial {row.number}"
            yield Static(summary(row, self.clock))
            yield Static(params_table(row))
            yield Static(
                evaluations_table(row) if row.curve else Text("no evaluations yet", style="dim")
            )
            if row.error:
                yield Static(Text(f"error: {row.error}"), classes="error")
            if row.traceback:
                tail = "\n".join(row.traceback.rstrip().splitlines()[-TRACEBACK_LINES:])
                yield Static(Text(tail), id="traceback")
            yield Static(Text("log: reading…", style="dim"), id="log")
        yield Footer()

    def on_mount(self) -> None:
        self._read_log()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _read_log(self) -> None:
        if self.log_path is None:
            text = Text("log: no log file recorded for this trial's worker", style="dim")
        else:
            lines, _ = read_tail(self.log_path)
            mine = [ln for ln in lines if f"trial {self.row.number}" in ln] or lines
            text = Text(f"log ({self.log_path}):\n", style="bold")
            text.append("\n".join(mine[-LOG_LINES:]) or "(empty)", style="")
        self.app.call_from_thread(self.query_one("#log", Static).update, text)

    def action_dismiss_detail(self) -> None:
        self.dismiss(None)
