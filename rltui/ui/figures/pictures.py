"""The Charts tab's ``P``: every chart of the tab saved as pictures at once, SVG always and PNG
where Pillow is installed, into the study's ``pictures`` folder, with one line to say what was
written (or why not)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rltui.spec.wording import counted
from rltui.ui.figures.errors import FigureError
from rltui.ui.figures.png import PillowMissing
from rltui.ui.figures.render import EmptyChart, save_chart

if TYPE_CHECKING:
    from rltui.ui.widgets.charts import ChartView

SIZE = (120, 40)  # characters: a picture readable on a slide, whatever the terminal's size


def save_all(
    charts: list[tuple[type[ChartView], Any, str]], folder: Path, now: datetime
) -> tuple[str, str]:
    """Save each (chart class, its data, a name) as ``folder/STAMP-NAME.svg`` and ``.png``;
    returns the notification and its severity. Charts with nothing to draw are left out."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"pictures: cannot create {folder}: {exc.strerror or exc}", "error"
    saved, empty, png_missing = 0, 0, False
    for chart, data, name in charts:
        drawn = False
        for suffix in (".svg", ".png"):
            if suffix == ".png" and png_missing:
                continue
            try:
                save_chart(chart, data, folder / f"{stamp}-{name}{suffix}", *SIZE)
                drawn = True
            except EmptyChart:
                empty += 1
                break
            except PillowMissing:
                png_missing = True
            except (FigureError, OSError) as exc:
                return f"pictures: {name}{suffix}: {exc}", "error"
        saved += drawn
    if not saved:
        return "pictures: no chart has anything to draw yet", "warning"
    kinds = "SVG" if png_missing else "SVG and PNG"
    said = f"pictures: {counted(saved, 'chart')} saved as {kinds} in {folder} ({stamp}-*)"
    if empty:
        said += f"; {counted(empty, 'empty one')} left out"
    if png_missing:
        said += "; PNG needs Pillow: pip install 'rltui[plot]'"
    return said, "information"
