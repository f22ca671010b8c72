"""Counts as people write them: ``1 trial``, ``3 trials``, never ``trial(s)``."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` (with thousands separators) and ``noun``, plural unless the count is one;
    ``plural`` for a noun that does not take an s."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def verb(count: int, singular: str, plural: str) -> str:
    """The verb that agrees with ``count`` things: ``verb(1, "has", "have")``."""
    return singular if count == 1 else plural
