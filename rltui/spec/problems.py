"""Problems found in a study file, each with a location the user can jump to."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
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


_guesses_left: ContextVar[int | None] = ContextVar("rltui_guesses_left", default=None)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt ``word``, or None when nothing is close (or when
    the budget of :func:`guessing_at_most` is spent)."""
    left = _guesses_left.get()
    if left is not None:
        if left <= 0:
            return None
        _guesses_left.set(left - 1)
    word = str(word)
    if len(word) > 200:  # no name is that long, and comparing costs time per character
        return None
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


@contextmanager
def guessing_at_most(count: int) -> Iterator[None]:
    """Within this block, :func:`did_you_mean` guesses ``count`` times at most: each guess
    compares the word with every candidate, and a hostile file can misspell thousands."""
    token = _guesses_left.set(count)
    try:
        yield
    finally:
        _guesses_left.reset(token)


def clip(text: str, most: int = 60) -> str:
    """``text``, cut to about ``most`` characters with an ellipsis: a message quotes the user's
    text, and a hostile file's text may be a megabyte long."""
    return text if len(text) <= most else text[: most - 1] + "…"


def show_value(value: Any) -> str:
    """A value as the user would write it in YAML: ``true``, ``null``, ``'abc'``, ``1e-05``
    (cut short when long)."""
    return clip(_show(value, 80), 80)


def _show(value: Any, room: int) -> str:
    # ``room``: how much text is still wanted; a long list stops being shown once it is used.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(clip(value, room))
    if isinstance(value, list | dict):
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        parts: list[str] = []
        for key, item in items:
            if room <= 0:
                parts.append("…")
                break
            part = _show(item, room)
            if key is not None:
                part = f"{clip(str(key), room)}: {part}"
            parts.append(part)
            room -= len(part) + 2
        inside = ", ".join(parts)
        return f"{{{inside}}}" if isinstance(value, dict) else f"[{inside}]"
    return str(value)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a study file.

    ``line`` and ``column`` are 1-based and filled in by the loader from the YAML source, so
    that code checking meaning only needs to know the key path. ``severity`` is ``error``
    (the study cannot be used), ``warning`` (it can, but likely not as meant) or ``note`` (it
    is read in a way worth knowing: a Hydra path's setting, a preset's parameter replaced);
    only errors refuse a study.
    """

    path: KeyPath
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None
    severity: str = "error"

    def located(self, line: int | None, column: int | None) -> Problem:
        return Problem(self.path, self.message, self.hint, line, column, self.severity)

    def key_label(self) -> str:
        """``search_space.lr: `` before the message; nothing for a place in the file that is
        no key's (a YAML syntax error, located by its line), which "(top level)" would
        misplace."""
        if not self.path and self.line is not None:
            return ""
        return f"{format_path(self.path)}: "

    def format(self, filename: str | None = None) -> str:
        where = filename or "<study>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.key_label()}{self.message}"
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
