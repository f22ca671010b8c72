"""The main screen's charts: reward curves, history, parameters, metrics, importance.

Chart data is computed from the snapshot on the UI thread (cheap: downsampled to the widget
width); training logs for the metric chart and parameter importance are read on threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from rltui.search.reader import Snapshot
from rltui.ui import chart_data, metrics
from rltui.ui.widgets.charts import (
    HistoryChart,
    ImportanceChart,
    MetricChart,
    MetricSet,
    ParamChart,
    RewardCurves,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App

    from rltui.ui.session import Session
    from rltui.ui.widgets.trial_table import TrialTable


class ChartsMixin:
    """Mixed into the main screen, which provides the snapshot, the session and the table."""

    if TYPE_CHECKING:
        snapshot: Snapshot | None
        session: Session | None
        app: App[Any]
        notify: Callable[..., None]
        query_one: Callable[..., Any]

        @property
        def table(self) -> TrialTable: ...

    def _init_charts(self) -> None:
        self.curve_mode = 0
        self.param_index = 0
        self._importance_key: tuple[int, int] | None = None
        self.metric_index = -1  # -1: the history chart shows; else the metric chart's column
        self._metric_logs = metrics.LogCache()

    def _update_charts(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        selected = self.table.selected_number
        self.query_one("#curves", RewardCurves).set_data(chart_data.curves(snapshot, 0, selected))
        self.query_one("#top-curves", RewardCurves).set_data(
            chart_data.curves(snapshot, self.curve_mode or 1, selected)
        )
        self.query_one("#history", HistoryChart).set_data(chart_data.history(snapshot))
        self.query_one("#param-chart", ParamChart).set_data(
            chart_data.param(
                snapshot, self.session.study.space if self.session else None, self.param_index
            )
        )
        if self.metric_index >= 0:
            self._load_metrics()

    def _load_metrics(self, say: bool = False) -> None:
        """Read the logs of the trials in the reward chart (on a thread) for the metric chart."""
        curves = self.query_one("#top-curves", RewardCurves).data
        numbers = [r.number for r in curves.rows] if curves is not None else []
        folder = self.session.trials_dir if self.session is not None else None
        self._metric_worker(folder, numbers, self.metric_index, say)

    @work(thread=True, exclusive=True, exit_on_error=False, group="metrics")
    def _metric_worker(self, folder: Path | None, trials: list[int], index: int, say: bool) -> None:
        data = metrics.pick(folder, trials, index, self._metric_logs)
        self.app.call_from_thread(self._show_metric, data, index, say)

    def _show_metric(self, data: MetricSet | None, index: int, say: bool) -> None:
        if index != self.metric_index:  # the user moved on meanwhile
            return
        chart = self.query_one("#metric-chart", MetricChart)
        if data is None:
            self.metric_index = -1  # past the last column: the history chart comes back
        elif data != chart.data:
            chart.set_data(data)
        chart.display = data is not None
        self.query_one("#history", HistoryChart).display = data is None
        if say:
            self.notify(metrics.announcement(data), timeout=2)

    def _maybe_importance(self, session: Session, snapshot: Snapshot) -> None:
        key = chart_data.importance_key(snapshot)
        if key != self._importance_key and key[0] >= 2:
            self._importance_key = key
            self._importance(session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="importance")
    def _importance(self, session: Session) -> None:
        values = chart_data.importances(session.ostudy)
        self.app.call_from_thread(self.query_one("#importance", ImportanceChart).set_data, values)

    # Actions ------------------------------------------------------------------------

    def action_cycle_curves(self) -> None:
        self.curve_mode = self.curve_mode % (len(chart_data.CURVE_MODES) - 1) + 1
        self._update_charts()
        self.notify(f"curves: {chart_data.CURVE_MODES[self.curve_mode]}", timeout=2)

    def action_next_param(self) -> None:
        self.param_index += 1
        self._update_charts()
        data = self.query_one("#param-chart", ParamChart).data
        self.notify(f"parameter chart: {data.name if data else 'no parameters'}", timeout=2)

    def action_next_metric(self) -> None:
        self.metric_index += 1
        self._load_metrics(say=True)
