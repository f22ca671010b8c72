"""Charts saved as pictures: SVG (vector), PNG (raster, with Pillow) or plain text.

A picture is a chart drawn as the window draws it, by its ChartView into a plotext plot of a
chosen size in character cells (:mod:`.render`); the ANSI text plotext builds is read into a
grid of cells (:mod:`.grid`) and painted cell by cell (:mod:`.svg`, :mod:`.png`) in a fixed
light or dark theme (:mod:`.themes`). :mod:`.registry` names the charts ``rltui plot`` draws.
The writers take text, never widgets: only :mod:`.render` imports Textual.

The names below load their modules when first used: the command line reads the registry
without paying for Rich, Textual or plotext.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rltui.ui.figures.errors import FigureError
    from rltui.ui.figures.output import SUFFIXES, Written, save
    from rltui.ui.figures.render import EmptyChart, chart_picture, save_chart

__all__ = [
    "SUFFIXES",
    "EmptyChart",
    "FigureError",
    "Written",
    "chart_picture",
    "save",
    "save_chart",
]

_WHERE = {
    "FigureError": "errors",
    "SUFFIXES": "output",
    "Written": "output",
    "save": "output",
    "EmptyChart": "render",
    "chart_picture": "render",
    "save_chart": "render",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
