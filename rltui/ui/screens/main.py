"""The main window, VS Code's shape: sidebar, tabs, bottom panel, status bar, footer.

The screen is a router of self-contained panes (trials, study file, charts, compare, the
bottom panel's curves, problems, log and events, the explorer and the workers): each owns its
state, keys and CSS, gets the study snapshot from here, and posts messages up.

One focus model. Every pane and tab has a key that works from anywhere (``alt+1`` … ``alt+9``,
``alt+0``; the plain digits too where no text is being typed), and ``escape`` always leaves
the editor or the filter line. These are priority bindings: the app decides them in its own
queue, in the order the keys were typed, before it hands the next key to a widget, so a
burst such as ``escape 1 p`` (SSH typeahead) lands where the user meant each key. The footer
shows the keys of the focused pane and the screen's own.

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
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, TabbedContent, TabPane, Tabs, TextArea
from textual.worker import get_current_worker

from rltui.search.events import events_between
from rltui.search.reader import Snapshot
from rltui.ui import chart_data, memory
from rltui.ui.cells import Clock
from rltui.ui.gpu import Gpu, GpuProbe
from rltui.ui.screens.control import STUDY_BINDINGS, ControlMixin
from rltui.ui.screens.help import HelpScreen
from rltui.ui.screens.places import PANEL_TABS, place_bindings
from rltui.ui.screens.trial_detail import TrialDetailScreen
from rltui.ui.screens.watching import WatchMixin
from rltui.ui.seeds import trial_seeds
from rltui.ui.widgets.charts import RewardCurves
from rltui.ui.widgets.charts_pane import ChartsPane
from rltui.ui.widgets.compare_pane import ComparePane
from rltui.ui.widgets.editor import StudyEditor
from rltui.ui.widgets.events_view import EventsView
from rltui.ui.widgets.explorer import Explorer
from rltui.ui.widgets.log_view import LogView
from rltui.ui.widgets.problems import ProblemsView
from rltui.ui.widgets.status_bar import StatusBar
from rltui.ui.widgets.study_file import StudyFilePane
from rltui.ui.widgets.tabs import PaneTabs
from rltui.ui.widgets.trial_table import TrialTable
from rltui.ui.widgets.trials_pane import TrialsPane
from rltui.ui.widgets.workers_view import WorkersView

if TYPE_CHECKING:
    from rltui.ui.session import Session

POLL_INTERVAL = 0.5
SETTLE_AFTER = 3.0  # seconds after a study first shows


class SnapshotRead(Message):
    """The poller read the storage."""

    def __init__(self, session: Session, snapshot: Snapshot, gpus: list[Gpu] | None = None) -> None:
        super().__init__()
        self.session = session
        self.snapshot = snapshot
        self.gpus = gpus or []  # this machine's GPUs, probed on the same thread


class MainScreen(ControlMixin, WatchMixin, Screen[None]):
    """Everything the user works with; the App only opens studies and themes."""

    # The table has the focus from the start: focusing the explorer first (Textual's default)
    # and moving on would restyle the screen and rebuild the footer once more.
    AUTO_FOCUS = "#table"
    BINDINGS: ClassVar[list[BindingType]] = [
        *STUDY_BINDINGS,
        *place_bindings(),
        Binding(
            "escape",
            "leave",
            "Leave",
            show=False,
            tooltip="Leave the editor or the filter line",
            id="view.leave",
            priority=True,
        ),
        Binding(
            "ctrl+b",
            "toggle_sidebar",
            "Sidebar",
            show=False,
            tooltip="Show or hide the sidebar",
            id="view.sidebar",
        ),
        Binding(
            "ctrl+j",
            "toggle_panel",
            "Panel",
            show=False,
            tooltip="Show or hide the bottom panel",
            id="view.panel",
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
        self.gpu_probe = GpuProbe()
        self.gpus: list[Gpu] = []
        self._settled = False
        self._problem_count = 0  # the study file tab's label: problems, unsaved edits
        self._buffer_modified = False

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
                    with TabPane("Charts", id="charts"):
                        yield ChartsPane(id="charts-pane")
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
        yield Footer(compact=True)

    def on_mount(self) -> None:
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
        return self.query_one(ChartsPane)

    @property
    def compare_pane(self) -> ComparePane:
        return self.query_one(ComparePane)

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
        spec = session.study.spec
        with self.app.batch_update():
            self.trials_pane.apply(snapshot, self.app.current_theme, spec.direction == "maximize")
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
                self._update_charts(session)  # only the trials' data feeds the charts
        self.refresh_keys()
        self.announce_notes(session, snapshot)
        self._announce_events(previous, snapshot, session)
        if not self._settled:
            self._settled = True
            # Once the study shows (and a big table has loaded), keep its objects out of
            # the garbage collector's full passes: see rltui.ui.memory.
            self.set_timer(SETTLE_AFTER, memory.settle)

    def _update_charts(self, session: Session | None = None) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        selected = self.table.selected_number
        self.query_one("#curves", RewardCurves).set_data(chart_data.curves(snapshot, 0, selected))
        space = self.session.study.space if self.session else None
        self.charts_pane.show(snapshot, space, selected, session)
        self.compare_pane.show(self.session, snapshot, self.table.marked, selected)

    def _announce_events(
        self, previous: Snapshot | None, snapshot: Snapshot, session: Session
    ) -> None:
        """What happened that the user did not ask for: once as a notification, and kept
        in the Events tab."""
        events = events_between(previous, snapshot, session.study.n_trials)
        if not events:
            return
        self.query_one(EventsView).add(events)
        for event in events:
            self.notify(event.text, title=event.title, severity=event.severity, timeout=8)

    # Selection, detail ------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#table")
    def _trial_highlighted(self) -> None:
        self.refresh_keys()
        snapshot = self.snapshot
        selected = self.table.selected_number
        if snapshot is not None:
            self.query_one("#curves", RewardCurves).set_data(
                chart_data.curves(snapshot, 0, selected)
            )
        self.charts_pane.select(selected)
        # With no trial marked, the selected one is compared.
        self.compare_pane.show(self.session, snapshot, self.table.marked, selected)
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

    def on_trial_table_marks_changed(self, event: TrialTable.MarksChanged) -> None:
        marked = sorted(event.marked)
        if event.number is None:
            self.notify("marks cleared: comparing the selected trial with the best", timeout=2)
        else:
            done = "marked" if event.number in event.marked else "unmarked"
            listed = " ".join(f"#{n}" for n in marked) or "none marked"
            self.notify(f"trial {event.number} {done} ({listed}); 4 compares", timeout=2)
        self.refresh_keys()
        self.compare_pane.show(
            self.session, self.snapshot, event.marked, self.table.selected_number
        )

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
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
        check = event.check
        note = None
        if check.incompatible:
            note = "Optuna would refuse this edit in the running study (not applied on save):"
        elif check.renamed:
            note = (
                f"'name' changed to '{check.renamed}': saving makes a new study file, "
                "not a new version"
            )
        self.query_one(ProblemsView).show(check.all_problems, note)
        count = len(check.errors) + len(check.incompatible)
        self._label_study_tab(problems=count)
        self.query_one("#panel", TabbedContent).get_tab("problems-tab").label = (
            f"Problems {count}" if count else "Problems"
        )

    def on_study_file_pane_modified_changed(self, event: StudyFilePane.ModifiedChanged) -> None:
        self._label_study_tab(modified=event.modified)

    def _label_study_tab(
        self, *, problems: int | None = None, modified: bool | None = None
    ) -> None:
        """``Study file ● ✗2``: ● while the buffer has unsaved edits, ✗ and the count of
        problems."""
        if problems is not None:
            self._problem_count = problems
        if modified is not None:
            self._buffer_modified = modified
        label = "Study file"
        if self._buffer_modified:
            label += " ●"
        if self._problem_count:
            label += f" ✗{self._problem_count}"
        self.query_one("#tabs", TabbedContent).get_tab("study").label = label

    def on_study_file_pane_saved(self, event: StudyFilePane.Saved) -> None:
        good = event.written and not event.note.startswith("saved to disk, not applied")
        if event.note:
            self.notify(
                event.note,
                title=str(event.path.name),
                severity="information" if good else "warning",
                timeout=6,
            )
        if self.session is None and event.written and event.check.study is not None:
            # The study could not be opened before (a storage key being fixed, say): the
            # saved file is another try.
            self.app.open_study(event.path, self.app.storage_url, None)

    def on_study_file_pane_applied(self, event: StudyFilePane.Applied) -> None:
        self.notify(event.note, timeout=6)
        self.wake_poller()

    def on_problems_view_problem_chosen(self, event: ProblemsView.ProblemChosen) -> None:
        self.action_go("study")
        if event.problem.line:
            self.study_pane.editor.jump_to(event.problem.line, event.problem.column)

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
        return super().check_action(action, parameters)

    def action_go(self, where: str) -> None:
        """Show the tab or pane ``where`` and give it the focus (see :data:`PLACES`)."""
        if where in PANEL_TABS:
            panel = self.query_one("#panel", TabbedContent)
            if not panel.display:
                panel.display = self._panel_choice = True
            panel.active = where
            target: Widget = panel.get_pane(where).children[0]
        elif where in ("workers", "explorer"):
            sidebar = self.query_one("#sidebar")
            if not sidebar.display:
                sidebar.display = self._sidebar_choice = True
            target = self.query_one(f"#{where}")
        else:
            tabs = self.query_one("#tabs", TabbedContent)
            tabs.active = where
            target = {
                "trials": self.table,
                "study": self.study_pane.editor,
                "charts": self.charts_pane,
                "compare": self.compare_pane,
            }[where]
        self.set_focus(target)

    def action_place(self, where: str) -> None:
        self.action_go(where)

    def action_show_tab(self, tab: str) -> None:
        self.action_go(tab)

    def action_leave(self) -> None:
        """Escape: out of the editor to its tab bar, out of the filter line to the table."""
        focused = self.focused
        if isinstance(focused, Input):
            self.trials_pane.leave_filter()
        elif isinstance(focused, TextArea):
            self.set_focus(self.query_one("#tabs", TabbedContent).query_one(Tabs))

    def action_clear_marks(self) -> None:
        self.table.clear_marks()

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

    def action_help(self) -> None:
        self.app.push_screen(
            HelpScreen(
                [
                    ("anywhere", list(self.BINDINGS)),
                    ("trials", [*TrialsPane.BINDINGS, *TrialTable.BINDINGS]),
                    ("study file", [*StudyEditor.BINDINGS, *StudyFilePane.BINDINGS]),
                    ("charts", list(ChartsPane.BINDINGS)),
                    ("compare", list(ComparePane.BINDINGS)),
                    ("workers", list(WorkersView.BINDINGS)),
                ]
            )
        )
