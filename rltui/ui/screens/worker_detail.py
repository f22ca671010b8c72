"""One worker whole: everything its record holds, unshortened, and the tail of its log when
the log is on this machine."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from rltui.search.workers import HOST, WorkerRecord
from rltui.ui.display import cells, worker_cells
from rltui.ui.display.cells import Clock
from rltui.ui.widgets.footer import KeysFooter
from rltui.ui.widgets.log_view import read_tail

LOG_LINES = 30


def record_table(
    record: WorkerRecord, now: float, late: float, warning: Style | str = "bold"
) -> Table:
    """Every field of ``record``; times as clock times and ages from ``now``; a heartbeat
    older than ``late`` seconds in the ``warning`` style."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    state = record.state + (f", trial {record.trial}" if record.trial is not None else "")
    grid.add_row("worker", f"{record.id} (index {record.index})")
    grid.add_row("state", state)
    grid.add_row("host", record.host + (" (this machine)" if record.host == HOST else ""))
    grid.add_row("pid", str(record.pid))
    grid.add_row("device", record.device)
    grid.add_row("started", f"{_clock_time(record.started)} ({_ago(now - record.started)})")
    beat = Text(f"{_clock_time(record.heartbeat)} ({_ago(now - record.heartbeat)})")
    if worker_cells.is_late(record, now, late):
        beat.append("  late: no heartbeat for " + worker_cells.age(now - record.heartbeat))
        beat.stylize(warning)
    grid.add_row("heartbeat", beat)
    grid.add_row("log", record.log or "–")
    return grid


def _clock_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _ago(seconds: float) -> str:
    return f"{worker_cells.age(seconds)} ago" if seconds >= 0 else "ahead of this clock"


class WorkerDetailScreen(ModalScreen[None]):
    """Opened with Enter (or a click) on a worker; escape closes it."""

    DEFAULT_CSS = """
    WorkerDetailScreen { align: center middle; }
    #worker-detail { width: 90%; height: 80%; border: round $primary; background: $surface;
                     padding: 0 1; }
    #worker-detail Static { margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss_detail", "Close", id="worker_detail.close")
    ]

    def __init__(self, record: WorkerRecord, clock: Clock = datetime.now, late: float = 6.0):
        super().__init__()
        self.record = record
        self.clock = clock
        self.late = late

    def compose(self) -> ComposeResult:
        record = self.record
        with VerticalScroll(id="worker-detail") as box:
            box.border_title = f"Worker {record.id}"
            warning = cells.theme_style(self.app.current_theme, "warning", bold=True)
            now = self.clock().timestamp()
            yield Static(record_table(record, now, self.late, warning), id="record")
            yield Static(Text("log: reading…", style="dim"), id="worker-log")
        yield KeysFooter()

    def on_mount(self) -> None:
        self._read_log()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _read_log(self) -> None:
        record = self.record
        if not record.log:
            text = Text("log: none recorded for this worker", style="dim")
        elif record.host != HOST:
            text = Text(f"log: on {record.host}, not on this machine", style="dim")
        else:
            lines, _ = read_tail(Path(record.log))
            text = Text(f"log ({record.log}):\n", style="bold")
            text.append("\n".join(lines[-LOG_LINES:]) or "(empty)", style="")
        self.app.call_from_thread(self._show_log, text)

    def _show_log(self, text: Text) -> None:
        if self.is_attached:
            self.query_one("#worker-log", Static).update(text)

    def action_dismiss_detail(self) -> None:
        self.dismiss(None)
