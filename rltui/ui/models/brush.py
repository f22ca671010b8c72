"""A brush on the parallel coordinates: one axis and a range along it, picked from the
keyboard (``a`` the axis, ``b`` the range), that keeps only the trials whose line crosses the
axis inside the range — which settings gave the top values, or what the trials with a small
learning rate did.

Ranges are fractions of the axis (0 the bottom, 1 the top, as drawn: the value axis runs from
the lowest value to the highest, a log parameter's on its log scale, choices by index).
"""

from __future__ import annotations

from dataclasses import dataclass

# The ranges ``b`` steps through, with their names.
RANGES: tuple[tuple[str, float, float], ...] = (
    ("all", 0.0, 1.0),
    ("top half", 0.5, 1.0),
    ("bottom half", 0.0, 0.5),
    ("top quarter", 0.75, 1.0),
    ("middle half", 0.25, 0.75),
    ("bottom quarter", 0.0, 0.25),
)


@dataclass(frozen=True)
class Brush:
    """Axis ``axis`` (0: the value, i: the i-th parameter) and range ``RANGES[band]``."""

    axis: int = 0
    band: int = 0

    @property
    def active(self) -> bool:
        return self.band % len(RANGES) != 0

    @property
    def name(self) -> str:
        return RANGES[self.band % len(RANGES)][0]

    def keeps(self, position: float | None) -> bool:
        """Whether a line crossing the axis at ``position`` (0 to 1) is inside the range."""
        _, low, high = RANGES[self.band % len(RANGES)]
        return position is not None and low - 1e-9 <= position <= high + 1e-9

    def next_axis(self, count: int) -> Brush:
        """The brush on the next of ``count`` axes (value first), the range kept."""
        return Brush((self.axis + 1) % max(1, count), self.band)

    def next_range(self) -> Brush:
        return Brush(self.axis, (self.band + 1) % len(RANGES))
