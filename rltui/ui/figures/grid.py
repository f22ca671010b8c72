"""Terminal text (ANSI escapes, or a rich ``Text``) as a grid of character cells, each with
its colours and weight: what the picture writers paint."""

from __future__ import annotations

from dataclasses import dataclass

from rich.color import Color, ColorType
from rich.style import Style
from rich.text import Text

from rltui.ui.figures.themes import ColourRef


@dataclass(frozen=True, slots=True)
class Cell:
    """One character cell: the character, its colours (None: the theme's default) and
    whether it is bold or dim."""

    char: str
    fg: ColourRef = None
    bg: ColourRef = None
    bold: bool = False
    dim: bool = False


BLANK = Cell(" ")


@dataclass(frozen=True)
class Grid:
    """Rows of cells, every row ``cols`` cells long."""

    rows: tuple[tuple[Cell, ...], ...]
    cols: int

    @property
    def height(self) -> int:
        return len(self.rows)

    def plain(self) -> str:
        """The characters alone, a line per row, without trailing blanks."""
        return "".join("".join(c.char for c in row).rstrip() + "\n" for row in self.rows)


def _ref(colour: Color | None) -> ColourRef:
    if colour is None or colour.type == ColorType.DEFAULT:
        return None
    if colour.type == ColorType.TRUECOLOR and colour.triplet is not None:
        return (colour.triplet.red, colour.triplet.green, colour.triplet.blue)
    return colour.number


def _cell(char: str, style: Style | None) -> Cell:
    if style is None:
        return Cell(char) if char != " " else BLANK
    fg, bg = _ref(style.color), _ref(style.bgcolor)
    if style.reverse:
        fg, bg = bg, fg
    return Cell(char, fg, bg, bool(style.bold), bool(style.dim))


def _line(line: Text) -> tuple[Cell, ...]:
    plain = line.plain
    styles: list[Style | None] = [None] * len(plain)
    base = Style.parse(line.style) if isinstance(line.style, str) else line.style
    if base:
        styles = [base] * len(plain)
    for span in line.spans:
        style = Style.parse(span.style) if isinstance(span.style, str) else span.style
        for i in range(max(0, span.start), min(len(plain), span.end)):
            previous = styles[i]
            styles[i] = style if previous is None else previous + style
    # Control characters (a stray tab, a bell) take no cell on a terminal's grid here.
    return tuple(_cell(ch, st) for ch, st in zip(plain, styles, strict=True) if ch >= " ")


def grid_of(content: str | Text) -> Grid:
    """The cells of ``content``: ANSI text (what plotext builds) or a rich ``Text``. Rows are
    padded to the widest; a final empty line (the text's last newline) is dropped."""
    text = Text.from_ansi(content) if isinstance(content, str) else content
    lines = [_line(line) for line in text.split("\n", allow_blank=True)]
    while lines and not lines[-1]:
        lines.pop()
    cols = max((len(line) for line in lines), default=0)
    return Grid(tuple(line + (BLANK,) * (cols - len(line)) for line in lines), cols)
