"""Problems found in a study file, each with a location the user can jump to."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """``("search_space", "lr")`` -> ``search_space.lr``; list indices as ``[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def show_value(value: Any) -> str:
    """A value as the user would write it in YAML: ``true``, ``null``, ``'abc'``, ``1e-05``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a study file.

    ``line`` and ``column`` are 1-based and filled in by the loader from the YAML source, so
    that code checking meaning only needs to know the key path.
    """

    path: KeyPath
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None
    severity: str = "error"

    def located(self, line: int | None, column: int | None) -> Problem:
        return Problem(self.path, self.message, self.hint, line, column, self.severity)

    def format(self, filename: str | None = None) -> str:
        where = filename or "<study>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {format_path(self.path)}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


@dataclass
class SpecError(Exception):
    """A study file that cannot be used, with every problem found in it."""

    problems: Sequence[Problem]
    filename: str | None = None
    errors_only: bool = field(default=True, repr=False)

    def __str__(self) -> str:
        return "\n".join(p.format(self.filename) for p in self.problems)
