"""A cell grid as a vector picture (SVG): dots, bars and lines as shapes, letters as text in
a monospace font, each character in its cell."""

from __future__ import annotations

from collections import defaultdict
from xml.sax.saxutils import escape, quoteattr

from rltui.ui.figures.glyphs import (
    BLOCKS,
    CELL_HEIGHT,
    CELL_WIDTH,
    DIM_OPACITY,
    DOT_RADIUS,
    DOTS,
    FONT_SIZE,
    box_segments,
    braille_dots,
    kind_of,
)
from rltui.ui.figures.grid import Cell, Grid
from rltui.ui.figures.themes import Theme, hex_of

FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Courier New', monospace"
_BASELINE = 12  # the text's baseline, from the top of its cell


def _n(value: float) -> str:
    """A coordinate, short: no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _opacity(cell: Cell, opacity: float = 1.0) -> float:
    return opacity * (DIM_OPACITY if cell.dim else 1.0)


def svg_of(grid: Grid, theme: Theme, scale: float = 1) -> str:
    """The SVG document of ``grid``: ``cols × 8`` by ``rows × 16`` pixels, times ``scale``."""
    width, height = grid.cols * CELL_WIDTH, grid.height * CELL_HEIGHT
    # Shapes grouped by their paint, so that a chart's hundreds of dots share one colour.
    backgrounds: dict[tuple[str, float], list[str]] = defaultdict(list)
    fills: dict[tuple[str, float], list[str]] = defaultdict(list)
    strokes: dict[tuple[str, float], list[str]] = defaultdict(list)
    texts: list[str] = []
    for y, row in enumerate(grid.rows):
        top = y * CELL_HEIGHT
        _backgrounds(row, top, theme, backgrounds)
        for x, cell in enumerate(row):
            left = x * CELL_WIDTH
            kind = kind_of(cell.char)
            colour = hex_of(theme.rgb(cell.fg, theme.foreground))
            if kind == "braille":
                r = _n(DOT_RADIUS * CELL_WIDTH)
                group = fills[(colour, _opacity(cell))]
                for fx, fy in braille_dots(cell.char):
                    cx, cy = _n(left + fx * CELL_WIDTH), _n(top + fy * CELL_HEIGHT)
                    group.append(f'<circle cx="{cx}" cy="{cy}" r="{r}"/>')
            elif kind == "dot":
                fills[(colour, _opacity(cell))].append(
                    f'<circle cx="{_n(left + CELL_WIDTH / 2)}" cy="{_n(top + CELL_HEIGHT / 2)}" '
                    f'r="{_n(DOTS[cell.char] * CELL_WIDTH)}"/>'
                )
            elif kind == "block":
                x0, y0, x1, y1, alpha = BLOCKS[cell.char]
                fills[(colour, _opacity(cell, alpha))].append(
                    _rect(left + x0 * CELL_WIDTH, top + y0 * CELL_HEIGHT, x1 - x0, y1 - y0)
                )
            elif kind == "box":
                group = strokes[(colour, _opacity(cell))]
                for x0, y0, x1, y1 in box_segments(cell.char):
                    group.append(
                        f'<line x1="{_n(_px(left, x0, CELL_WIDTH))}" '
                        f'y1="{_n(_px(top, y0, CELL_HEIGHT))}" '
                        f'x2="{_n(_px(left, x1, CELL_WIDTH))}" '
                        f'y2="{_n(_px(top, y1, CELL_HEIGHT))}"/>'
                    )
        texts.extend(_text_runs(row, top, theme))
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{_n(width * scale)}" height="{_n(height * scale)}" '
        f'viewBox="0 0 {width} {height}">',
        f'<rect width="{width}" height="{height}" fill="{hex_of(theme.background)}"/>',
    ]
    # Backgrounds first: a cell's marks are drawn over its background.
    for (colour, opacity), shapes in [*backgrounds.items(), *fills.items()]:
        out.append(f'<g fill="{colour}"{_alpha("fill", opacity)}>{"".join(shapes)}</g>')
    for (colour, opacity), shapes in strokes.items():
        out.append(
            f'<g stroke="{colour}" stroke-width="1" stroke-linecap="square"'
            f"{_alpha('stroke', opacity)}>{''.join(shapes)}</g>"
        )
    if texts:
        out.append(
            f'<g font-family={quoteattr(FONT_FAMILY)} font-size="{FONT_SIZE}" '
            f'text-anchor="middle" xml:space="preserve">{"".join(texts)}</g>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _px(origin: float, fraction: float, size: int) -> float:
    # A 1-pixel line through a cell's middle sits on the pixel, not between two.
    return origin + fraction * size + (0.5 if fraction == 0.5 else 0)


def _rect(x: float, y: float, fw: float, fh: float) -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" '
        f'width="{_n(fw * CELL_WIDTH)}" height="{_n(fh * CELL_HEIGHT)}"/>'
    )


def _alpha(paint: str, opacity: float) -> str:
    return "" if opacity >= 1 else f' {paint}-opacity="{_n(opacity)}"'


def _backgrounds(
    row: tuple[Cell, ...], top: int, theme: Theme, fills: dict[tuple[str, float], list[str]]
) -> None:
    """A rect per run of cells with the same background colour (none for the default)."""
    x = 0
    while x < len(row):
        bg = row[x].bg
        end = x + 1
        while end < len(row) and row[end].bg == bg:
            end += 1
        if bg is not None:
            colour = hex_of(theme.rgb(bg, theme.background))
            fills[(colour, 1.0)].append(_rect(x * CELL_WIDTH, top, end - x, 1))
        x = end


def _text_runs(row: tuple[Cell, ...], top: int, theme: Theme) -> list[str]:
    """A <text> per run of letters of one style (blanks inside a run join it), each letter
    placed at its cell's centre."""
    out: list[str] = []
    x = 0
    while x < len(row):
        cell = row[x]
        if kind_of(cell.char) != "text":
            x += 1
            continue
        style = (cell.fg, cell.bold, cell.dim)
        end = x + 1
        last = x
        while end < len(row):
            kind = kind_of(row[end].char)
            if kind == "text" and (row[end].fg, row[end].bold, row[end].dim) == style:
                last = end
            elif kind != "blank" or row[end].char != " ":
                break
            end += 1
        chars = "".join(c.char for c in row[x : last + 1])
        xs = " ".join(_n((i + 0.5) * CELL_WIDTH) for i in range(x, last + 1))
        colour = hex_of(theme.rgb(cell.fg, theme.foreground))
        extra = ' font-weight="bold"' if cell.bold else ""
        extra += _alpha("fill", _opacity(cell))
        out.append(
            f'<text x="{xs}" y="{top + _BASELINE}" fill="{colour}"{extra}>{escape(chars)}</text>'
        )
        x = last + 1
    return out
