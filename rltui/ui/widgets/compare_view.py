"""The comparison view: logged columns side by side, one small chart per column, one line
per compared trial in the same colour in every chart, and a legend above them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Static

from rltui.ui.display.cells import param
from rltui.ui.models.metrics import MAX_CHARTS, Comparison, distinguishing
from rltui.ui.models.trial_query import abbreviate
from rltui.ui.widgets.charts import MetricChart

HINT = "space marks trials (Trials tab) · m: columns"


def legend(comparison: Comparison, params: Mapping[int, Mapping[str, Any]] | None = None) -> Text:
    """``■ #4 lr=0.001 selected  ■ #6 lr=0.01 best · vs timesteps · …``, each square in the
    trial's colour, each trial named by the parameters that set it apart from the others."""
    text = Text()
    colours = comparison.target.colours()
    numbers = comparison.target.numbers
    apart = distinguishing({n: (params or {}).get(n, {}) for n in numbers})
    short = abbreviate(name for values in apart.values() for name in values)
    for number, role in comparison.target.trials:
        text.append("■ ", style=colours[number])
        text.append(f"#{number}")
        values = apart.get(number, {})
        if values and len(numbers) > 1:
            text.append(" " + ",".join(f"{short[k]}={param(v)}" for k, v in values.items()))
        if role != "marked":
            text.append(f" {role}", style="dim")
        text.append("  ")
    if comparison.target.left_out:
        text.append(f"(+{comparison.target.left_out} marked, not shown) ", style="dim")
    text.append(f"vs timesteps · {HINT}", style="dim")
    return text


def grid_shape(count: int) -> tuple[int, int]:
    """(columns, rows) for ``count`` charts: side by side first, then two rows."""
    if count <= 2:
        return max(1, count), 1
    if count <= 4:
        return 2, 2
    return 3, 2


class CompareView(Vertical):
    """Shows a :class:`Comparison`; charts are redrawn only when their data changed."""

    DEFAULT_CSS = """
    CompareView { height: 1fr; }
    CompareView > #compare-legend { height: auto; max-height: 3; padding: 0 1; }
    CompareView > #compare-grid { height: 1fr; grid-gutter: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.comparison: Comparison | None = None
        self.params: Mapping[int, Mapping[str, Any]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(f"no trials to compare yet · {HINT}", style="dim"), id="compare-legend")
        with Grid(id="compare-grid"):
            for index in range(MAX_CHARTS):
                yield MetricChart(id=f"compare-{index}")

    def on_mount(self) -> None:
        if self.comparison is None:
            self._layout(1)
        else:  # shown before it was mounted
            self._draw()

    @property
    def charts(self) -> list[MetricChart]:
        return list(self.query(MetricChart))

    def show(
        self, comparison: Comparison, params: Mapping[int, Mapping[str, Any]] | None = None
    ) -> None:
        """Draw ``comparison``; ``params`` (each trial's parameters) name trials in the legend."""
        if comparison == self.comparison and params == self.params:
            return
        self.comparison, self.params = comparison, params
        if self.is_mounted:
            self._draw()

    def _draw(self) -> None:
        comparison, params = self.comparison, self.params
        assert comparison is not None
        self.query_one("#compare-legend", Static).update(
            legend(comparison, params)
            if comparison.target.trials
            else Text(f"no trial selected · {HINT}", style="dim")
        )
        self._layout(len(comparison.charts))
        for chart, data in zip(self.charts, comparison.charts, strict=False):
            if chart.data != data:
                chart.set_data(data)

    def _layout(self, count: int) -> None:
        columns, rows = grid_shape(count)
        grid = self.query_one("#compare-grid", Grid)
        grid.styles.grid_size_columns = columns
        grid.styles.grid_size_rows = rows
        for index, chart in enumerate(self.charts):
            chart.display = index < count
            # Three charts: the third one spans the second row.
            chart.styles.column_span = 2 if count == 3 and index == 2 else 1
