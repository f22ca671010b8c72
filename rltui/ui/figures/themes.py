"""The colours a picture is painted in: the 16 ANSI colours, and the default foreground and
background, for a light background (papers, slides) and a dark one.

Charts speak ANSI colour names only (16 colours, so that they read in any terminal); a
picture has no terminal to ask, so each theme fixes them. The light theme darkens the
colours that would vanish on white (white, yellow, cyan) as light terminal themes do.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.color import Color

RGB = tuple[int, int, int]
ColourRef = int | RGB | None
"""A cell's colour as the terminal text gave it: an ANSI number (0–15 the named colours,
16–255 the xterm palette), a true colour, or None for the default."""


@dataclass(frozen=True)
class Theme:
    """A background, a default foreground and the 16 ANSI colours (black … bright white)."""

    name: str
    background: RGB
    foreground: RGB
    ansi: tuple[RGB, ...]

    def rgb(self, ref: ColourRef, default: RGB) -> RGB:
        """The colour ``ref`` stands for in this theme; ``default`` for None."""
        if ref is None:
            return default
        if isinstance(ref, tuple):
            return ref
        if 0 <= ref < len(self.ansi):
            return self.ansi[ref]
        triplet = Color.from_ansi(ref).get_truecolor()
        return (triplet.red, triplet.green, triplet.blue)


LIGHT = Theme(
    "light",
    background=(255, 255, 255),
    foreground=(32, 32, 32),
    ansi=(
        (0, 0, 0),  # black
        (200, 30, 30),  # red
        (20, 140, 40),  # green
        (175, 125, 0),  # yellow: darkened to read on white
        (30, 80, 200),  # blue
        (160, 40, 160),  # magenta
        (0, 130, 140),  # cyan: darkened
        (80, 80, 80),  # white: a dark grey, or it would vanish on the page
        (100, 100, 100),  # bright black
        (230, 60, 60),  # bright red
        (40, 170, 60),  # bright green
        (200, 150, 0),  # bright yellow
        (60, 110, 230),  # bright blue
        (190, 70, 190),  # bright magenta
        (0, 160, 170),  # bright cyan
        (0, 0, 0),  # bright white: black on the page
    ),
)

DARK = Theme(
    "dark",
    background=(24, 24, 28),
    foreground=(220, 220, 220),
    ansi=(
        (90, 90, 90),  # black: a grey, or it would vanish on the dark background
        (230, 80, 80),  # red
        (100, 200, 100),  # green
        (230, 200, 80),  # yellow
        (90, 150, 240),  # blue
        (210, 110, 210),  # magenta
        (80, 200, 210),  # cyan
        (225, 225, 225),  # white
        (130, 130, 130),  # bright black
        (255, 110, 110),  # bright red
        (130, 230, 130),  # bright green
        (255, 230, 120),  # bright yellow
        (130, 180, 255),  # bright blue
        (240, 140, 240),  # bright magenta
        (120, 230, 240),  # bright cyan
        (255, 255, 255),  # bright white
    ),
)

THEMES = {theme.name: theme for theme in (LIGHT, DARK)}


def blend(colour: RGB, background: RGB, opacity: float) -> RGB:
    """``colour`` laid over ``background`` at ``opacity`` (0 to 1)."""
    return (
        round(colour[0] * opacity + background[0] * (1 - opacity)),
        round(colour[1] * opacity + background[1] * (1 - opacity)),
        round(colour[2] * opacity + background[2] * (1 - opacity)),
    )


def hex_of(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)
