"""Which characters a picture draws as shapes rather than as text, and their shapes, in
fractions of a character cell (0,0 the top left, 1,1 the bottom right).

Charts are made of braille dots (plotext's lines), block elements and shades (bars, the
timeline) and box-drawing lines (the frame and ticks). A font draws these unevenly, or not
at all; as shapes they join up from cell to cell as on the terminal.
"""

from __future__ import annotations

BRAILLE_FIRST, BRAILLE_LAST = 0x2800, 0x28FF
# Unicode's braille bits, dot 1 to dot 8, and where each dot sits in the 2 × 4 cell.
_BRAILLE_DOTS = (
    (0x01, 0, 0),
    (0x02, 0, 1),
    (0x04, 0, 2),
    (0x08, 1, 0),
    (0x10, 1, 1),
    (0x20, 1, 2),
    (0x40, 0, 3),
    (0x80, 1, 3),
)
DOT_RADIUS = 0.17  # of the cell's width: dots of neighbouring cells stay apart

Rect = tuple[float, float, float, float, float]
"""x0, y0, x1, y1 and an opacity."""

BLOCKS: dict[str, Rect] = {
    "█": (0, 0, 1, 1, 1.0),
    "▀": (0, 0, 1, 0.5, 1.0),
    "▄": (0, 0.5, 1, 1, 1.0),
    "▌": (0, 0, 0.5, 1, 1.0),
    "▐": (0.5, 0, 1, 1, 1.0),
    "░": (0, 0, 1, 1, 0.25),
    "▒": (0, 0, 1, 1, 0.5),
    "▓": (0, 0, 1, 1, 0.75),
    # Eighths, which bar charts end their bars with.
    **{chr(0x2581 + i): (0, 1 - (i + 1) / 8, 1, 1, 1.0) for i in range(7)},  # ▁ … ▇
    **{chr(0x2589 + i): (0, 0, (7 - i) / 8, 1, 1.0) for i in range(7)},  # ▉ … ▏
    "▔": (0, 0, 1, 1 / 8, 1.0),
    "▕": (7 / 8, 0, 1, 1, 1.0),
}

# Box-drawing characters by the cell edges their lines reach: left, right, up, down.
_L, _R, _U, _D = 1, 2, 4, 8
BOX: dict[str, int] = {
    "─": _L | _R,
    "│": _U | _D,
    "┌": _R | _D,
    "┐": _L | _D,
    "└": _R | _U,
    "┘": _L | _U,
    "├": _U | _D | _R,
    "┤": _U | _D | _L,
    "┬": _L | _R | _D,
    "┴": _L | _R | _U,
    "┼": _L | _R | _U | _D,
    "╭": _R | _D,
    "╮": _L | _D,
    "╰": _R | _U,
    "╯": _L | _U,
    "━": _L | _R,
    "┃": _U | _D,
    "╴": _L,
    "╶": _R,
    "╵": _U,
    "╷": _D,
}

# Scatter marks drawn as a round dot in the cell's middle, by radius (of the cell's width):
# plotext's "dot" marker among them, which many fonts lack.
DOTS: dict[str, float] = {"•": 0.25, "●": 0.4, "·": 0.12, "∙": 0.12}

Segment = tuple[float, float, float, float]
"""x0, y0, x1, y1."""


def braille_dots(char: str) -> list[tuple[float, float]]:
    """The centres of the dots a braille character sets; empty for any other character."""
    code = ord(char)
    if not BRAILLE_FIRST <= code <= BRAILLE_LAST:
        return []
    bits = code - BRAILLE_FIRST
    return [((col + 0.5) / 2, (row + 0.5) / 4) for bit, col, row in _BRAILLE_DOTS if bits & bit]


def is_braille(char: str) -> bool:
    return BRAILLE_FIRST <= ord(char) <= BRAILLE_LAST


def box_segments(char: str) -> list[Segment]:
    """The lines of a box-drawing character: a line through the cell where it crosses, half
    lines from the centre to each other edge it reaches."""
    edges = BOX.get(char, 0)
    out: list[Segment] = []
    if edges & _L and edges & _R:
        out.append((0, 0.5, 1, 0.5))
    elif edges & (_L | _R):
        out.append((0, 0.5, 0.5, 0.5) if edges & _L else (0.5, 0.5, 1, 0.5))
    if edges & _U and edges & _D:
        out.append((0.5, 0, 0.5, 1))
    elif edges & (_U | _D):
        out.append((0.5, 0, 0.5, 0.5) if edges & _U else (0.5, 0.5, 0.5, 1))
    return out


def kind_of(char: str) -> str:
    """How a character is drawn: "blank", "braille", "block", "box", "dot" or "text"."""
    if char == " " or char == "\u2800":
        return "blank"
    if is_braille(char):
        return "braille"
    if char in BLOCKS:
        return "block"
    if char in BOX:
        return "box"
    if char in DOTS:
        return "dot"
    return "text"


# A character cell in a picture, in pixels at scale 1: about a terminal's proportions.
CELL_WIDTH, CELL_HEIGHT = 8, 16
FONT_SIZE = 13  # of the SVG's text, in pixels at scale 1
DIM_OPACITY = 0.55  # how dim text and marks are drawn
