"""How a trial's values read on screen: numbers, durations, progress, and state colours.

State colours come from the theme's semantic colours, so a 16-colour theme gives 16-colour
states. Everything here is pure and cheap: it runs for each changed cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.theme import Theme

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import TrialRow

Clock = Callable[[], datetime]

# Which semantic theme colour each state takes.
STATE_COLOUR: dict[TrialStatus, str] = {
    TrialStatus.WAITING: "secondary",
    TrialStatus.RUNNING: "primary",
    TrialStatus.PAUSED: "warning",
    TrialStatus.COMPLETE: "success",
    TrialStatus.PRUNED: "accent",
    TrialStatus.FAIL: "error",
}
STATE_ORDER = list(TrialStatus)
PENDING = {"pause": "pausing", "prune": "pruning", "kill": "killing", "resume": "resuming"}
SHORT = {
    TrialStatus.WAITING: "W",
    TrialStatus.RUNNING: "R",
    TrialStatus.PAUSED: "P",
    TrialStatus.COMPLETE: "C",
    TrialStatus.PRUNED: "X",
    TrialStatus.FAIL: "F",
}


def theme_style(theme: Theme, role: str, **kwargs: Any) -> Style:
    """A Rich style in one of the theme's semantic colours (``primary``, ``error``...)."""
    value = getattr(theme, role, None) or theme.primary
    return Style(color=Color.parse(value).rich_color, **kwargs)


def state_text(
    status: TrialStatus, theme: Theme, pending: str | None = None, noted: bool = False
) -> Text:
    """The state in its colour; a requested action not yet carried out reads ``pausing``...;
    a trial with a note (a resume that could not happen) reads ``PAUSED !``."""
    style = theme_style(theme, STATE_COLOUR[status], bold=status == TrialStatus.RUNNING)
    if pending:
        return Text(PENDING.get(pending, pending), style=style + Style(italic=True))
    text = Text(status.value, style=style)
    if noted:
        text.append(" !", style=theme_style(theme, "error", bold=True))
    return text


def best_and_mark(best: bool, marked: bool, theme: Theme) -> Text | str:
    """The star of the study's best trial, then a dot on a trial marked for comparison."""
    if not best and not marked:
        return ""
    text = Text("★" if best else " ", style=theme_style(theme, "warning"))
    if marked:
        text.append("●", style=theme_style(theme, "accent", bold=True))
    return text


def number(value: float | None) -> str:
    """Short, aligned-friendly numbers: 4 significant digits, no exponent for everyday sizes."""
    if value is None:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-3 or magnitude >= 1e6):
        return f"{value:.3g}"
    return f"{value:.4g}"


def param(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    return str(value)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 100 * 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d"


def trial_duration(row: TrialRow, clock: Clock) -> float | None:
    return row.duration_at(clock())


def progress(row: TrialRow) -> str:
    """``512/1,024 50%`` while training; the timesteps alone when the total is unknown."""
    if row.total:
        share = min(1.0, row.timesteps / row.total)
        return f"{_short(row.timesteps)}/{_short(row.total)} {share:4.0%}"
    return _short(row.timesteps) if row.timesteps else "–"


def _short(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1e6:.3g}M"
    if count >= 10_000:
        return f"{count / 1e3:.3g}k"
    return str(count)


def sort_key(row: TrialRow, column: str, clock: Clock) -> tuple[int, int, Any]:
    """A key that sorts missing values last and mixes no types."""
    value: Any
    if column == "number":
        value = row.number
    elif column == "state":
        value = STATE_ORDER.index(row.status)
    elif column == "value":
        value = row.value
    elif column == "progress":
        value = row.timesteps
    elif column == "last_eval":
        value = row.last_eval
    elif column == "duration":
        value = trial_duration(row, clock)
    elif column == "worker":
        value = row.worker
    elif column.startswith("param:"):
        value = row.params.get(column.removeprefix("param:"))
    else:
        value = None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (1, 0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, 0, value)
    return (0, 1, str(value))
