"""The main window, VS Code's shape: sidebar, tabs, bottom panel, status bar, footer.

A thread worker polls the storage (``Session.poll``) about twice a second and posts each
snapshot; the next poll waits until the UI has applied it, so no change is lost and a slow
UI is never flooded. Applying a snapshot touches only the rows that changed.
"""

from __future__ import annotations

import threading
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, TabbedContent, TabPane, Tabs
from textual.worker import get_current_worker

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot
from rltui.ui import memory
from rltui.ui.cells import Clock
from rltui.ui.gpu import Gpu, GpuProbe
from rltui.ui.screens.charting import CHART_BINDINGS, ChartsMixin
from rltui.ui.screens.comparing import COMPARE_BINDINGS, CompareMixin
from rltui.ui.screens.control import CONTROL_BINDINGS, ControlMixin
from rltui.ui.screens.editing import EditingMixin
from rltui.ui.screens.help import HelpScreen
from rltui.ui.screens.trial_detail import TrialDetailScreen
from rltui.ui.screens.watching import WatchMixin
from rltui.ui.seeds import trial_seeds
from rltui.ui.widgets.charts import HistoryChart, ImportanceChart, ParamChart, RewardCurves
from rltui.ui.widgets.compare_view import CompareView
from rltui.ui.widgets.explorer import Explorer
from rltui.ui.widgets.log_view import LogView
from rltui.ui.widgets.problems import ProblemsView
from rltui.ui.widgets.status_bar import StatusBar
from rltui.ui.widgets.study_file import StudyFilePane
from rltui.ui.widgets.trial_table import TrialTable
from rltui.ui.widgets.workers_view import WorkersView

if TYPE_CHECKING:
    from rltui.ui.session import Session

POLL_INTERVAL = 0.5
SETTLE_AFTER = 3.0  # seconds after a study first shows
STATE_FILTERS: list[TrialStatus | None] = [None, *TrialStatus]


class SnapshotRead(Message):
    """The poller read the storage."""

    def __init__(self, session: Session, snapshot: Snapshot, gpus: list[Gpu] | None = None) -> None:
        super().__init__()
        self.session = session
        self.snapshot = snapshot
        self.gpus = gpus or []  # this machine's GPUs, probed on the same thread


class MainScreen(ControlMixin, EditingMixin, WatchMixin, ChartsMixin, CompareMixin, Screen[None]):
    """Everything the user works with; the App only opens studies and themes."""

    # The table has the focus from the start: focusing the explorer first (Textual's default)
    # and moving on would restyle the screen and rebuild the footer once more.
    AUTO_FOCUS = "#table"
    BINDINGS: ClassVar[list[BindingType]] = [
        *CONTROL_BINDINGS,
        Binding(
            "f",
            "cycle_state_filter",
            "State filter",
            tooltip="Show one state at a time",
            id="table.state_filter",
        ),
        Binding(
            "slash",
            "text_filter",
            "Filter",
            key_display="/",
            tooltip="Filter trials by text",
            id="table.text_filter",
        ),
        *CHART_BINDINGS,
        *COMPARE_BINDINGS,
        Binding(
            "ctrl+s",
            "save",
            "Save",
            tooltip="Save the study file; apply it when valid",
            id="editor.save",
            priority=True,
        ),
        Binding(
            "ctrl+b",
            "toggle_sidebar",
            "Sidebar",
            tooltip="Show or hide the sidebar",
            id="view.sidebar",
        ),
        Binding(
            "ctrl+j",
            "toggle_panel",
            "Panel",
            tooltip="Show or hide the bottom panel",
            id="view.panel",
        ),
        Binding(
            "1", "show_tab('trials')", "Trials", show=False, tooltip="Trials tab", id="view.trials"
        ),
        Binding(
            "2",
            "show_tab('study')",
            "Study file",
            show=False,
            tooltip="Study file tab",
            id="view.study",
        ),
        Binding(
            "3", "show_tab('charts')", "Charts", show=False, tooltip="Charts tab", id="view.charts"
        ),
        Binding(
            "4",
            "show_tab('compare')",
            "Compare",
            show=False,
            tooltip="Compare marked trials: logged columns side by side (Compare tab)",
            id="view.compare",
        ),
        Binding(
            "f1,question_mark",
            "help",
            "Help",
            key_display="F1",
            tooltip="Keys and help",
            id="app.help",
        ),
    ]

    def __init__(self, clock: Clock = datetime.now, poll_interval: float = POLL_INTERVAL) -> None:
        super().__init__()
        self.session: Session | None = None
        self.snapshot: Snapshot | None = None
        self.clock = clock
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._applied = threading.Event()
        self._sidebar_choice: bool | None = None
        self._panel_choice: bool | None = None
        self._init_charts()
        self._init_compare()
        self.gpu_probe = GpuProbe()
        self.gpus: list[Gpu] = []
        self._settled = False

    # Layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="workbench"):
            with Vertical(id="sidebar"):
                yield Explorer([Path.cwd(), Path.cwd() / "sample_studies"], id="explorer")
                yield WorkersView(clock=self.clock, id="workers")
            with Vertical(id="main"):
                with TabbedContent(id="tabs", initial="trials"):
                    with TabPane("Trials", id="trials"):
                        yield Input(
                            placeholder="filter: words to match (number, state, param=value)",
                            id="filter",
                        )
                        yield TrialTable(clock=self.clock, id="table")
                    with TabPane("Study file", id="study"):
                        yield StudyFilePane(id="study-file")
                    with TabPane("Charts", id="charts"), Grid(id="chart-grid"):
                        yield RewardCurves(id="top-curves")
                        yield HistoryChart(id="history")
                        yield ParamChart(id="param-chart")
                        yield ImportanceChart(id="importance")
                    with TabPane("Compare", id="compare"):
                        yield CompareView(id="compare-view")
                with TabbedContent(id="panel", initial="curves-tab"):
                    with TabPane("Curves", id="curves-tab"):
                        yield RewardCurves(id="curves")
                    with TabPane("Problems", id="problems-tab"):
                        yield ProblemsView(id="problems")
                    with TabPane("Log", id="log-tab"):
                        yield LogView(id="log")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self._fit(self.app.size.width, self.app.size.height)
        self.query_one(StatusBar).show_message(" rltui: opening the study…")

    def on_resize(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Collapse the sidebar and the bottom panel on small terminals, unless asked."""
        sidebar = self._sidebar_choice if self._sidebar_choice is not None else width >= 110
        panel = self._panel_choice if self._panel_choice is not None else height >= 30
        self.query_one("#sidebar").display = sidebar
        self.query_one("#sidebar").set_class(width >= 160, "-wide")  # room for host names
        self.query_one("#panel").display = panel

    @property
    def table(self) -> TrialTable:
        return self.query_one("#table", TrialTable)

    @property
    def workers_view(self) -> WorkersView:
        return self.query_one("#workers", WorkersView)

    @property
    def study_pane(self) -> StudyFilePane:
        return self.query_one("#study-file", StudyFilePane)

    # Studies and polling -----------------------------------------------------------

    def attach(self, session: Session) -> None:
        """Show ``session``'s study and start polling it."""
        self.session = session
        self.snapshot = None
        self._settled = False
        self.table.marked.clear()  # marks are trial numbers of the study left behind
        self.study_pane.session = session
        path = session.study_file
        shown = self.study_pane.path
        if path is not None and shown is not None and shown.resolve() == path:
            # Shown while the study opened, and perhaps edited since: keep the buffer, and
            # check it again now that the study's stored versions are known.
            self.study_pane.path = path
            self.study_pane.validate_now()
        else:
            text = session.study.text
            if path is not None and path.exists():
                text = path.read_text(encoding="utf-8")
            self.study_pane.load(path, text)
        self._applied.set()
        self._poll(session)

    def show_file(self, path: Path, text: str) -> None:
        """Show a study file that has no open study (e.g. it does not validate)."""
        self.study_pane.load(path, text)

    def wake_poller(self) -> None:
        self._wake.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll(self, session: Session) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled and session is self.session:
            try:
                snapshot = session.poll()
            except Exception as exc:  # the storage went away; say so and keep trying
                self.notify(f"cannot read the storage: {exc}", severity="error", timeout=4)
                self._wake.wait(2.0)
                continue
            self._applied.clear()
            self.post_message(SnapshotRead(session, snapshot, self.gpu_probe.read()))
            self._applied.wait(5.0)
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def on_unmount(self) -> None:
        self.session = None
        self._wake.set()
        self._applied.set()
        self.gpu_probe.close()

    def on_snapshot_read(self, event: SnapshotRead) -> None:
        try:
            if event.session is self.session:
                self.apply(event.snapshot, event.gpus)
        finally:
            self._applied.set()

    def apply(self, snapshot: Snapshot, gpus: list[Gpu] | None = None) -> None:
        """Bring every view up to date with ``snapshot`` (and the GPUs' use, when given)."""
        session = self.session
        assert session is not None
        previous, self.snapshot = self.snapshot, snapshot
        if gpus is not None:
            self.gpus = gpus
        with self.app.batch_update():
            self.table.apply(snapshot, self.app.current_theme)
            spec = session.study.spec
            self.query_one(StatusBar).show_study(
                study=session.name,
                storage=session.short_url,
                sampler=spec.sampler.type,
                pruner=spec.pruner.type,
                device=spec.device,
                snapshot=snapshot,
                gpus=self.gpus,
                width=self.app.size.width,
            )
            self.show_workers(session, snapshot)
            if previous is None or snapshot.changed:
                self._update_charts()  # only the trials' data feeds the charts
                self._update_compare()
        self.refresh_keys()
        self.announce_notes(session, snapshot)
        self._maybe_importance(session, snapshot)
        if not self._settled:
            self._settled = True
            # Once the study shows (and a big table has loaded), keep its objects out of
            # the garbage collector's full passes: see rltui.ui.memory.
            self.set_timer(SETTLE_AFTER, memory.settle)

    # Selection, detail, filters ------------------------------------------------------

    @on(DataTable.RowHighlighted, "#table")
    def _trial_highlighted(self) -> None:
        self.refresh_keys()
        self._update_charts()
        self._update_compare()  # with no trial marked, the selected one is compared
        self.follow_log()

    @on(DataTable.RowSelected, "#table")
    def _trial_selected(self) -> None:
        row = self.table.selected_row
        if row is None:
            return
        record = self.worker_of(row)
        log = Path(record.log) if record is not None and record.log else None
        session = self.session
        seeds = partial(trial_seeds, session, row) if session is not None else None
        self.app.push_screen(TrialDetailScreen(row, log, self.clock, seeds))

    @on(TrialTable.SortChanged)
    def _sorted(self, event: TrialTable.SortChanged) -> None:
        self.notify(
            f"sorted by {event.column.removeprefix('param:')}"
            f"{' (descending)' if event.reverse else ''}",
            timeout=2,
        )

    def action_cycle_state_filter(self) -> None:
        current = self.table.state_filter
        following = STATE_FILTERS[(STATE_FILTERS.index(current) + 1) % len(STATE_FILTERS)]
        self.table.set_filter(state=following)
        self.notify(f"showing {following.value if following else 'all'} trials", timeout=2)

    def action_text_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.query_one("#tabs", TabbedContent).active = "trials"
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(state=self.table.state_filter, text=event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.table.focus()
        self.notify(f"filter: {event.value!r}" if event.value else "filter cleared", timeout=2)

    # Views ----------------------------------------------------------------------

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        self._sidebar_choice = not sidebar.display
        sidebar.display = self._sidebar_choice
        self.notify(f"sidebar {'shown' if sidebar.display else 'hidden'}", timeout=2)

    def action_toggle_panel(self) -> None:
        panel = self.query_one("#panel")
        self._panel_choice = not panel.display
        panel.display = self._panel_choice
        self.notify(f"bottom panel {'shown' if panel.display else 'hidden'}", timeout=2)

    def action_show_tab(self, tab: str) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = tab
        # The charts have nothing to focus: the tab bar takes the focus (left/right switch
        # tabs). Left on a widget in another tab, the focus would bring that tab back as
        # soon as a dialog closes and hands it back.
        target = {"trials": self.table, "study": self.study_pane.editor}.get(tab)
        (target or tabs.query_one(Tabs)).focus()

    def action_help(self) -> None:
        self.app.push_screen(
            HelpScreen(
                [
                    ("main", list(self.BINDINGS)),
                    ("trial table", list(TrialTable.BINDINGS)),
                    ("workers", list(WorkersView.BINDINGS)),
                ]
            )
        )
