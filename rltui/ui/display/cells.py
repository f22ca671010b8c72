"""How a trial reads in the trial table: its columns, numbers, durations, progress, and
state colours.

State colours come from the theme's semantic colours, so a 16-colour theme gives 16-colour
states. Text that comes from users or the storage (parameter values, worker names, column
names) is made a :class:`~rich.text.Text` here, never a string, because the table reads a
plain string as Rich markup. Everything here is pure and cheap: it runs for each changed cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.theme import Theme

from rltui.search.lifecycle import ControlAction, TrialStatus
from rltui.search.reader import TrialRow
from rltui.ui.models.trial_query import abbreviate

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
PENDING = {
    ControlAction.PAUSE: "pausing",
    ControlAction.PRUNE: "pruning",
    ControlAction.KILL: "killing",
    ControlAction.RESUME: "resuming",
}
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
    status: TrialStatus, theme: Theme, pending: ControlAction | None = None, noted: bool = False
) -> Text:
    """The state in its colour; a requested action not yet carried out reads ``pausing``...;
    a trial with a note (a resume that could not happen) reads ``PAUSED !``."""
    style = theme_style(theme, STATE_COLOUR[status], bold=status == TrialStatus.RUNNING)
    if pending:
        return Text(PENDING[pending], style=style + Style(italic=True))
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
    """A parameter value as plain text (numbers as :func:`number` writes them)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    return str(value)


def literal(text: str) -> Text:
    """Text shown as it is: ``[red]x`` stays ``[red]x``; too long, it ends in an ellipsis."""
    return Text(text, overflow="ellipsis", no_wrap=True, end="")


def param_cell(value: Any) -> str | Text:
    """A parameter's cell: numbers as plain strings (they hold no markup), the rest literal."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    return literal(str(value))


def value_cell(row: TrialRow, index: int = 0) -> str:
    """Objective ``index``'s value (the first: ``value``); a failed trial has none ("–"): its
    reason is in the detail."""
    return "–" if row.status == TrialStatus.FAIL else number(objective_value(row, index))


def objective_value(row: TrialRow, index: int) -> float | None:
    """The trial's value of objective ``index``, or None."""
    if index == 0:
        return row.value
    return row.values[index] if index < len(row.values) else None


def objective_key(index: int) -> str:
    """The column key of objective ``index``: ``value`` for the first, as with one."""
    return "value" if index == 0 else f"value:{index}"


def objective_index(key: str) -> int | None:
    """The objective a column key stands for (``value`` 0, ``value:2`` 2), or None."""
    if key == "value":
        return 0
    if key.startswith("value:") and key[6:].isdigit():
        return int(key[6:])
    return None


def rank_cell(rank: int | None) -> str:
    """A trial's domination rank (1 = on the Pareto front); "–" when it has none."""
    return "–" if rank is None else str(rank)


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


def moment(seconds: float, clock: Clock) -> str:
    """A time of day, with its date when it is not today's: ``14:02:11``, ``5 Dec 14:02``."""
    when = datetime.fromtimestamp(seconds)
    if when.date() == clock().date():
        return when.strftime("%H:%M:%S")
    return f"{when.day} {when.strftime('%b %H:%M')}"


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


def sort_key(
    row: TrialRow, column: str, clock: Clock, ranks: Mapping[int, int] | None = None
) -> tuple[int, int, Any]:
    """A key that sorts missing values last and mixes no types. ``ranks``: each trial's
    domination rank, for the ``rank`` column of a study with several objectives."""
    value: Any
    index = objective_index(column)
    if index is not None:
        value = objective_value(row, index)
    elif column == "rank":
        value = (ranks or {}).get(row.number)
    elif column == "number":
        value = row.number
    elif column == "state":
        value = STATE_ORDER.index(row.status)
    elif column == "best":  # the star column sorts by value, best first
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


def ordered(
    rows: list[TrialRow],
    column: str,
    reverse: bool,
    clock: Clock,
    ranks: Mapping[int, int] | None = None,
) -> list[TrialRow]:
    """``rows`` sorted by ``column``; missing values go last in either direction."""
    if column == "number":  # the default, as a big study opens: every trial has one
        return sorted(rows, key=lambda r: r.number, reverse=reverse)
    keys = {row.number: sort_key(row, column, clock, ranks) for row in rows}
    present = [r for r in rows if keys[r.number][0] == 0]
    present.sort(key=lambda r: keys[r.number], reverse=reverse)
    return present + sorted((r for r in rows if keys[r.number][0] != 0), key=lambda r: r.number)


# Columns ---------------------------------------------------------------------------

# key, label, width (without the cell padding)
BASE_COLUMNS: list[tuple[str, str, int]] = [
    ("number", "#", 4),
    ("state", "state", 8),
    ("value", "value", 9),
    ("best", "★", 2),  # the best trial's star, and "●" on trials marked for comparison
    ("progress", "progress", 16),  # "20.5k/20.5k 100%"
    ("last_eval", "last eval", 9),
    ("duration", "time", 7),
    ("worker", "worker", 8),
]
FIXED = ("number", "state")  # never scroll sideways: the trial a key acts on stays in view
ESSENTIAL = ("number", "state", "value", "best")
# Base columns that give way to the parameters when the table is narrow, the first to give
# way last; those that give way move to the right end, still reached by scrolling.
YIELDING = ("progress", "duration", "last_eval", "worker")
PARAM_WIDTH = (8, 12)  # "0.000316", "1.23e-05" fit; a longer name widens up to the second


@dataclass(frozen=True)
class TableColumn:
    """One column of the trial table as laid out for a width."""

    key: str  # "number", ..., or "param:<name>"
    label: str  # the heading; a parameter's short name
    width: int  # cells, without padding


def param_key(name: str) -> str:
    return f"param:{name}"


def table_columns(
    params: Sequence[str], width: int, padding: int = 1, objectives: Sequence[str] = ()
) -> list[TableColumn]:
    """The trial table's columns for ``width`` cells, in display order: the fixed and
    essential columns, the parameters and base columns that fit (parameters first), then the
    rest (reached by scrolling right). Several ``objectives`` (their names) get a value
    column each, named by the objective, and the domination rank's column beside them."""
    base = {key: TableColumn(key, label, size) for key, label, size in BASE_COLUMNS}
    essential = list(ESSENTIAL)
    if len(objectives) > 1:
        for index, name in enumerate(objectives):
            size = min(max(len(name), base["value"].width), PARAM_WIDTH[1])
            base[objective_key(index)] = TableColumn(objective_key(index), name, size)
        base["rank"] = TableColumn("rank", "rank", 4)
        keys = [objective_key(i) for i in range(len(objectives))]
        at = essential.index("value")
        essential[at : at + 1] = [*keys, "rank"]
    shorts = abbreviate(params)
    low, high = PARAM_WIDTH
    columns = [
        TableColumn(param_key(name), shorts[name], min(max(len(shorts[name]), low), high))
        for name in params
    ]
    room = width - sum(base[key].width + 2 * padding for key in essential)
    shown: list[TableColumn] = []
    for column in columns:
        if column.width + 2 * padding > room:
            break
        shown.append(column)
        room -= column.width + 2 * padding
    fitting = set()
    for key in YIELDING:
        if base[key].width + 2 * padding <= room:
            fitting.add(key)
            room -= base[key].width + 2 * padding
    first = [base[key] for key in essential[:2]]
    first += [base[key] for key in essential[2:] if key != "best"]
    first += [base[key] for key, _, _ in BASE_COLUMNS if key == "best" or key in fitting]
    rest = [base[key] for key, _, _ in BASE_COLUMNS if key in YIELDING and key not in fitting]
    return first + shown + columns[len(shown) :] + rest
