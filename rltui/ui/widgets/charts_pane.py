"""The Charts tab as a pane: reward curves, optimisation history, parameter vs value and
parameter importance, with its own keys.

The screen hands it each snapshot (``show``) and the selected trial; the pane decides what to
redraw. Chart data is computed from the snapshot on the UI thread (cheap: downsampled to the
widget width); parameter importance is computed on a thread, only when the finished trials
changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid

from rltui.search.reader import Snapshot
from rltui.ui.models import chart_data
from rltui.ui.widgets.charts import HistoryChart, ImportanceChart, ParamChart, RewardCurves

if TYPE_CHECKING:
    from rltui.spec import SearchSpace
    from rltui.ui.services.session import Session


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
        Binding(
            "n",
            "next_param",
            "Next param",
            tooltip="Parameter chart: the next parameter",
            id="charts.param",
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.curve_mode = 1
        self.param_index = 0
        self.snapshot: Snapshot | None = None
        self.space: SearchSpace | None = None
        self.selected: int | None = None
        self._importance_key: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield RewardCurves(id="top-curves")
        yield HistoryChart(id="history")
        yield ParamChart(id="param-chart")
        yield ImportanceChart(id="importance")

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
                self._importance(session)

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

    @work(thread=True, exclusive=True, exit_on_error=False, group="importance")
    def _importance(self, session: Session) -> None:
        values = chart_data.importances(session.ostudy)
        self.app.call_from_thread(self.query_one("#importance", ImportanceChart).set_data, values)

    def action_cycle_curves(self) -> None:
        self.curve_mode = self.curve_mode % (len(chart_data.CURVE_MODES) - 1) + 1
        self._redraw()
        self.notify(f"curves: {chart_data.CURVE_MODES[self.curve_mode]}", timeout=2)

    def action_next_param(self) -> None:
        self.param_index += 1
        self._redraw()
        data = self.query_one("#param-chart", ParamChart).data
        self.notify(f"parameter chart: {data.name if data else 'no parameters'}", timeout=2)
