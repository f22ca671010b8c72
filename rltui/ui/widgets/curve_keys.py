"""The reward curves' keys in the Charts tab (:class:`rltui.ui.widgets.charts_pane.ChartsPane`
binds them; its ``action_curve_*`` methods set :class:`rltui.ui.models.curves.CurveOptions`).

Only ``s`` and ``m`` show in the footer, which has room for two more keys at 80 columns;
the help (F1) lists them all.
"""

from __future__ import annotations

from textual.binding import Binding

CURVE_BINDINGS = [
    Binding(
        "s",
        "curve_smoothing",
        "EMA",
        tooltip="Reward curves: smoothing, an EMA of weight 0 / 0.6 / 0.9 / 0.99",
        id="charts.smoothing",
    ),
    Binding(
        "l",
        "curve_log_y",
        "Log y",
        show=False,
        tooltip="Reward curves: log / linear y axis",
        id="charts.log_y",
    ),
    Binding(
        "x",
        "curve_x_axis",
        "X axis",
        show=False,
        tooltip="Reward curves: timesteps / wall time since each trial's start on x",
        id="charts.x_axis",
    ),
    Binding(
        "z",
        "curve_zoom",
        "Zoom",
        show=False,
        tooltip="Reward curves: zoom to all / the last half / the last quarter / the "
        "selected trial",
        id="charts.zoom",
    ),
    Binding(
        "Z",
        "curve_zoom_reset",
        "Reset zoom",
        show=False,
        tooltip="Reward curves: back to all of the x axis",
        id="charts.zoom_reset",
    ),
    Binding(
        "m",
        "curve_metric",
        "Metric",
        tooltip="Reward curves: the reward or a column of the trials' training logs "
        "(losses, approx_kl, fps, …)",
        id="charts.metric",
    ),
]
