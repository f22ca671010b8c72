"""Study files to and from other tools' configurations: rl-baselines3-zoo's hyperparams files
(both ways) and Hydra projects tuned with Hydra's Optuna sweeper (in).

This package sits above :mod:`rltui.spec` and :mod:`rltui.search` and below the command line.
Importing it loads neither torch, Stable-Baselines3, Textual nor Hydra: Hydra is imported when
a project is composed, and only there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rltui.spec.problems import Problem, show_value


@dataclass(frozen=True)
class Unmapped:
    """A key of the source that has no place in the result: where it was, its value (as read),
    and a hint saying why, or what to do instead."""

    key: str
    value: Any
    hint: str

    def line(self) -> str:
        """One line of printable text for the user, also written as a comment in the result
        (a YAML comment ends at a line break and may hold no control characters)."""
        return one_line(f"{self.key}: {show_value(self.value)} -- {self.hint}")


@dataclass(frozen=True)
class Conversion:
    """What a conversion produced: the text of the file (a study file, or a zoo hyperparams
    file), a name to save it under (the study's name; for a zoo file, the study's with
    ``-zoo``), the keys it could not carry over, notes on choices it made, and the problems
    the check of a produced study file still found (empty when it is ready to run)."""

    text: str
    name: str
    unmapped: tuple[Unmapped, ...] = ()
    notes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


class ConversionError(Exception):
    """A source that cannot be converted at all (a file that is not what it should be, an
    entry that is missing); ``message`` says what and where, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message if hint is None else f"{message} ({hint})")
        self.message, self.hint = message, hint


def one_line(text: str) -> str:
    """``text`` on one line, whitespace runs as one space and other unprintable characters
    escaped, so that it can stand in a comment."""
    flat = " ".join(text.split())
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in flat)


__all__ = ["Conversion", "ConversionError", "Unmapped", "one_line"]
