"""A chart drawn as a picture: the window's own drawing (a ChartView's ``draw``) into a plotext
plot of a chosen size in character cells, saved by :func:`rltui.ui.figures.output.save`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual_plotext.plot import Plot

from rltui.ui.figures.errors import FigureError
from rltui.ui.figures.output import Written, save
from rltui.ui.textual import internals
from rltui.ui.widgets.charts import _BUILD_LOCK, ChartView

MIN_COLS, MIN_ROWS = 20, 6  # below this plotext leaves out the axes or the plot itself
MAX_COLS, MAX_ROWS = 1000, 400


class EmptyChart(FigureError):
    """The chart has nothing to draw (no finished trials, no evaluations); the message is
    the chart's own."""


def check_size(cols: int, rows: int) -> None:
    """Raise :class:`FigureError` for a size a chart cannot be drawn at."""
    if not (MIN_COLS <= cols <= MAX_COLS and MIN_ROWS <= rows <= MAX_ROWS):
        raise FigureError(
            f"a chart of {cols}x{rows} characters cannot be drawn: give from "
            f"{MIN_COLS}x{MIN_ROWS} to {MAX_COLS}x{MAX_ROWS}"
        )


def chart_picture(chart: type[ChartView] | ChartView, data: Any, cols: int, rows: int) -> str:
    """The ANSI text of ``chart`` (a ChartView class, or one from the window) drawing
    ``data`` at ``cols`` × ``rows`` characters, as the window draws it. Raises
    :class:`EmptyChart` when there is nothing to draw. Safe on any thread."""
    check_size(cols, rows)
    view = chart() if isinstance(chart, type) else chart
    if data is None:
        raise EmptyChart(view.empty_for(None))
    with _BUILD_LOCK:  # plotext keeps state in module globals: one build at a time
        plt = Plot()
        plt.clear_figure()
        plt.theme("clear")
        internals.size_plot(plt, cols, rows)
        view.draw_height = rows
        text = plt.build() if view.draw(plt, data, cols) else None
    if text is None:
        raise EmptyChart(view.empty_for(data))
    # A chart may draw fewer rows than it was given (importance: a bar a row): the picture
    # keeps the size asked for.
    text = text.rstrip("\n")
    missing = rows - (text.count("\n") + 1)
    return text + ("\n" + " " * cols) * missing if missing > 0 else text


def save_chart(
    chart: type[ChartView] | ChartView,
    data: Any,
    path: Path | str,
    cols: int = 120,
    rows: int = 40,
    theme: str = "light",
    scale: int = 1,
) -> Written:
    """Draw ``chart`` with ``data`` at ``cols`` × ``rows`` characters and save it to ``path``
    (.svg, .png or .txt, by its suffix). Raises :class:`FigureError` (an empty chart, a
    suffix, theme or scale it cannot make, no Pillow for a PNG) or ``OSError``; nothing is
    written then. Blocking (tens of milliseconds, more for a big PNG): call it off the
    event loop."""
    return save(chart_picture(chart, data, cols, rows), path, theme, scale)
