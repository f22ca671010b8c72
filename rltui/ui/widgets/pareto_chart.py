"""The Pareto chart: the first two objectives of every COMPLETE trial, the front marked and
joined, the dominated trials dim (its data: :mod:`rltui.ui.models.pareto`).

A :class:`~rltui.ui.widgets.charts.ChartView` like the Charts tab's other views: built on a
thread, only when dirty and on screen; ANSI colour names only, and marks that read without
colour (``*`` on the front, ``·`` for the others).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rltui.ui.models.pareto import ParetoData
from rltui.ui.widgets.charts import ChartView, plot_colour

if TYPE_CHECKING:
    # plotext loads when a chart is first built, not with the window.
    from textual_plotext.plot import Plot

FRONT_COLOUR = "yellow"
DOMINATED_COLOUR = "blue"


class ParetoChart(ChartView):
    """The first objective across, the second up, each labelled with its direction."""

    empty_message = "Pareto front: no complete trials yet"

    def empty_for(self, data: ParetoData | None) -> str:
        if data is None:
            return "Pareto front: the study has one objective"
        return self.empty_message

    def draw(self, plt: Plot, data: ParetoData | None, width: int) -> bool:
        if data is None or not (data.front or data.dominated):
            return False
        if data.dominated:
            xs, ys = [p[0] for p in data.dominated], [p[1] for p in data.dominated]
            plt.scatter(xs, ys, color=plot_colour(DOMINATED_COLOUR), marker="·", style="dim")
        if data.front:
            xs, ys = [p[0] for p in data.front], [p[1] for p in data.front]
            if len(data.front) > 1:
                plt.plot(xs, ys, color=plot_colour(FRONT_COLOUR), marker="braille")
            plt.scatter(xs, ys, color=plot_colour(FRONT_COLOUR), marker="*", style="bold")
        every = [*data.front, *data.dominated]
        for axis, values in (("x", [p[0] for p in every]), ("y", [p[1] for p in every])):
            low, high = min(values), max(values)
            if low == high:  # one value: plotext needs a span to draw an axis
                (plt.xlim if axis == "x" else plt.ylim)(low - 1, high + 1)
        title = data.title if data.note is None else f"{data.title} · {data.note}"
        plt.title(title if len(title) <= width - 2 else data.title)
        # plotext writes both axis labels on one line under the chart: one label names both.
        axes = f"x {data.x_label} · y {data.y_label}"
        plt.xlabel(axes if len(axes) <= width - 2 else f"{data.x_label} / {data.y_label}")
        return True
