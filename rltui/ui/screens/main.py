"""The main window, VS Code's shape: sidebar, tabs, bottom panel, status bar, footer.

The screen is a router of self-contained panes (trials, study file, charts, compare, the
bottom panel's curves, problems, log and events, the explorer and the workers): each owns its
state, keys and CSS, gets the study snapshot from here, and posts messages up. What the
screen does beyond composing and routing is done by objects it owns and calls by name:
:class:`StudyPoller` reads the storage, :class:`StudyControls` carries out the study keys,
:class:`StudyNews` announces what the user did not ask for, :class:`Places` moves the focus,
and :class:`StudyFileStatus` keeps the Problems panel and the tab labels up to date.

One focus model. Every pane and tab has a key that works from anywhere (``alt+1`` … ``alt+9``,
``alt+0``; the plain digits too where no text is being typed), and ``escape`` always leaves
the editor or the filter line (:mod:`rltui.ui.screens.places`). The footer: the focused pane's keys.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, TabbedContent, TabPane, TextArea

from rltui.search.lifecycle import ControlAction
from rltui.search.reader import Snapshot, TrialRow
from rltui.search.workers import WorkerRecord
from rltui.spec.reading import read_study
from rltui.ui.display.cells import Clock
from rltui.ui.models import chart_data
from rltui.ui.screens.help import HelpScreen, window_keys
from rltui.ui.screens.places import VIEW_BINDINGS, Places, place_bindings
from rltui.ui.screens.poller import POLL_INTERVAL, SnapshotRead, StudyPoller
from rltui.ui.screens.study_controls import STUDY_BINDINGS, StudyControls
from rltui.ui.screens.study_file_status import StudyFileStatus
from rltui.ui.screens.study_news import StudyNews
from rltui.ui.services import memory, table_cache
from rltui.ui.services.gpu import Gpu
from rltui.ui.widgets.charts import RewardCurves
from rltui.ui.widgets.compare_pane import ComparePane
from rltui.ui.widgets.events_view import EventsView
from rltui.ui.widgets.explorer import Explorer
from rltui.ui.widgets.footer import KeysFooter
from rltui.ui.widgets.log_view import LogView
from rltui.ui.widgets.problems import ProblemsView
from rltui.ui.widgets.status_bar import StatusBar
from rltui.ui.widgets.study_file import StudyFilePane
from rltui.ui.widgets.tabs import PaneTabs
from rltui.ui.widgets.trial_table import TrialTable
from rltui.ui.widgets.trials_pane import TrialsPane
from rltui.ui.widgets.workers_view import WorkersView

if TYPE_CHECKING:
    from rltui.ui.services.session import Session
    from rltui.ui.widgets.charts_pane import ChartsPane

SETTLE_AFTER = 3.0  # seconds after a study first shows


class MainScreen(Screen[None]):
    """Everything the user works with; the App only opens studies and themes."""

    # The table has the focus from the start: focusing the explorer first (Textual's default)
    # and moving on would restyle the screen and rebuild the footer once more.
    AUTO_FOCUS = "#table"
    BINDINGS: ClassVar[list[BindingType]] = [*STUDY_BINDINGS, *place_bindings(), *VIEW_BINDINGS]

    def __init__(self, clock: Clock = datetime.now, poll_interval: float = POLL_INTERVAL) -> None:
        super().__init__()
        self.session: Session | None = None
        self.snapshot: Snapshot | None = None
        self.clock = clock
        self.gpus: list[Gpu] = []
        self.poller = StudyPoller(self, poll_interval)
        self.controls = StudyControls(self)
        self.news = StudyNews(self)
        self.places = Places(self)
        self.study_file_status = StudyFileStatus(self)
        self._settled = False
        self._charts_pane: ChartsPane | None = None
        self._not_opened = False  # the study could not be opened: kept rows stay, all of them

    # Layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="workbench"):
            with Vertical(id="sidebar"):
                yield Explorer([Path.cwd(), Path.cwd() / "sample_studies"], id="explorer")
                yield WorkersView(clock=self.clock, id="workers")
            with Vertical(id="main"):
                with PaneTabs(id="tabs", initial="trials"):
                    with TabPane("Trials", id="trials"):
                        yield TrialsPane(clock=self.clock, id="trials-pane")
                    with TabPane("Study file", id="study"):
                        yield StudyFilePane(id="study-file")
                    # Its pane is made when first shown, after the first frame (charts_pane).
                    yield TabPane("Charts", id="charts")
                    with TabPane("Compare", id="compare"):
                        yield ComparePane(id="compare-pane")
                with PaneTabs(id="panel", initial="curves-tab"):
                    with TabPane("Curves", id="curves-tab"):
                        curves = RewardCurves(id="curves")
                        curves.can_focus = True  # a place of its own (5): focus shows where
                        yield curves
                    with TabPane("Problems", id="problems-tab"):
                        yield ProblemsView(id="problems")
                    with TabPane("Log", id="log-tab"):
                        yield LogView(id="log")
                    with TabPane("Events", id="events-tab"):
                        yield EventsView(id="events")
        yield StatusBar(id="status")
        # Compact: at 80 columns the keys of the focused pane still fit.
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.places.fit()
        self.query_one(StatusBar).show_message(" rltui: opening the study…")

    def on_resize(self) -> None:
        self.places.fit()

    @property
    def trials_pane(self) -> TrialsPane:
        return self.query_one(TrialsPane)

    @property
    def table(self) -> TrialTable:
        return self.query_one("#table", TrialTable)

    @property
    def workers_view(self) -> WorkersView:
        return self.query_one("#workers", WorkersView)

    @property
    def study_pane(self) -> StudyFilePane:
        return self.query_one("#study-file", StudyFilePane)

    @property
    def charts_pane(self) -> ChartsPane:
        """The Charts tab's pane, made and mounted the first time it is wanted."""
        if self._charts_pane is None:
            from rltui.ui.widgets.charts_pane import ChartsPane

            self._charts_pane = ChartsPane(clock=self.clock, id="charts-pane")
            self.query_one("#charts", TabPane).mount(self._charts_pane)
            self._update_charts(self.session)  # drawn once it shows (ChartsPane.on_show)
        return self._charts_pane

    @property
    def compare_pane(self) -> ComparePane:
        return self.query_one(ComparePane)

    # Studies and snapshots ---------------------------------------------------------

    def attach(self, session: Session) -> None:
        """Show ``session``'s study and start polling it."""
        self.keep_table()  # of the study left behind, if any
        self.session = session
        self._not_opened = False
        self.snapshot = None
        # Every row of the table goes at the first read: those of the study left behind, or
        # kept from the last run (a study with the same parameters kept the others' rows).
        self.table.forget_rows()
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
                with contextlib.suppress(OSError, UnicodeDecodeError):  # the stored text, then
                    text = read_study(path)
            self.study_pane.load(path, text)
        self.poller.start(session)

    def show_file(self, path: Path, text: str) -> None:
        """Show a study file that has no open study (e.g. it does not validate)."""
        self.study_pane.load(path, text)

    def wake_poller(self) -> None:
        self.poller.wake()

    def on_unmount(self) -> None:
        self.keep_table()
        self.session = None
        self.poller.stop()

    # The table kept for the next start (rltui.ui.services.table_cache) -----------------

    def show_kept(self, kept: Snapshot) -> None:
        """Show the rows the window last showed, until the study's own come."""
        if self.session is not None:
            return  # the study is open: its own rows are on their way, or here
        self.trials_pane.apply(
            kept, self.app.current_theme, kept.direction.name == "MAXIMIZE", kept=True
        )
        if self._not_opened:
            self.table.load_rest()

    def not_opened(self) -> None:
        """The study could not be opened: kept rows are all there is to show."""
        self._not_opened = True
        self.table.load_rest()

    def keep_table(self) -> None:
        """Keep the table of the study shown for the window's next start."""
        session, snapshot = self.session, self.snapshot
        if session is None or snapshot is None:
            return
        path = table_cache.cache_file(session.study_file, session.url, session.name)
        if path is not None:
            table_cache.save(path, snapshot)

    def on_snapshot_read(self, event: SnapshotRead) -> None:
        try:
            if event.session is self.session:
                self.apply(event.snapshot, event.gpus)
        finally:
            self.poller.applied()

    def apply(self, snapshot: Snapshot, gpus: list[Gpu] | None = None) -> None:
        """Bring every view up to date with ``snapshot`` (and the GPUs' use, when given)."""
        session = self.session
        assert session is not None
        previous, self.snapshot = self.snapshot, snapshot
        if gpus is not None:
            self.gpus = gpus
        spec = session.study.spec
        with self.app.batch_update():
            self.trials_pane.apply(
                snapshot, self.app.current_theme, spec.directions[0] == "maximize"
            )
            self.query_one(StatusBar).show_study(
                study=session.name,
                storage=session.short_url,
                spec=spec,
                snapshot=snapshot,
                gpus=self.gpus,
                width=self.app.size.width,
            )
            self.workers_view.show(
                snapshot.workers, spec.control.heartbeat_interval, session.launches, self.gpus
            )
            if previous is None or snapshot.changed:
                self._update_charts(session)  # only the trials' data feeds the charts
        self.controls.refresh_keys()
        self.news.announce(previous, snapshot, session)
        if not self._settled:
            self._settled = True
            # Once the study shows (and a big table has loaded), keep its objects out of
            # the garbage collector's full passes: see rltui.ui.services.memory.
            self.set_timer(SETTLE_AFTER, memory.settle)

    def _update_charts(self, session: Session | None = None) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        selected = self.table.selected_number
        self.query_one("#curves", RewardCurves).set_data(chart_data.curves(snapshot, 0, selected))
        if self._charts_pane is not None:  # made when the Charts tab first shows
            space = self.session.study.space if self.session else None
            self._charts_pane.show(snapshot, space, selected, session)
        self.compare_pane.show(self.session, snapshot, self.table.marked, selected)

    # Selection, detail, workers ------------------------------------------------------

    def worker_of(self, row: TrialRow | None) -> WorkerRecord | None:
        """The record of the worker that runs (or last ran) ``row``'s trial."""
        if row is None or not row.worker or self.snapshot is None:
            return None
        return next((w for w in self.snapshot.workers if w.id == row.worker), None)

    @on(DataTable.RowHighlighted, "#table")
    def _trial_highlighted(self) -> None:
        self.controls.refresh_keys()
        snapshot = self.snapshot
        selected = self.table.selected_number
        if snapshot is not None:
            self.query_one("#curves", RewardCurves).set_data(
                chart_data.curves(snapshot, 0, selected)
            )
        if self._charts_pane is not None:
            self._charts_pane.select(selected)
        # With no trial marked, the selected one is compared.
        self.compare_pane.show(self.session, snapshot, self.table.marked, selected)
        # The log panel follows the selected trial's worker.
        row = self.table.selected_row
        self.query_one(LogView).follow_trial(self.worker_of(row), row.number if row else None)

    @on(DataTable.RowSelected, "#table")
    def _trial_selected(self) -> None:
        row = self.table.selected_row
        if row is None:
            return
        # Loaded when first opened, as the other screens a key opens: not on the first paint.
        from rltui.ui.models.seeds import trial_seeds
        from rltui.ui.screens.trial_detail import TrialDetailScreen

        record = self.worker_of(row)
        log = Path(record.log) if record is not None and record.log else None
        session = self.session
        seeds = partial(trial_seeds, session, row) if session is not None else None
        self.app.push_screen(TrialDetailScreen(row, log, self.clock, seeds))

    def on_workers_view_worker_chosen(self, event: WorkersView.WorkerChosen) -> None:
        from rltui.ui.screens.worker_detail import WorkerDetailScreen

        self.app.push_screen(WorkerDetailScreen(event.record, self.clock, event.late))

    def on_trial_table_marks_changed(self, event: TrialTable.MarksChanged) -> None:
        self.controls.refresh_keys()  # the trials pane acknowledged the marks
        self.compare_pane.show(
            self.session, self.snapshot, event.marked, self.table.selected_number
        )

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "tabs" and event.pane.id == "charts":
            _ = self.charts_pane  # made the first time it shows
        if event.tabbed_content.id == "tabs" and event.pane.id == "compare":
            self.compare_pane.show(
                self.session,
                self.snapshot,
                self.table.marked,
                self.table.selected_number,
                force=True,
            )

    # The study file ---------------------------------------------------------------

    def on_study_file_pane_checked(self, event: StudyFilePane.Checked) -> None:
        self.study_file_status.checked(event.check)

    def on_study_file_pane_modified_changed(self, event: StudyFilePane.ModifiedChanged) -> None:
        self.study_file_status.modified(event.modified)

    def on_study_file_pane_saved(self, event: StudyFilePane.Saved) -> None:
        self.study_file_status.saved(event)
        explorer = self.query_one(Explorer)
        if event.written and not explorer.lists(event.path):  # a new file: list it
            explorer.rescan()

    def on_study_file_pane_applied(self, event: StudyFilePane.Applied) -> None:
        self.study_file_status.applied(event)

    def on_problems_view_problem_chosen(self, event: ProblemsView.ProblemChosen) -> None:
        self.action_go("study")
        if event.problem.line:
            self.study_pane.editor.jump_to(event.problem.line, event.problem.column)

    # Study keys: carried out by self.controls --------------------------------------

    def why_not(self, action: str) -> str | None:
        """None when ``action`` applies now, else why not (the palette says it)."""
        return self.controls.why_not(action)

    def action_pause(self) -> None:
        self.controls.control(ControlAction.PAUSE)

    def action_resume(self) -> None:
        self.controls.control(ControlAction.RESUME)

    def action_prune(self) -> None:
        self.controls.control(ControlAction.PRUNE)

    def action_kill(self) -> None:
        self.controls.kill()

    def action_enqueue(self) -> None:
        self.controls.enqueue()

    def action_start_worker(self) -> None:
        self.controls.start_worker()

    def action_drain_worker(self) -> None:
        self.controls.drain_worker()

    def action_drain(self) -> None:
        self.controls.toggle_drain()

    def action_resume_all(self) -> None:
        self.controls.resume_all()

    def action_population(self) -> None:
        self.controls.population()

    def action_next_theme(self) -> None:
        self.controls.next_theme()

    def action_quit_rltui(self) -> None:
        self.controls.quit()

    # Focus and views ----------------------------------------------------------------

    def typing(self) -> bool:
        """Whether the focused widget takes text (the editor, the filter line)."""
        return isinstance(self.focused, Input | TextArea)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "place":
            return not self.typing()  # a digit typed in the editor is text
        if action == "leave":
            return self.typing()
        if action in ("help", "toggle_sidebar", "toggle_panel"):
            return True
        if action == "clear_marks":
            return True if self.table.marked else None
        return self.controls.check(action)

    def action_go(self, where: str) -> None:
        self.places.go(where)

    def action_place(self, where: str) -> None:
        self.places.go(where)

    def action_leave(self) -> None:
        self.places.leave()

    def action_clear_marks(self) -> None:
        self.table.clear_marks()

    def action_toggle_sidebar(self) -> None:
        self.places.toggle_sidebar()

    def action_toggle_panel(self) -> None:
        self.places.toggle_panel()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(window_keys(self.BINDINGS)))
