"""The main screen's charts: reward curves, history, parameters, importance.

Chart data is computed from the snapshot on the UI thread (cheap: downsampled to the widget
width); parameter importance is computed on a thread. Training-log columns are charted in
the comparison view (``comparing``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding

from rltui.search.reader import Snapshot
from rltui.ui import chart_data
from rltui.ui.screens.host import MainScreenHost
from rltui.ui.widgets.charts import HistoryChart, ImportanceChart, ParamChart, RewardCurves

if TYPE_CHECKING:
    from rltui.ui.session import Session

CHART_BINDINGS = [
    Binding(
        "c",
        "cycle_curves",
        "Curves",
        show=False,
        tooltip="Curves: selected+running / top k / running / all",
        id="charts.curves",
    ),
    Binding(
        "n",
        "next_param",
        "Next param",
        show=False,
        tooltip="Parameter chart: next parameter",
        id="charts.param",
    ),
]


class ChartsMixin(MainScreenHost):
    """Mixed into the main screen, which provides the snapshot, the session and the table."""

    def _init_charts(self) -> None:
        self.curve_mode = 0
        self.param_index = 0
        self._importance_key: tuple[int, int] | None = None

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
