"""The Compare tab as a pane: the marked trials' logged columns side by side, and the picker of
those columns.

Logs are read on a thread (``metrics.compare``, through a cache that re-parses a file only when
it changed), only while the pane shows, and again only when the compared trials, the chosen
columns, or those trials' data in the storage changed.
"""

from __future__ import annotations

from collections.abc import Set
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message

from rltui.ui.models import metrics

if TYPE_CHECKING:
    from rltui.search.reader import Snapshot
    from rltui.search.study import SpecVersions
    from rltui.ui.services.session import Session
    from rltui.ui.widgets.compare_view import CompareView


class ComparisonRead(Message):
    """The compared trials' logs were read."""

    def __init__(self, comparison: metrics.Comparison) -> None:
        super().__init__()
        self.comparison = comparison


class ComparePane(Vertical, can_focus=True):
    """Shows :class:`CompareView` for what the screen says is compared."""

    DEFAULT_CSS = """
    ComparePane { height: 1fr; }
    ComparePane:focus { background-tint: $primary 4%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "m",
            "pick_columns",
            "Columns",
            tooltip="Compare: choose the logged columns (reward, losses, approx_kl, …)",
            id="compare.columns",
        ),
        Binding(
            "u",
            "screen.clear_marks",
            "Unmark all",
            tooltip="Clear marks: unmark every trial marked for comparison",
            id="compare.unmark",
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: tuple[str, ...] = ()  # chosen in the picker; empty: defaults
        self.comparison: metrics.Comparison | None = None
        self.session: Session | None = None
        self.snapshot: Snapshot | None = None
        self.marked: frozenset[int] = frozenset()
        self.selected: int | None = None
        self._logs = metrics.LogCache()
        self._key: tuple[metrics.Target, tuple[str, ...]] | None = None
        self._read_snapshot: Snapshot | None = None
        self._pick_when_read = False
        self._specs: tuple[Session, SpecVersions] | None = None
        self._view: CompareView | None = None

    def compose(self) -> ComposeResult:
        # Nothing yet: the view (a legend and six charts) is made the first time it is
        # wanted, which keeps it off the window's first frame.
        yield from ()

    def on_show(self) -> None:
        _ = self.view

    @property
    def view(self) -> CompareView:
        """The comparison view, made and mounted the first time it is wanted; what it is
        shown before it is mounted is drawn when it is."""
        if self._view is None:
            from rltui.ui.widgets.compare_view import CompareView

            self._view = CompareView(id="compare-view")
            self.mount(self._view)
        return self._view

    def show(
        self,
        session: Session | None,
        snapshot: Snapshot | None,
        marked: Set[int],
        selected: int | None,
        *,
        force: bool = False,
    ) -> None:
        """Compare ``marked`` (or ``selected`` and the best); reads logs only while visible."""
        if session is not self.session:
            self._specs = None
        self.session, self.snapshot = session, snapshot
        self.marked, self.selected = frozenset(marked), selected
        self._update(force)

    def target(self) -> metrics.Target:
        snap = self.snapshot
        best = snap.best if snap is not None else None
        label = (
            f"front, best {snap.objective_label(0)}" if snap and snap.multi_objective else "best"
        )
        return metrics.target(self.marked, self.selected, best.number if best else None, label)

    def _update(self, force: bool = False) -> None:
        session = self.session
        if session is None or not (force or self.is_on_screen):
            return
        wanted = self.target()
        key = (wanted, self.columns)
        snapshot = self.snapshot
        touched = (
            snapshot is not None
            and snapshot is not self._read_snapshot
            and not snapshot.changed.isdisjoint(wanted.numbers)
        )
        if not force and key == self._key and not touched:
            return
        self._key, self._read_snapshot = key, snapshot
        rows = snapshot.rows if snapshot is not None else {}
        versions = {n: rows[n].spec_version for n in wanted.numbers if n in rows}
        self._read(session, wanted, self.columns, versions)

    @property
    def is_on_screen(self) -> bool:
        return self.display and self.region.area > 0

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare")
    def _read(
        self,
        session: Session,
        wanted: metrics.Target,
        columns: tuple[str, ...],
        versions: dict[int, int | None],
    ) -> None:
        specs = self._spec_versions(session)
        # Per-seed columns are named by each trial's own train.seeds (see progress_rows).
        seeds = {n: specs.of(v).spec.train.seeds or () for n, v in versions.items()}
        comparison = metrics.compare(session.trials_dir, wanted, columns, self._logs, seeds)
        self.post_message(ComparisonRead(comparison))

    def _spec_versions(self, session: Session) -> SpecVersions:
        """The study file versions of ``session``'s trials, each read once."""
        from rltui.search.study import SpecVersions  # loads Optuna: not for the first paint

        held = self._specs
        if held is None or held[0] is not session:
            held = self._specs = (session, SpecVersions(session.ostudy, session.study))
        return held[1]

    def on_comparison_read(self, event: ComparisonRead) -> None:
        event.stop()
        comparison = event.comparison
        if (comparison.target, comparison.columns) != self._key:
            return  # the user moved on meanwhile; a newer read is on its way
        self.comparison = comparison
        rows = self.snapshot.rows if self.snapshot is not None else {}
        params = {n: rows[n].params for n in comparison.target.numbers if n in rows}
        self.view.show(comparison, params)
        if self._pick_when_read:
            self._pick_when_read = False
            self._open_picker(comparison)

    def action_pick_columns(self) -> None:
        comparison = self.comparison
        if comparison is not None and (comparison.target, comparison.columns) == (
            self.target(),
            self.columns,
        ):
            self._open_picker(comparison)
        else:
            self._pick_when_read = True
            self._update(force=True)

    def _open_picker(self, comparison: metrics.Comparison) -> None:
        if not comparison.available:
            trials = " ".join(f"#{n}" for n in comparison.target.numbers) or "these trials"
            where = f" in {self.session.trials_dir}" if self.session is not None else ""
            self.notify(
                f"no training logs (progress.jsonl) for {trials}{where} yet; a trial trained on "
                "another host keeps its log there: set control.checkpoint_dir to a folder both "
                "hosts share",
                severity="warning",
                timeout=8,
            )
            return

        # Loaded on first use: SelectionList is not needed for the first paint.
        from rltui.ui.screens.column_picker import ColumnPicker

        def chosen(columns: tuple[str, ...] | None) -> None:
            if columns is None:
                return
            self.columns = columns
            self._update(force=True)
            self.notify(f"comparing {', '.join(columns) or 'the default columns'}", timeout=2)

        self.app.push_screen(ColumnPicker(comparison.available, comparison.shown), chosen)
