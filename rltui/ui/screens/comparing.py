"""The main screen's comparison view: trials marked in the table, their logged columns side by
side in the Compare tab, and the picker of those columns.

Logs are read on a thread (``metrics.compare``, through a cache that re-parses a file only when
it changed), only while the Compare tab shows, and again only when the compared trials, the
chosen columns, or those trials' data in the storage changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TabbedContent

from rltui.ui import metrics
from rltui.ui.screens.host import MainScreenHost
from rltui.ui.widgets.compare_view import CompareView
from rltui.ui.widgets.trial_table import TrialTable

if TYPE_CHECKING:
    from rltui.export import SpecVersions
    from rltui.search.reader import Snapshot
    from rltui.ui.session import Session

COMPARE_BINDINGS = [
    Binding(
        "m",
        "pick_columns",
        "Columns",
        show=False,
        tooltip="Compare: choose the logged columns (reward, losses, approx_kl, …)",
        id="compare.columns",
    ),
    Binding(
        "u",
        "clear_marks",
        "Unmark all",
        show=False,
        tooltip="Clear marks: unmark every trial marked for comparison",
        id="compare.unmark",
    ),
]


class ComparisonRead(Message):
    """The compared trials' logs were read."""

    def __init__(self, comparison: metrics.Comparison) -> None:
        super().__init__()
        self.comparison = comparison


class CompareMixin(MainScreenHost):
    """Mixed into the main screen, which provides the snapshot, the session and the table."""

    def _init_compare(self) -> None:
        self.compare_columns: tuple[str, ...] = ()  # chosen in the picker; empty: defaults
        self.comparison: metrics.Comparison | None = None
        self._compare_logs = metrics.LogCache()
        self._compare_key: tuple[metrics.Target, tuple[str, ...]] | None = None
        self._compare_snapshot: Snapshot | None = None
        self._pick_when_read = False
        self._specs: tuple[Session, SpecVersions] | None = None

    @property
    def compare_view(self) -> CompareView:
        return self.query_one("#compare-view", CompareView)

    def compare_target(self) -> metrics.Target:
        best = self.snapshot.best if self.snapshot is not None else None
        return metrics.target(
            self.table.marked, self.table.selected_number, best.number if best else None
        )

    def _update_compare(self, force: bool = False) -> None:
        """Read the compared trials' logs again if the Compare tab shows and they may differ."""
        session = self.session
        if session is None or not (force or self._compare_showing()):
            return
        wanted = self.compare_target()
        key = (wanted, self.compare_columns)
        snapshot = self.snapshot
        touched = (
            snapshot is not None
            and snapshot is not self._compare_snapshot
            and not snapshot.changed.isdisjoint(wanted.numbers)
        )
        if not force and key == self._compare_key and not touched:
            return
        self._compare_key, self._compare_snapshot = key, snapshot
        rows = snapshot.rows if snapshot is not None else {}
        versions = {n: rows[n].spec_version for n in wanted.numbers if n in rows}
        self._read_comparison(session, wanted, self.compare_columns, versions)

    def _compare_showing(self) -> bool:
        return bool(self.query_one("#tabs", TabbedContent).active == "compare")

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare")
    def _read_comparison(
        self,
        session: Session,
        wanted: metrics.Target,
        columns: tuple[str, ...],
        versions: dict[int, int | None],
    ) -> None:
        specs = self._spec_versions(session)
        # Per-seed columns are named by each trial's own train.seeds (see export.progress_rows).
        seeds = {n: specs.of(v).spec.train.seeds or () for n, v in versions.items()}
        comparison = metrics.compare(session.trials_dir, wanted, columns, self._compare_logs, seeds)
        self.post_message(ComparisonRead(comparison))

    def _spec_versions(self, session: Session) -> SpecVersions:
        """The study file versions of ``session``'s trials, each read once."""
        from rltui.export import SpecVersions

        held = self._specs
        if held is None or held[0] is not session:
            held = self._specs = (session, SpecVersions(session.ostudy, session.study))
        return held[1]

    def on_comparison_read(self, event: ComparisonRead) -> None:
        comparison = event.comparison
        if (comparison.target, comparison.columns) != self._compare_key:
            return  # the user moved on meanwhile; a newer read is on its way
        self.comparison = comparison
        self.compare_view.show(comparison)
        if self._pick_when_read:
            self._pick_when_read = False
            self._open_picker(comparison)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "tabs" and event.pane.id == "compare":
            self._update_compare(force=True)

    def on_trial_table_marks_changed(self, event: TrialTable.MarksChanged) -> None:
        marked = sorted(event.marked)
        if event.number is None:
            self.notify("marks cleared: comparing the selected trial with the best", timeout=2)
        else:
            done = "marked" if event.number in event.marked else "unmarked"
            listed = " ".join(f"#{n}" for n in marked) or "none marked"
            self.notify(f"trial {event.number} {done} ({listed}); 4 compares", timeout=2)
        self.refresh_keys()
        self._update_compare()

    # Actions --------------------------------------------------------------------

    def action_pick_columns(self) -> None:
        self.action_show_tab("compare")
        comparison = self.comparison
        current = (self.compare_target(), self.compare_columns)
        if comparison is not None and (comparison.target, comparison.columns) == current:
            self._open_picker(comparison)
        else:
            self._pick_when_read = True
            self._update_compare(force=True)

    def _open_picker(self, comparison: metrics.Comparison) -> None:
        if not comparison.available:
            trials = " ".join(f"#{n}" for n in comparison.target.numbers) or "these trials"
            self.notify(f"no training logs (progress.jsonl) for {trials} yet", severity="warning")
            return

        # Loaded on first use: SelectionList is not needed for the first paint.
        from rltui.ui.screens.column_picker import ColumnPicker

        def chosen(columns: tuple[str, ...] | None) -> None:
            if columns is None:
                return
            self.compare_columns = columns
            self._update_compare(force=True)
            self.notify(f"comparing {', '.join(columns) or 'the default columns'}", timeout=2)

        self.app.push_screen(ColumnPicker(comparison.available, comparison.shown), chosen)

    def action_clear_marks(self) -> None:
        self.table.clear_marks()
