"""The Charts tab as a pane: reward curves, optimisation history, parameter vs value, and a
view picked with ``v`` (:mod:`rltui.ui.widgets.view_box`: importance, parallel coordinates,
contour, slices, EDF, rank, timeline, Pareto front), with its own keys; the reward curves'
keys set smoothing, log y, the x axis, a zoom and the metric
(:class:`rltui.ui.models.curves.CurveOptions`); ``P`` saves the four charts as pictures.

The screen hands it each snapshot (``show``) and the selected trial; the pane decides what to
redraw. Chart data is computed from the snapshot on the UI thread (cheap: downsampled to the
widget width; the picked view's data only, again only when the rows changed); parameter
importance is computed on a thread, only when the finished trials changed. The curves'
training logs (wall time, log columns) are read on a thread while the options need them, again
only when the shown trials change in the storage, each file parsed again only when it grew.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.message import Message

from rltui.search.reader import Snapshot
from rltui.ui.display.cells import Clock
from rltui.ui.models import chart_data, curves, metrics
from rltui.ui.widgets.charts import ChartView, HistoryChart, ParamChart, RewardCurves
from rltui.ui.widgets.curve_keys import CURVE_BINDINGS
from rltui.ui.widgets.view_box import ViewBox

if TYPE_CHECKING:
    from rltui.spec import SearchSpace
    from rltui.ui.services.session import Session


class CurveLogsRead(Message):
    """The training logs of the trials the reward curves show were read."""

    def __init__(self, numbers: tuple[int, ...], logs: dict[int, metrics.Rows]) -> None:
        super().__init__()
        self.numbers = numbers
        self.logs = logs


class ChartsPane(Grid, can_focus=True):
    """Four charts in a grid; focusable so that its keys show in the footer."""

    DEFAULT_CSS = """
    ChartsPane { grid-size: 2 2; grid-gutter: 0 1; height: 1fr; }
    ChartsPane:focus { background-tint: $primary 4%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "c",
            "cycle_curves",
            "Curves",
            tooltip="Reward curves: selected+running / top k / running / all",
            id="charts.curves",
        ),
        *CURVE_BINDINGS,
        Binding(
            "n",
            "next_param",
            "Next param",
            tooltip="Parameter chart (and the contour's x): the next parameter",
            id="charts.param",
        ),
        Binding(
            "v",
            "next_view",
            "View",
            tooltip="Bottom-right chart: importance / parallel / contour / slices / EDF / rank "
            "/ timeline / Pareto front (several objectives)",
            id="charts.view",
        ),
        Binding(
            "i",
            "next_importance",
            "Method",
            tooltip="Importance: fANOVA / PED-ANOVA / MDI",
            id="charts.importance",
            show=False,
        ),
        Binding(
            "y",
            "contour_y",
            "Contour y",
            tooltip="Contour: the next parameter on the y axis",
            id="charts.contour_y",
            show=False,
        ),
        Binding(
            "a",
            "brush_axis",
            "Brush axis",
            tooltip="Parallel coordinates: brush the next axis (value first)",
            id="charts.brush_axis",
            show=False,
        ),
        Binding(
            "b",
            "brush_range",
            "Brush",
            tooltip="Parallel coordinates: keep only trials in the brushed axis's top half / "
            "bottom half / top quarter / middle half / bottom quarter / all",
            id="charts.brush_range",
            show=False,
        ),
        Binding(
            "P",
            "save_pictures",
            "Pictures",
            tooltip="Save the four charts as SVG (and PNG with Pillow) in the study's folder",
            id="charts.pictures",
            show=False,
        ),
    ]

    def __init__(self, *, clock: Clock = datetime.now, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock  # the timeline's "now": the screen's, fixed in tests
        self.curve_mode = 1
        self.curve_options = curves.CurveOptions()
        self.session: Session | None = None
        self._log_cache = metrics.LogCache()
        # The logs of the curves' trials: for which trials, read from which snapshot.
        self._logs: dict[int, metrics.Rows] | None = None
        self._logs_key: tuple[int, ...] | None = None
        self._logs_snapshot: Snapshot | None = None
        self._metric_when_read = False
        self.param_index = 0
        self.snapshot: Snapshot | None = None
        self.space: SearchSpace | None = None
        self.selected: int | None = None
        # A snapshot that came while the tab was hidden: charted when it shows (a 10,000-trial
        # study's views cost a fifth of a second that the trial table's first rows wait for).
        self._stale = False

    def compose(self) -> ComposeResult:
        yield RewardCurves(id="top-curves")
        yield HistoryChart(id="history")
        yield ParamChart(id="param-chart")
        yield ViewBox(clock=self.clock, id="view-box")

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
        if session is not None:
            self.session = session
        self._redraw(session)

    def select(self, selected: int | None) -> None:
        """The selected trial changed: its curve is drawn in the curve modes that follow it."""
        if selected != self.selected:
            self.selected = selected
            self._redraw()

    def _redraw(self, session: Session | None = None) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        if not self.region.area:
            self._stale = True
            return
        self._stale = False
        self._redraw_curves()
        self.query_one("#history", HistoryChart).set_data(chart_data.history(snapshot))
        self.query_one("#param-chart", ParamChart).set_data(
            chart_data.param(snapshot, self.space, self.param_index)
        )
        self.view_box.show(snapshot, self.space, session)

    def on_show(self) -> None:
        if self._stale:
            self._redraw(self.session)

    def curve_set(self) -> chart_data.CurveSet | None:
        """The trials the reward curves show now."""
        if self.snapshot is None:
            return None
        return chart_data.curves(self.snapshot, self.curve_mode, self.selected)

    def _redraw_curves(self) -> None:
        shown = self.curve_set()
        if shown is None:
            return
        numbers = tuple(row.number for row in shown.rows)
        if self.curve_options.needs_logs or self._metric_when_read:
            self._want_logs(numbers)
        else:  # not read while not needed: the next need reads them afresh
            self._logs = self._logs_key = self._logs_snapshot = None
        logs = self._logs if self._logs_key == numbers else None
        self.query_one("#top-curves", RewardCurves).set_data(
            curves.CurveData(shown, self.curve_options, logs, self.selected)
        )

    def _want_logs(self, numbers: tuple[int, ...]) -> None:
        """Read the logs of trials ``numbers`` unless they were read and none of them changed
        in the storage since; only while the pane shows (a key press shows it)."""
        session, snapshot = self.session, self.snapshot
        if session is None or snapshot is None or not (self.display and self.region.area):
            return
        touched = snapshot is not self._logs_snapshot and not snapshot.changed.isdisjoint(numbers)
        if numbers == self._logs_key and not touched:
            return
        if numbers != self._logs_key:
            self._logs = None  # another set of trials: theirs, not the last ones', once read
        self._logs_key, self._logs_snapshot = numbers, snapshot
        self._read_logs(session, numbers)

    @work(thread=True, exclusive=True, exit_on_error=False, group="curve-logs")
    def _read_logs(self, session: Session, numbers: tuple[int, ...]) -> None:
        # The cache parses a file again only when its size or modification time changed.
        self.post_message(
            CurveLogsRead(numbers, metrics.load(session.trials_dir, numbers, self._log_cache))
        )

    def on_curve_logs_read(self, event: CurveLogsRead) -> None:
        event.stop()
        if event.numbers != self._logs_key:
            return  # the curves moved on to other trials meanwhile; their read is on its way
        self._logs = event.logs
        if self._metric_when_read:
            self._metric_when_read = False
            self._next_metric()
        self._redraw_curves()

    @property
    def view_box(self) -> ViewBox:
        """The bottom-right chart."""
        return self.query_one(ViewBox)

    @property
    def view(self) -> str:
        """The name of the bottom-right chart's view (one of ``views.VIEWS``)."""
        return self.view_box.view

    @property
    def view_chart(self) -> ChartView:
        """The bottom-right chart now shown."""
        return self.view_box.chart

    def action_cycle_curves(self) -> None:
        self.curve_mode = self.curve_mode % (len(chart_data.CURVE_MODES) - 1) + 1
        self._redraw()
        self.notify(f"curves: {chart_data.CURVE_MODES[self.curve_mode]}", timeout=2)

    def action_next_param(self) -> None:
        self.param_index += 1
        self._redraw()
        data = self.query_one("#param-chart", ParamChart).data
        said = f"parameter chart: {data.name if data else 'no parameters'}"
        if self.view == "contour":  # n moves the contour's x too, where it is shown
            said = self.view_box.contour_axis("x")
        self.notify(said, timeout=2)

    def action_contour_y(self) -> None:
        self.notify(self.view_box.contour_axis("y"), timeout=2)

    def action_next_view(self) -> None:
        self.notify(self.view_box.next_view(), timeout=2)

    def action_brush_axis(self) -> None:
        self.notify(self.view_box.brush_step("axis"), timeout=3)

    def action_brush_range(self) -> None:
        self.notify(self.view_box.brush_step("range"), timeout=3)

    def action_next_importance(self) -> None:
        self.notify(self.view_box.next_method(), timeout=3)

    def action_save_pictures(self) -> None:
        if self.session is None:
            self.notify("pictures: no study is open", timeout=3)
            return
        charts = [
            self.query_one("#top-curves", ChartView),
            self.query_one("#history", ChartView),
            self.query_one("#param-chart", ChartView),
            self.view_chart,
        ]
        folder = self.session.trials_dir.parent / "pictures"
        self._save_pictures([(type(c), c.data, c.id or "chart") for c in charts], folder)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pictures")
    def _save_pictures(self, charts: list[tuple[type[ChartView], Any, str]], folder: Any) -> None:
        from rltui.ui.figures.pictures import save_all  # Rich's writers: only when asked

        said, severity = save_all(charts, folder, self.clock())
        self.app.call_from_thread(self.notify, said, severity=severity, timeout=8)

    def _set_curves(self, options: curves.CurveOptions, said: str) -> None:
        self.curve_options = options
        self._redraw_curves()
        self.notify(said, timeout=2)

    def action_curve_smoothing(self) -> None:
        options = self.curve_options.next_smoothing()
        weight = options.smoothing
        self._set_curves(options, f"curves: smoothing EMA {weight:g}" if weight else "curves: raw")

    def action_curve_log_y(self) -> None:
        options = replace(self.curve_options, log_y=not self.curve_options.log_y)
        self._set_curves(options, f"curves: {'log' if options.log_y else 'linear'} y axis")

    def action_curve_x_axis(self) -> None:
        options = replace(self.curve_options, wall_time=not self.curve_options.wall_time)
        axis = "wall time since each trial's start" if options.wall_time else "timesteps"
        self._set_curves(options, f"curves: x axis {axis}")

    def action_curve_zoom(self) -> None:
        options = self.curve_options.next_zoom()
        self._set_curves(options, f"curves: zoom to {options.describe_zoom()}")

    def action_curve_zoom_reset(self) -> None:
        self._set_curves(replace(self.curve_options, zoom="all"), "curves: zoom to all")

    def action_curve_metric(self) -> None:
        if self.session is None:
            self.notify("curves: no study is open, so no training logs to chart", timeout=4)
            return
        shown = self.curve_set()
        numbers = tuple(row.number for row in shown.rows) if shown is not None else None
        if self._logs is not None and self._logs_key == numbers:
            self._next_metric()
        else:  # the columns are those of the logs: step once they are read
            self._metric_when_read = True
            self._redraw_curves()

    def _next_metric(self) -> None:
        logs = self._logs or {}
        available = curves.metric_columns(logs)
        if not available and self.curve_options.metric is None:
            trials = " ".join(f"#{n}" for n in self._logs_key or ()) or "these trials"
            where = f" in {self.session.trials_dir}" if self.session is not None else ""
            self.notify(
                f"curves: no training-log columns (progress.jsonl) for {trials}{where} yet; "
                "the chart stays on the reward (c: other trials)",
                severity="warning",
                timeout=6,
            )
            return
        options = self.curve_options.next_metric(available)
        self._set_curves(options, f"curves: {options.metric_name}")
