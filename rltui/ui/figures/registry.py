"""The charts that can be saved as pictures, by name: each is a ChartView that draws it and a
function that computes its data from a study snapshot (the window's own data functions, from
:mod:`rltui.ui.models`).

A view is one entry of :data:`VIEWS`, such as
``"contour": FigureView(f"{SPACE_CHARTS}:ContourChart", _contour)`` with a data function of
the :data:`DataFunction` shape. The chart classes are named, not imported, so that the
command line can list the names without loading Textual and plotext.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from rltui.ui.figures.errors import FigureError

if TYPE_CHECKING:
    from rltui.search.reader import Snapshot
    from rltui.spec import SearchSpace
    from rltui.ui.widgets.charts import ChartView

CHARTS = "rltui.ui.widgets.charts"
VIEW_CHARTS = "rltui.ui.widgets.view_charts"
SPACE_CHARTS = "rltui.ui.widgets.space_charts"


@dataclass(frozen=True)
class FigureOptions:
    """What the user picked beyond the view: the parameter of ``param`` (the two of
    ``contour``), the trials of ``curves``, and the timeline's "now" (naive local time, as
    Optuna's; None: now)."""

    params: tuple[str, ...] = ()
    trials: tuple[int, ...] = ()
    now: datetime | None = None
    rows: int = 40  # the picture's height in characters (the contour's grid follows it)

    @property
    def param(self) -> str | None:
        return self.params[0] if self.params else None


DataFunction = Callable[["Snapshot", "SearchSpace | None", Any, int, FigureOptions], Any]
"""(snapshot, search space, Optuna study, width in columns, options) -> the chart's data;
raises :class:`FigureError` for options that do not fit the study."""


@dataclass(frozen=True)
class FigureView:
    """A chart by the ChartView that draws it ("module:Class") and its data function."""

    chart: str
    data: DataFunction

    def chart_class(self) -> type[ChartView]:
        module, _, name = self.chart.partition(":")
        return cast("type[ChartView]", getattr(importlib.import_module(module), name))


def _curves(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models.chart_data import curves

    if not o.trials:
        return curves(snapshot, 1, None)  # the best few complete trials
    missing = [n for n in o.trials if n not in snapshot.rows]
    if missing:
        known = f"trials 0 to {max(snapshot.rows)}" if snapshot.rows else "no trials yet"
        listed = ", ".join(map(str, missing))
        raise FigureError(f"no trial {listed} in study '{snapshot.study_name}' ({known})")
    numbers = ", ".join(map(str, o.trials))
    title = f"reward: trial{'s' if len(o.trials) > 1 else ''} {numbers}"
    # The window's curve set (the best trial marked), with the trials asked for.
    return replace(
        curves(snapshot, 0, None), title=title, rows=tuple(snapshot.rows[n] for n in o.trials)
    )


def _history(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models.chart_data import history

    return history(snapshot)


def _param_index(snapshot: Snapshot, space: Any, name: str) -> int:
    """The index of parameter ``name`` among the study's; raises FigureError, with a guess."""
    from rltui.spec.problems import did_you_mean

    names = list(space.distributions) if space is not None else list(snapshot.summary.param_names)
    if name not in names:
        guess = did_you_mean(name, names)
        hint = f"did you mean '{guess}'? " if guess else ""
        listed = ", ".join(names) or "none"
        raise FigureError(f"no parameter '{name}' searched: {hint}the study has {listed}")
    return names.index(name)


def _param(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models.chart_data import param

    index = 0 if o.param is None else _param_index(snapshot, space, o.param)
    return param(snapshot, space, index)


def _contour(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models.space_views import contour

    picked = [_param_index(snapshot, space, name) for name in o.params]
    x = picked[0] if picked else 0
    y = picked[1] if len(picked) > 1 else x + 1  # the next parameter, as in the window
    return contour(snapshot, space, x, y, cols, o.rows)


def _slices(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models.space_views import slices

    return slices(snapshot, space, cols)


def _pareto(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models.pareto import pareto

    if not snapshot.multi_objective:
        raise FigureError("the study has one objective, so no Pareto front: try 'history'")
    return pareto(snapshot, cols)


def _importance(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models import importance

    return importance.compute(ostudy, snapshot, space, importance.default_method())


def _parallel(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models import views

    return views.parallel(snapshot, space, cols)


def _edf(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models import views

    return views.edf(snapshot, cols)


def _rank(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models import views

    return views.rank(snapshot, cols)


def _timeline(snapshot: Snapshot, space: Any, ostudy: Any, cols: int, o: FigureOptions) -> Any:
    from rltui.ui.models import views

    return views.timeline(snapshot, o.now or datetime.now(), cols)


VIEWS: dict[str, FigureView] = {
    "curves": FigureView(f"{CHARTS}:RewardCurves", _curves),
    "history": FigureView(f"{CHARTS}:HistoryChart", _history),
    "param": FigureView(f"{CHARTS}:ParamChart", _param),
    "importance": FigureView(f"{VIEW_CHARTS}:ImportanceView", _importance),
    "parallel": FigureView(f"{VIEW_CHARTS}:ParallelChart", _parallel),
    "edf": FigureView(f"{VIEW_CHARTS}:EdfChart", _edf),
    "rank": FigureView(f"{VIEW_CHARTS}:RankChart", _rank),
    "timeline": FigureView(f"{VIEW_CHARTS}:TimelineChart", _timeline),
    "contour": FigureView(f"{SPACE_CHARTS}:ContourChart", _contour),
    "slices": FigureView(f"{SPACE_CHARTS}:SliceGrid", _slices),
    "pareto": FigureView("rltui.ui.widgets.pareto_chart:ParetoChart", _pareto),
}
