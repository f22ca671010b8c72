"""The one error a picture that cannot be made raises (kept apart from the writers, so that
the command line can name it without loading them)."""

from __future__ import annotations


class FigureError(ValueError):
    """A picture that cannot be made as asked (a suffix, a theme, a scale, an option that
    does not fit the study, an empty chart); the message says what to give instead."""
