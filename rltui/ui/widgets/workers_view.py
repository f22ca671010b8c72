"""The workers view: every worker of the study, from every host, in two lines each.

``● a1b2c3d4 training #12  12m`` / ``  gpu-node-01:4242 cuda:0`` (see
:mod:`rltui.ui.display.worker_cells` for how each field is shortened to the sidebar's width); Enter
or a click opens the worker's whole record. Workers started from this UI show from the
moment they are started, as ``starting``, until their record appears (or as ``failed to
start``, with the end of their log, when they exit without one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from rltui.search.workers import HOST, WorkerRecord
from rltui.ui.display import worker_cells
from rltui.ui.display.cells import Clock

if TYPE_CHECKING:
    from rltui.ui.services.gpu import Gpu
    from rltui.ui.services.launches import WorkerLaunch

EMPTY = "no workers yet: w starts one here, or rltui worker on any host"
DEFAULT_WIDTH = 28  # the narrow sidebar's inside, until the view has been laid out


class WorkersView(OptionList):
    """Re-rendered only when what it shows changed: ages are coarse (minutes after the first
    one), so a quiet study repaints nothing between polls."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select",
            "Worker",
            tooltip="The selected worker's whole record: host, device, times, log",
            id="workers.detail",
        )
    ]

    def __init__(self, *, clock: Clock = datetime.now, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.records: list[WorkerRecord] = []
        self.gpu_memory: dict[int, int] = {}  # MiB by pid, on this machine
        self.launches: tuple[WorkerLaunch, ...] = ()
        # What each entry of the list is, in the list's order: live workers, then workers
        # started here that have no record yet, then gone workers.
        self.entries: list[WorkerRecord | WorkerLaunch] = []
        self.late = worker_cells.late_after(2.0)
        self._shown: list[tuple[str, Text]] = []

    def on_mount(self) -> None:
        self.border_title = "Workers"
        self._render_records()

    def on_resize(self) -> None:
        self._render_records()

    @property
    def selected(self) -> WorkerRecord | None:
        """The highlighted worker (the first one until the user moves); None on a worker
        that has no record yet."""
        index = self.highlighted
        if index is None or not 0 <= index < len(self.entries):
            return None
        entry = self.entries[index]
        return entry if isinstance(entry, WorkerRecord) else None

    def show(
        self,
        records: Sequence[WorkerRecord],
        heartbeat_interval: float = 2.0,
        launches: Sequence[WorkerLaunch] = (),
        gpus: Sequence[Gpu] = (),
    ) -> None:
        """Show ``records``, and ``launches`` (workers started here with no record yet,
        ``Session.launches``); a heartbeat older than a few ``heartbeat_interval`` is late.
        ``gpus`` (this machine's, with the processes NVML lists) give each local worker's
        GPU memory."""
        self.gpu_memory = {pid: mib for g in gpus for pid, mib in g.processes}
        self.records, hidden = worker_cells.order(records)
        known = {r.id for r in records}
        # A record read after the launches were listed speaks for its worker.
        self.launches = tuple(launch for launch in launches if launch.id not in known)
        live = [r for r in self.records if r.alive]
        self.entries = [*live, *self.launches, *self.records[len(live) :]]
        self.late = worker_cells.late_after(heartbeat_interval)
        title = f"Workers (+{hidden} gone)" if hidden else "Workers"
        if title != self.border_title:
            self.border_title = title
        self._render_records()

    def _render_records(self) -> None:
        if not self.is_mounted:
            return
        width = self.scrollable_content_region.width or DEFAULT_WIDTH
        now = self.clock().timestamp()
        hosts = worker_cells.host_labels(self.records, width)
        for launch in self.launches:
            if launch.host not in hosts:
                hosts[launch.host] = worker_cells.short_hosts([launch.host])[launch.host]
        theme = self.app.current_theme
        shown = [
            (
                entry.id,
                worker_cells.worker_text(
                    entry,
                    hosts[entry.host],
                    now=now,
                    late=self.late,
                    width=width,
                    theme=theme,
                    gpu_mib=self.gpu_memory.get(entry.pid) if entry.host == HOST else None,
                ),
            )
            if isinstance(entry, WorkerRecord)
            else (
                f"launch-{entry.id}",
                worker_cells.launch_text(
                    entry, hosts[entry.host], now=now, width=width, theme=theme
                ),
            )
            for entry in self.entries
        ]
        if shown == self._shown and (shown or self.option_count):
            return
        # The highlighted entry's key, from the list as it was drawn (``entries`` is new).
        index = self.highlighted
        keep = self._shown[index][0] if index is not None and index < len(self._shown) else None
        if shown and [key for key, _ in shown] == [key for key, _ in self._shown]:
            # The same workers in the same places: swap the entries that changed, which
            # keeps the highlight and the scroll position where the user left them.
            for index, ((_, text), (_, old)) in enumerate(zip(shown, self._shown, strict=True)):
                if text != old:
                    self.replace_option_prompt_at_index(index, text)
        elif shown:
            self.set_options(Option(text, id=key) for key, text in shown)
            ids = [key for key, _ in shown]
            self.highlighted = ids.index(keep) if keep in ids else 0
        else:
            self.set_options([Option(Text(EMPTY, style="dim"), disabled=True)])
        self._shown = shown

    class WorkerChosen(Message):
        """Enter or a click on a worker: the screen shows its whole record."""

        def __init__(self, record: WorkerRecord, late: float) -> None:
            super().__init__()
            self.record = record
            self.late = late

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        record = self.selected
        if record is not None:
            self.post_message(self.WorkerChosen(record, self.late))
