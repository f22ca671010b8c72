"""Saving terminal text (a chart as plotext built it) as a picture: SVG, PNG or plain text,
by the file's suffix."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text

from rltui.ui.figures.errors import FigureError
from rltui.ui.figures.glyphs import CELL_HEIGHT, CELL_WIDTH
from rltui.ui.figures.grid import grid_of
from rltui.ui.figures.themes import THEMES

SUFFIXES = (".svg", ".png", ".txt")
MAX_SCALE = 8
# A PNG is held whole in memory while it is made: about 200 MB at this many pixels.
MAX_PIXELS = 64_000_000


@dataclass(frozen=True)
class Written:
    """What :func:`save` wrote: the file, its size in bytes, and the picture's size (pixels
    for SVG and PNG, characters for text)."""

    path: Path
    size: int
    width: int
    height: int


def check(suffix: str, theme: str = "light", scale: int = 1) -> None:
    """Raise :class:`FigureError` when a picture with ``suffix`` (".svg", ".png", ".txt"),
    ``theme`` and ``scale`` cannot be made here (a PNG without Pillow included)."""
    suffix = suffix.lower()
    if suffix not in SUFFIXES:
        named = f"'{suffix}'" if suffix else "no suffix"
        raise FigureError(
            f"cannot save a picture with {named}: name the file with one of {', '.join(SUFFIXES)}"
        )
    if theme not in THEMES:
        raise FigureError(f"no theme '{theme}': use one of {', '.join(THEMES)}")
    if not 1 <= scale <= MAX_SCALE:
        raise FigureError(f"scale {scale} is out of range: use 1 to {MAX_SCALE}")
    if suffix == ".png":
        from rltui.ui.figures.png import require_pillow

        require_pillow()


def render_bytes(
    content: str | Text, suffix: str, theme: str = "light", scale: int = 1
) -> tuple[bytes, int, int]:
    """The file's bytes for ``suffix`` and the picture's width and height."""
    check(suffix, theme, scale)
    suffix = suffix.lower()
    grid = grid_of(content)
    if not grid.cols:
        raise FigureError("nothing to save: the chart's text is empty")
    if suffix == ".txt":
        return grid.plain().encode("utf-8"), grid.cols, grid.height
    width, height = grid.cols * CELL_WIDTH * scale, grid.height * CELL_HEIGHT * scale
    if suffix == ".png" and width * height > MAX_PIXELS:
        raise FigureError(
            f"a PNG of {width}x{height} pixels is too big to make: use a smaller scale "
            "or size, or save as .svg (which costs little at any size)"
        )
    if suffix == ".svg":
        from rltui.ui.figures.svg import svg_of

        return svg_of(grid, THEMES[theme], scale).encode("utf-8"), width, height
    from rltui.ui.figures.png import png_of

    return png_of(grid, THEMES[theme], scale), width, height


def save(content: str | Text, path: Path | str, theme: str = "light", scale: int = 1) -> Written:
    """Write ``content`` (ANSI text or a rich ``Text``) to ``path`` as the picture its suffix
    names (.svg, .png, .txt) in ``theme`` ("light" or "dark"), ``scale`` times the size of
    8 × 16 pixels a character.

    The whole file is made before anything is written, and it replaces ``path`` at once: a
    failure leaves no file, or the one that was there. Raises :class:`FigureError` for a
    suffix, theme or scale it cannot make, or a PNG without Pillow
    (:class:`~rltui.ui.figures.png.PillowMissing`), and ``OSError`` when the file cannot be written.
    """
    path = Path(path)
    data, width, height = render_bytes(content, path.suffix, theme, scale)
    # Created as open() creates a file (the umask applies), under a name no one else uses.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return Written(path, len(data), width, height)
