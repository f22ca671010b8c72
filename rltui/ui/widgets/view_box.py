"""The Charts tab's bottom-right chart: one view at a time, picked with ``v``: parameter
importance (by a method ``i`` picks), parallel coordinates, a contour of two parameters, a
slice of every parameter, EDF, rank, a timeline of the workers' trials, and the Pareto front
of a study with several objectives.

Each view's data comes from :mod:`rltui.ui.models` (pure functions of the snapshot, cut down
to the chart's size); only the view shown is computed, again only when the rows, the space,
its size or its own choices (the contour's parameters) changed. Importance is computed on a
thread whenever the finished trials change, whichever view is shown, so that switching to it
shows bars at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import ContentSwitcher

from rltui.search.reader import Snapshot
from rltui.ui.display.cells import Clock
from rltui.ui.models import importance, pareto, space_views, views
from rltui.ui.models.brush import Brush
from rltui.ui.widgets.charts import ChartView
from rltui.ui.widgets.pareto_chart import ParetoChart
from rltui.ui.widgets.space_charts import ContourChart, SliceGrid
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

# Each view's chart, by the view's name in ``views.VIEWS``, with the widget id it has.
CHARTS: dict[str, tuple[str, type[ChartView]]] = {
    "importance": ("importance", ImportanceView),
    "parallel coordinates": ("view-parallel", ParallelChart),
    "contour": ("view-contour", ContourChart),
    "slices": ("view-slices", SliceGrid),
    "EDF": ("view-edf", EdfChart),
    "rank": ("view-rank", RankChart),
    "timeline": ("view-timeline", TimelineChart),
    "Pareto front": ("view-pareto", ParetoChart),
}
MULTI_ONLY = frozenset({"Pareto front"})  # views of studies with several objectives


class ViewBox(ContentSwitcher):
    """The bottom-right chart and its state: which view, the importance method, the
    contour's two parameters. The pane owns the keys and calls these methods."""

    DEFAULT_CSS = "ViewBox { width: 1fr; height: 1fr; }"

    def __init__(self, *, clock: Clock = datetime.now, id: str | None = None) -> None:
        super().__init__(id=id, initial=CHARTS[views.VIEWS[0]][0])
        self.clock = clock  # the timeline's "now": the screen's, fixed in tests
        self.view_index = 0
        self.method = importance.default_method()
        self.contour_x, self.contour_y = 0, 1
        self.brush = Brush()  # the parallel coordinates' axis and range (a, b)
        self.snapshot: Snapshot | None = None
        self.space: SearchSpace | None = None
        self.session: Session | None = None
        self._importance_key: tuple[str, int] | None = None
        self._key: tuple[Any, ...] | None = None
        self._basis: tuple[object, object] | None = None
        self._generation = 0  # of the view data computed on a thread: the latest one counts

    def compose(self) -> ComposeResult:
        for chart_id, chart in CHARTS.values():
            yield chart(id=chart_id)

    @property
    def view(self) -> str:
        """The name of the view shown (one of ``views.VIEWS``)."""
        return views.VIEWS[self.view_index]

    @property
    def chart(self) -> ChartView:
        """The chart of the view shown."""
        return self.query_one(f"#{CHARTS[self.view][0]}", ChartView)

    def show(self, snapshot: Snapshot, space: SearchSpace | None, session: Session | None) -> None:
        """Chart ``snapshot``; importance is recomputed (on a thread) when a session is known
        and the finished trials (or the method) changed."""
        self.snapshot, self.space = snapshot, space
        if session is not None:
            self.session = session
        self._redraw()
        if self.session is not None:
            key = importance.key(snapshot, self.method)
            if key != self._importance_key:
                self._importance_key = key
                self._importance(self.session.ostudy, snapshot, space, self.method)

    def next_view(self) -> str:
        """Show the next view (the Pareto front only for several objectives); returns the
        notification that announces it."""
        multi = self.snapshot is not None and self.snapshot.multi_objective
        for _ in views.VIEWS:
            self.view_index = (self.view_index + 1) % len(views.VIEWS)
            if multi or self.view not in MULTI_ONLY:
                break
        self.current = CHARTS[self.view][0]
        self._key = None
        self._redraw()
        return f"view: {space_views.DESCRIPTIONS.get(self.view) or views.describe(self.view)}"

    def show_view(self, name: str) -> None:
        """Show view ``name`` (one of ``views.VIEWS``)."""
        self.view_index = views.VIEWS.index(name)
        self.current = CHARTS[name][0]
        self._key = None
        self._redraw()

    def next_method(self) -> str:
        """Compute importance by the next method and show it; returns the notification."""
        self.method = importance.next_method(self.method)
        self.show_view("importance")
        if self.snapshot is not None:
            self.chart.set_data(importance.computing(self.snapshot, self.method))
            self._importance_key = None
            self.show(self.snapshot, self.space, None)
        return importance.describe(self.method)

    def contour_axis(self, axis: str) -> str:
        """Move the contour's ``x`` or ``y`` parameter to the next one and show the contour;
        returns the notification."""
        if axis == "x":
            self.contour_x += 1
        else:
            self.contour_y += 1
        self.show_view("contour")
        names = [a.name for a in views.axes_of(self.snapshot, self.space)] if self.snapshot else []
        pair = space_views.pick_pair(len(names), self.contour_x, self.contour_y)
        if pair is None:
            return "contour: needs two parameters and finished trials"
        return f"contour: x {names[pair[0]]}, y {names[pair[1]]}"

    def brush_step(self, what: str) -> str:
        """Move the parallel coordinates' brush to the next axis (``axis``) or range
        (``range``) and show them; returns the notification."""
        params = [a.name for a in views.axes_of(self.snapshot, self.space)] if self.snapshot else []
        names = ["value", *params]
        step = self.brush.next_axis(len(names)) if what == "axis" else self.brush.next_range()
        self.brush = step
        self.show_view("parallel coordinates")
        name = names[self.brush.axis % len(names)]
        if not self.brush.active:
            return f"parallel: brush on {name} (b picks a range); every trial shown"
        return f"parallel: only trials with {name} in its {self.brush.name} (b: next range)"

    def _redraw(self) -> None:
        snapshot = self.snapshot
        if snapshot is None or self.view == "importance":
            return  # importance: set by its thread
        chart = self.chart
        width = chart.content_size.width or 60  # not laid out yet: about half of 120 columns
        height = chart.content_size.height or 17
        now = self.clock()
        # The reader hands the same rows object while nothing changed: the view's data then
        # stays, except the timeline's running bars, which grow with the clock.
        ticking = self.view == "timeline" and bool(snapshot.summary.running)
        key = (
            self.view_index,
            width,
            height,
            self.contour_x,
            self.contour_y,
            self.brush,
            int(now.timestamp() // 5) if ticking else None,
        )
        basis = self._basis
        same = basis is not None and basis[0] is snapshot.rows and basis[1] is self.space
        if key == self._key and same:
            return
        self._key, self._basis = key, (snapshot.rows, self.space)
        choices = (self.contour_x, self.contour_y, self.brush)
        self._generation += 1
        size = (width, height)
        self._compute(self.view, chart, snapshot, self.space, size, choices, now, self._generation)

    def _compute(
        self,
        view: str,
        chart: ChartView,
        snapshot: Snapshot,
        space: SearchSpace | None,
        size: tuple[int, int],
        choices: tuple[int, int, Brush],
        now: datetime,
        generation: int,
    ) -> None:
        # After the screen has shown the switch: a contour or the slices of 10,000 trials
        # take tens of milliseconds, which the key's answer need not wait for. (On a thread
        # it is slower still: the work is pure Python and holds the GIL from the screen.)
        def compute() -> None:
            if generation == self._generation:  # not overtaken by a later computation
                chart.set_data(_data(view, snapshot, space, size, choices, now))

        self.call_after_refresh(compute)

    @work(thread=True, exclusive=True, exit_on_error=False, group="importance")
    def _importance(
        self, ostudy: Any, snapshot: Snapshot, space: SearchSpace | None, method: str
    ) -> None:
        data = importance.compute(ostudy, snapshot, space, method)
        self.app.call_from_thread(self.query_one("#importance", ImportanceView).set_data, data)


def _data(
    view: str,
    snapshot: Snapshot,
    space: SearchSpace | None,
    size: tuple[int, int],
    choices: tuple[int, int, Brush],
    now: datetime,
) -> Any:
    """View ``view``'s data for a chart of ``size`` characters, with the contour's two
    parameters and the parallel coordinates' brush (``choices``)."""
    width, height = size
    x, y, brush = choices
    compute: dict[str, Callable[[], Any]] = {
        "parallel coordinates": lambda: views.parallel(snapshot, space, width, brush),
        "contour": lambda: space_views.contour(snapshot, space, x, y, width, height),
        "slices": lambda: space_views.slices(snapshot, space, width),
        "EDF": lambda: views.edf(snapshot, width),
        "rank": lambda: views.rank(snapshot, width),
        "timeline": lambda: views.timeline(snapshot, now, width),
        "Pareto front": lambda: pareto.pareto(snapshot, width),
    }
    return compute[view]()
