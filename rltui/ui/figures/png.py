"""A cell grid as a raster picture (PNG) through Pillow: the same shapes as the SVG (dots,
bars, lines), letters each centred in its cell, in a monospace font of the system where
one is found, else in Pillow's own font.

Pillow is optional (the ``plot`` extra); without it, :func:`png_of` says how to install it.
"""

from __future__ import annotations

import io
from typing import Any

from rltui.ui.figures.errors import FigureError
from rltui.ui.figures.glyphs import (
    BLOCKS,
    CELL_HEIGHT,
    CELL_WIDTH,
    DIM_OPACITY,
    DOT_RADIUS,
    DOTS,
    box_segments,
    braille_dots,
    kind_of,
)
from rltui.ui.figures.grid import Cell, Grid
from rltui.ui.figures.themes import RGB, Theme, blend

PILLOW_HINT = "pip install 'rltui[plot]'"
# Monospace fonts that Pillow finds by name in the system's font folders (Linux, macOS,
# Windows), by preference; Pillow's own font (proportional, fewer characters) after them.
MONOSPACE_FONTS = (
    "DejaVuSansMono.ttf",
    "LiberationMono-Regular.ttf",
    "Menlo.ttc",
    "consola.ttf",
    "cour.ttf",
)
MONOSPACE_SIZE = 13  # a monospace font at this size fills a cell 8 pixels wide
DEFAULT_SIZE = 10  # as does Pillow's own font at this one
_BASELINE = 12  # from the top of the cell, at scale 1


class PillowMissing(FigureError):
    """PNG pictures need Pillow, which is not installed."""


def require_pillow() -> tuple[Any, Any, Any]:
    """Pillow's modules; raises :class:`PillowMissing` with the way to install it."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise PillowMissing(
            f"PNG pictures need Pillow, which is not installed: {PILLOW_HINT} "
            "(or save as .svg or .txt, which need nothing more)"
        ) from None
    return Image, ImageDraw, ImageFont


def png_of(grid: Grid, theme: Theme, scale: int = 1) -> bytes:
    """The PNG file of ``grid``: ``cols × 8`` by ``rows × 16`` pixels, times ``scale``."""
    image_module, draw_module, font_module = require_pillow()
    cw, ch = CELL_WIDTH * scale, CELL_HEIGHT * scale
    image = image_module.new("RGB", (grid.cols * cw, grid.height * ch), theme.background)
    draw = draw_module.Draw(image)
    letters = _Letters(font_module, scale)
    for y, row in enumerate(grid.rows):
        top = y * ch
        for x, cell in enumerate(row):
            left = x * cw
            back = theme.rgb(cell.bg, theme.background)
            if cell.bg is not None:
                draw.rectangle([left, top, left + cw - 1, top + ch - 1], fill=back)
            kind = kind_of(cell.char)
            if kind == "blank":
                continue
            colour = _paint(cell, theme, back)
            if kind == "braille":
                r = max(1.0, DOT_RADIUS * cw)
                for fx, fy in braille_dots(cell.char):
                    cx, cy = left + fx * cw, top + fy * ch
                    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
            elif kind == "dot":
                r = max(1.0, DOTS[cell.char] * cw)
                cx, cy = left + cw / 2, top + ch / 2
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
            elif kind == "block":
                x0, y0, x1, y1, alpha = BLOCKS[cell.char]
                draw.rectangle(
                    [
                        left + round(x0 * cw),
                        top + round(y0 * ch),
                        left + round(x1 * cw) - 1,
                        top + round(y1 * ch) - 1,
                    ],
                    fill=blend(colour, back, alpha),
                )
            elif kind == "box":
                for x0, y0, x1, y1 in box_segments(cell.char):
                    draw.line(
                        [(left + x0 * cw, top + y0 * ch), (left + x1 * cw, top + y1 * ch)],
                        fill=colour,
                        width=scale,
                    )
            else:
                letters.draw(draw, cell, colour, left + cw / 2, top)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _paint(cell: Cell, theme: Theme, back: RGB) -> RGB:
    colour = theme.rgb(cell.fg, theme.foreground)
    return blend(colour, back, DIM_OPACITY) if cell.dim else colour


class _Letters:
    """Draws letters, each in the first font that has it."""

    def __init__(self, font_module: Any, scale: int) -> None:
        self.scale = scale
        self.fonts: list[Any] = []
        for name in MONOSPACE_FONTS:
            try:
                self.fonts.append(font_module.truetype(name, MONOSPACE_SIZE * scale))
                break
            except OSError:  # not on this system
                continue
        try:
            self.fonts.append(font_module.load_default(size=DEFAULT_SIZE * scale))
        except TypeError:  # Pillow before 10.1: one size only
            self.fonts.append(font_module.load_default())
        self.free_type = font_module.FreeTypeFont
        self._picked: dict[str, Any] = {}

    def font_for(self, char: str) -> Any:
        font = self._picked.get(char)
        if font is None:
            font = next((f for f in self.fonts if _has(f, char)), self.fonts[-1])
            self._picked[char] = font
        return font

    def draw(self, draw: Any, cell: Cell, colour: RGB, cx: float, top: int) -> None:
        font = self.font_for(cell.char)
        offsets = (0, 1) if cell.bold else (0,)  # bold: the letter twice, a pixel apart
        for dx in offsets:
            if isinstance(font, self.free_type):
                at = (cx + dx, top + _BASELINE * self.scale)
                draw.text(at, cell.char, fill=colour, font=font, anchor="ms")
            else:  # Pillow's bitmap font (no FreeType) takes no anchor: placed by hand
                x0, _, x1, _ = draw.textbbox((0, 0), cell.char, font=font)
                at = (cx + dx - (x1 - x0) / 2, top + 2 * self.scale)
                draw.text(at, cell.char, fill=colour, font=font)


def _has(font: Any, char: str) -> bool:
    """Whether ``font`` draws ``char`` as itself, not as its box for a missing letter."""
    try:
        mask, missing = font.getmask(char), font.getmask("\uffff")
    except (UnicodeError, ValueError, OSError):  # a bitmap font beyond Latin-1
        return False
    return mask.size != missing.size or bytes(mask) != bytes(missing)
