"""The Charts tab as a pane: reward curves, optimisation history, parameter vs value, and a
view picked with ``v`` (parameter importance, parallel coordinates, EDF, rank, timeline), with
its own keys.

The screen hands it each snapshot (``show``) and the selected trial; the pane decides what to
redraw. Chart data is computed from the snapshot on the UI thread (cheap: downsampled to the
widget width; the picked view's data only, again only when the rows changed); parameter
importance is computed on a thread, only when the finished trials changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.widgets import ContentSwitcher

from rltui.search.reader import Snapshot
from rltui.ui.display.cells import Clock
from rltui.ui.models import chart_data, views
from rltui.ui.widgets.charts import ChartView, HistoryChart, ParamChart, RewardCurves
from rltui.ui.widgets.view_charts import (
    EdfChart,
    ImportanceView,
    ParallelChart,
    RankChart,
    TimelineChart,
)

if TYPE_CHECKING:
    from rltui.spec import SearchSpace
    from rltui.ui.services.session import Session


class ChartsPane(Grid, can_focus=True):
    """Four charts in a grid; focusable so that its keys show in the footer."""

    DEFAULT_CSS = """
    ChartsPane { grid-size: 2 2; grid-gutter: 0 1; height: 1fr; }
    ChartsPane:focus { background-tint: $primary 4%; }
    ChartsPane > ContentSwitcher { width: 1fr; height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "c",
            "cycle_curves",
            "Curves",
            tooltip="Reward curves: selected+running / top k / running / all",
            id="charts.curves",
        ),
        Binding(
            "n",
            "next_param",
            "Next param",
            tooltip="Parameter chart: the next parameter",
            id="charts.param",
        ),
        Binding(
            "v",
            "next_view",
            "View",
            tooltip="Bottom-right chart: importance / parallel / EDF / rank / timeline",
            id="charts.view",
        ),
    ]
    # The bottom-right chart of each view, by the view's name in ``views.VIEWS``.
    VIEW_IDS: ClassVar[tuple[str, ...]] = (
        "importance",
        "view-parallel",
        "view-edf",
        "view-rank",
        "view-timeline",
    )

    def __init__(self, *, clock: Clock = datetime.now, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock  # the timeline's "now": the screen's, fixed in tests
        self.curve_mode = 1
        self.param_index = 0
        self.snapshot: Snapshot | None = None
        self.space: SearchSpace | None = None
        self.selected: int | None = None
        self.view_index = 0
        self._importance_key: tuple[int, int] | None = None
        self._view_key: tuple[Any, ...] | None = None
        self._view_basis: tuple[object, object] | None = None

    def compose(self) -> ComposeResult:
        yield RewardCurves(id="top-curves")
        yield HistoryChart(id="history")
        yield ParamChart(id="param-chart")
        with ContentSwitcher(initial=self.VIEW_IDS[0]):
            yield ImportanceView(id=self.VIEW_IDS[0])
            yield ParallelChart(id=self.VIEW_IDS[1])
            yield EdfChart(id=self.VIEW_IDS[2])
            yield RankChart(id=self.VIEW_IDS[3])
            yield TimelineChart(id=self.VIEW_IDS[4])

    def show(
        self,
        snapshot: Snapshot,
        space: SearchSpace | None,
        selected: int | None,
        session: Session | None = None,
    ) -> None:
        """Chart ``snapshot``; importance is recomputed (on a thread) when ``session`` is given
        and its finished trials changed."""
        self.snapshot, self.space, self.selected = snapshot, space, selected
        self._redraw()
        if session is not None:
            key = chart_data.importance_key(snapshot)
            if key != self._importance_key and key[0] >= 2:
                self._importance_key = key
                self._importance(session, snapshot)

    def select(self, selected: int | None) -> None:
        """The selected trial changed: its curve is drawn in the curve modes that follow it."""
        if selected != self.selected:
            self.selected = selected
            self._redraw()

    def _redraw(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        self.query_one("#top-curves", RewardCurves).set_data(
            chart_data.curves(snapshot, self.curve_mode, self.selected)
        )
        self.query_one("#history", HistoryChart).set_data(chart_data.history(snapshot))
        self.query_one("#param-chart", ParamChart).set_data(
            chart_data.param(snapshot, self.space, self.param_index)
        )
        self._redraw_view(snapshot)

    @property
    def view(self) -> str:
        """The name of the bottom-right chart's view (one of ``views.VIEWS``)."""
        return views.VIEWS[self.view_index]

    @property
    def view_chart(self) -> ChartView:
        """The bottom-right chart now shown."""
        return self.query_one(f"#{self.VIEW_IDS[self.view_index]}", ChartView)

    def _redraw_view(self, snapshot: Snapshot) -> None:
        if self.view_index == 0:
            return  # importance: set by its thread
        chart = self.view_chart
        width = chart.content_size.width or 60  # not laid out yet: about half of 120 columns
        now = self._now()
        # The reader hands the same rows object while nothing changed: the view's data then
        # stays, except the timeline's running bars, which grow with the clock.
        ticking = self.view == "timeline" and bool(snapshot.summary.running)
        key = (self.view_index, width, int(now.timestamp() // 5) if ticking else None)
        basis = self._view_basis
        if (
            key == self._view_key
            and basis is not None
            and basis[0] is snapshot.rows
            and basis[1] is self.space
        ):
            return
        self._view_key, self._view_basis = key, (snapshot.rows, self.space)
        data: Any
        if self.view == "parallel coordinates":
            data = views.parallel(snapshot, self.space, width)
        elif self.view == "EDF":
            data = views.edf(snapshot, width)
        elif self.view == "rank":
            data = views.rank(snapshot, width)
        else:
            data = views.timeline(snapshot, now, width)
        chart.set_data(data)

    def _now(self) -> datetime:
        return self.clock()

    @work(thread=True, exclusive=True, exit_on_error=False, group="importance")
    def _importance(self, session: Session, snapshot: Snapshot) -> None:
        data = views.importance(snapshot, chart_data.importances(session.ostudy))
        self.app.call_from_thread(self.query_one("#importance", ImportanceView).set_data, data)

    def action_cycle_curves(self) -> None:
        self.curve_mode = self.curve_mode % (len(chart_data.CURVE_MODES) - 1) + 1
        self._redraw()
        self.notify(f"curves: {chart_data.CURVE_MODES[self.curve_mode]}", timeout=2)

    def action_next_param(self) -> None:
        self.param_index += 1
        self._redraw()
        data = self.query_one("#param-chart", ParamChart).data
        self.notify(f"parameter chart: {data.name if data else 'no parameters'}", timeout=2)

    def action_next_view(self) -> None:
        self.view_index = (self.view_index + 1) % len(views.VIEWS)
        self.query_one(ContentSwitcher).current = self.VIEW_IDS[self.view_index]
        self._view_key = None
        if self.snapshot is not None:
            self._redraw_view(self.snapshot)
        self.notify(f"view: {views.describe(self.view)}", timeout=2)
