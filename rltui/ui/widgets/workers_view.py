"""The workers view: every worker's state, trial, host and pid, from its storage record."""

from __future__ import annotations

from textual.widgets import DataTable

from rltui.search.workers import WorkerRecord

COLUMNS = (
    ("id", "worker", 8),
    ("state", "state", 8),
    ("trial", "trial", 5),
    ("where", "host:pid", 16),
)


class WorkersView(DataTable[object]):
    """Rebuilt only when a record other than its heartbeat changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", show_cursor=True)
        self.records: list[WorkerRecord] = []
        self._shown: tuple[tuple[object, ...], ...] = ()

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    @property
    def selected(self) -> WorkerRecord | None:
        live = self.records
        if not live or self.cursor_row >= len(live) or self.cursor_row < 0:
            return None
        return live[self.cursor_row]

    def show(self, records: list[WorkerRecord]) -> None:
        shown = tuple((r.id, r.state, r.trial, r.host, r.pid) for r in records)
        if shown == self._shown:
            self.records = records
            return
        row = self.cursor_row
        self._shown = shown
        self.records = records
        self.clear()
        for r in records:
            self.add_row(
                r.id[:8],
                r.state,
                "–" if r.trial is None else str(r.trial),
                f"{r.host[:10]}:{r.pid}",
                key=r.id,
            )
        if records:
            self.move_cursor(row=min(row, len(records) - 1), animate=False)
