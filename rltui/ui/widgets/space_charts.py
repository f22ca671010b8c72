"""The Charts tab's views of the search space: a contour of two parameters and a slice of
every parameter as small multiples (their data: :mod:`rltui.ui.models.space_views`).

Each is a :class:`~rltui.ui.widgets.charts.ChartView`, built on a thread only when dirty and
on screen. Marks read without colour: the contour's value bands are shades (``·░▒▓█``, worst
to best) as well as colours, the best trial is ``*``, a pruned one ``x``, a running one ``>``.
Colours are ANSI names only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rltui.ui.models.chart_data import BEST_COLOUR
from rltui.ui.models.space_views import LABEL, ContourData, SliceData, SliceParam, fmt
from rltui.ui.models.views import BANDS
from rltui.ui.widgets.charts import ChartView, plot_colour

if TYPE_CHECKING:
    # plotext loads when a chart is first built, not with the window.
    from textual_plotext.plot import Plot

# The contour's shade per value band, worst to best (``views.BANDS`` gives the colours).
BAND_MARKS = ("·", "░", "▒", "▓", "█")
TRIAL_MARK = "o"
BEST_MARK = "*"
PRUNED_MARK, PRUNED_COLOUR = "x", "red"
RUNNING_MARK, RUNNING_COLOUR = ">", "cyan"
COMPLETE_COLOUR = "green"
# The smallest slice worth drawing: a plot area of 8 × 3 inside its frame, title and labels.
SLICE_WIDTH, SLICE_HEIGHT = 10, 7


def _short(name: str, room: int) -> str:
    return name if len(name) <= room else name[: max(1, room - 1)] + "…"


def _label(text: str) -> str:
    """A y label exactly ``LABEL`` wide, so that the plot area's width is known."""
    return _short(text, LABEL).rjust(LABEL)


class ContourChart(ChartView):
    """The value over two parameters: a map of value bands with the trials on top."""

    empty_message = "contour: needs two parameters and finished trials"

    def empty_for(self, data: Any) -> str:
        return data.empty if isinstance(data, ContourData) else self.empty_message

    def draw(self, plt: Plot, data: ContourData, width: int) -> bool:
        if not data.cells:
            return False
        for band, cells in data.cells:
            plt.scatter(
                [c[0] for c in cells],
                [c[1] for c in cells],
                marker=BAND_MARKS[band],
                color=plot_colour(BANDS[band]),
            )
        if data.pruned:
            xs, ys = zip(*data.pruned, strict=True)
            plt.scatter(list(xs), list(ys), marker=PRUNED_MARK, color=plot_colour(PRUNED_COLOUR))
        for band in range(len(BANDS)):
            points = [(x, y) for x, y, b in data.points if b == band]
            if points:
                plt.scatter(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    marker=TRIAL_MARK,
                    color=plot_colour(BANDS[band]),
                )
        if data.best is not None:
            plt.scatter(
                [data.best[0]],
                [data.best[1]],
                marker=BEST_MARK,
                color=plot_colour(BEST_COLOUR),
                style="bold",
            )
        # One cell per character: the limits are the first and the last cell's centres.
        plt.xlim(0, max(1, data.cols - 1))
        plt.ylim(0, max(1, data.rows - 1))
        plt.xticks([t[0] for t in data.x_ticks], [t[1] for t in data.x_ticks])
        plt.yticks([t[0] for t in data.y_ticks], [_label(t[1]) for t in data.y_ticks])
        plt.title(self.title_for(data, width - LABEL - 2))
        return True

    @staticmethod
    def title_for(data: ContourData, room: int) -> str:
        """``x × y`` in ``room`` characters: without "(log)", then with shortened names."""
        title = data.title
        if len(title) <= room:
            return title
        names = [n.removesuffix(" (log)") for n in (data.x_name, data.y_name)]
        title = f"{names[0]} × {names[1]}"
        if len(title) <= room:
            return title
        each = max(2, (room - 3) // 2)
        return f"{_short(names[0], each)} × {_short(names[1], each)}"


def slice_layout(count: int, width: int, height: int) -> tuple[int, int, bool]:
    """Rows and columns of slices for ``count`` parameters in ``width`` × ``height``
    characters, and whether a header line says how many of them fit."""
    if count == 0:
        return 0, 0, False
    cols_fit = max(1, (width - LABEL - 1) // SLICE_WIDTH)
    rows_fit = max(1, height // SLICE_HEIGHT)
    header = rows_fit * cols_fit < count
    if header:
        rows_fit = max(1, (height - 1) // SLICE_HEIGHT)
    cols = min(count, cols_fit)
    rows = min(rows_fit, math.ceil(count / cols))
    return rows, cols, header


class SliceGrid(ChartView):
    """A slice per parameter (value against the parameter), as many as fit, sharing the
    value axis, which is labelled on the left column only."""

    empty_message = "slices: no finished, pruned or reporting trials yet"

    def empty_for(self, data: Any) -> str:
        if isinstance(data, SliceData) and not data.params:
            return "slices: needs searched parameters"
        return self.empty_message

    def draw(self, plt: Plot, data: SliceData, width: int) -> bool:
        if data.empty:
            return False
        height = self.draw_height or SLICE_HEIGHT  # not given: one row of slices
        rows, cols, header = slice_layout(len(data.params), width, height)
        shown = data.params[: rows * cols]
        grid: Any = plt
        if header:
            plt.subplots(2, 1)
            head = plt.subplot(1, 1)
            head.plotsize(width, 1)
            head.xaxes(False, False)
            head.yaxes(False, False)
            head.frame(False)
            head.title(f"{data.title}: {len(shown)}/{len(data.params)} params")
            grid = plt.subplot(2, 1)
            grid.plotsize(width, height - 1)
            height -= 1
        grid.subplots(rows, cols)
        share = (width - LABEL - 1) // cols
        low, high = data.low, data.high
        pad = (high - low) * 0.08 if high > low else 1.0
        for index, param in enumerate(shown):
            r, c = divmod(index, cols)
            cell_w = share + (LABEL + 1 if c == 0 else 0)
            if c == cols - 1:
                cell_w += (width - LABEL - 1) - share * cols
            cell_h = height // rows + (height % rows if r == rows - 1 else 0)
            plot = grid.subplot(r + 1, c + 1)
            plot.plotsize(cell_w, cell_h)
            self._draw_slice(plot, param, cell_w - 2 - (LABEL + 1 if c == 0 else 0))
            plot.ylim(low - pad, high + pad)
            if c == 0:
                plot.yticks([low, high], [_label(fmt(low)), _label(fmt(high))])
            else:
                plot.yticks([])
        return True

    @staticmethod
    def _draw_slice(plot: Any, param: SliceParam, area: int) -> None:
        """One parameter's marks, ticks and title on a subplot ``area`` characters wide."""
        for points, marker, tint in (
            (param.complete, TRIAL_MARK, COMPLETE_COLOUR),
            (param.pruned, PRUNED_MARK, PRUNED_COLOUR),
            (param.running, RUNNING_MARK, RUNNING_COLOUR),
        ):
            if points:
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                plot.scatter(xs, ys, marker=marker, color=plot_colour(tint))
        if param.best is not None:
            plot.scatter(
                [param.best[0]],
                [param.best[1]],
                marker=BEST_MARK,
                color=plot_colour(BEST_COLOUR),
                style="bold",
            )
        plot.xlim(-0.05, 1.05)
        ticks = list(param.ticks)
        room = max(1, area // max(1, len(ticks)) - 1)
        if room < 3 and len(ticks) > 2:
            ticks = [ticks[0], ticks[-1]]  # too many choices to name: the first and the last
        if len(ticks) <= 2:
            room = max(LABEL, area // 2)  # labels at the ends may reach past the frame
        plot.xticks([t[0] for t in ticks], [_short(t[1], room) for t in ticks])
        plot.title(param.label if len(param.label) <= area else _short(param.name, area))
