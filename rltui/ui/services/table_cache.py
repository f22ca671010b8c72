"""The trial table as the window last showed it, kept for the window's next start.

Opening a study loads Optuna and reads the whole storage: half a second after the window is
drawn, a second on a big study. The rows the window last showed are kept in the user's cache
folder and shown at once, marked as such, until the study's own rows replace them (and
they stay, marked, when the study cannot be read). Only what the table shows is kept: the
last evaluation, not the whole curve; no traceback.

The file is JSON written by this user alone (mode 0600), replaced whole, and checked field
by field when read: a file that does not check, is too big, or is not a regular file is
ignored. It only ever makes the start faster; nothing else reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import platformdirs

from rltui.search.lifecycle import ControlAction, TrialStatus
from rltui.search.reader import Snapshot, TrialRow
from rltui.ui.services.settings import write_privately

if TYPE_CHECKING:
    from optuna.study import StudyDirection

FORMAT = 1  # bumped when what a row holds changes: older files are ignored
# Rows per line of the file. The window reads it on a thread while it draws its first
# frame; JSON is parsed in one call per line that holds the interpreter throughout, so a
# line is kept to a few milliseconds of parsing.
ROWS_PER_LINE = 500
MAX_BYTES = 64 * 1024 * 1024  # 10,000 trials take 2.7 MB; a bigger file is not read
ERROR_CHARS = 300  # of a failed trial's message: what the table and the filter use


@dataclass(frozen=True)
class _Direction:
    """An objective's direction as the cache names it (the views read only its name)."""

    name: str


_DIRECTIONS = {name: _Direction(name) for name in ("MINIMIZE", "MAXIMIZE")}


def cache_dir() -> Path:
    """The folder of kept tables (``$XDG_CACHE_HOME/rltui/tables`` on Linux)."""
    return Path(platformdirs.user_cache_dir("rltui")) / "tables"


def cache_file(study_file: Path | None, url: str | None, study: str | None) -> Path | None:
    """Where the table of the study opened this way is kept: by its study file when it was
    opened from one, else by its storage and name; None when neither is known."""
    if study_file is not None:
        with contextlib.suppress(OSError, RuntimeError):
            study_file = study_file.resolve()
        key = f"file\n{study_file}"
    elif url and study:
        key = f"storage\n{url}\n{study}"
    else:
        return None
    return cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


# Writing -----------------------------------------------------------------------------------


def save(path: Path, snapshot: Snapshot) -> None:
    """Keep ``snapshot``'s rows at ``path``; a cache that cannot be written is left alone."""
    head = {
        "format": FORMAT,
        "study": snapshot.study_name,
        "read_at": snapshot.read_at,
        "directions": [d.name for d in snapshot.directions],
        "objective_names": list(snapshot.objective_names),
    }
    rows = [_encode(row) for row in snapshot.rows.values()]
    with contextlib.suppress(OSError, ValueError, TypeError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = [json.dumps(head)]
        for start in range(0, len(rows), ROWS_PER_LINE):
            lines.append(json.dumps(rows[start : start + ROWS_PER_LINE], separators=(",", ":")))
        write_privately(path, "\n".join(lines) + "\n")


def _encode(row: TrialRow) -> list[Any]:
    last = list(row.curve[-1]) if row.curve else None
    return [
        row.number,
        row.trial_id,
        row.status.value,
        row.value,
        row.params,
        last,
        row.timesteps,
        row.total,
        row.started.timestamp() if row.started else None,
        row.completed.timestamp() if row.completed else None,
        row.worker,
        row.error[:ERROR_CHARS] if row.error else None,
        row.pending.value if row.pending else None,
        row.spec_version,
        row.earlier,
        row.frozen,
        row.note,
        list(row.values),
        row.target,
    ]


# Reading -----------------------------------------------------------------------------------


class _Unfit(Exception):
    """The file is not a table this version wrote."""


def load(path: Path) -> Snapshot | None:
    """The table kept at ``path`` as a snapshot with every row changed and no workers; None
    when there is none, or it does not check."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_BYTES:
            return None  # a FIFO would block the read, a device never end it
        head, *lines = path.read_text(encoding="utf-8").splitlines()
        return _decode(json.loads(head), lines)
    except (OSError, ValueError, KeyError, _Unfit, RecursionError):
        return None


def _decode(document: Any, lines: list[str]) -> Snapshot:
    document = _of(dict, document)
    if document.get("format") != FORMAT:
        raise _Unfit
    directions = tuple(_DIRECTIONS[_of(str, d)] for d in _of(list, document.get("directions")))
    if not directions:
        raise _Unfit
    rows = {}
    for line in lines:
        for item in _of(list, json.loads(line)):
            row = _row(item)
            rows[row.number] = row
    return Snapshot(
        study_name=_of(str, document.get("study")),
        direction=cast("StudyDirection", directions[0]),
        rows=rows,
        changed=frozenset(rows),
        workers=[],
        spec_version=0,
        draining=False,
        read_at=_number(document.get("read_at")),
        directions=cast("tuple[StudyDirection, ...]", directions),
        objective_names=tuple(_of(str, n) for n in _of(list, document.get("objective_names"))),
    )


_STATUS = {status.value: status for status in TrialStatus}
_PENDING = {action.value: action for action in ControlAction}
_NUMBER = (int, float)
_NONE = type(None)
# Each field of a kept row and the JSON types it may have (read per row: a whole table
# is checked in tens of milliseconds).
_KINDS: tuple[type | tuple[type, ...], ...] = (
    int,  # number
    int,  # trial_id
    str,  # status
    (int, float, _NONE),  # value
    dict,  # params
    (list, _NONE),  # the last evaluation: [timesteps, value]
    int,  # timesteps
    (int, _NONE),  # total
    (int, float, _NONE),  # started
    (int, float, _NONE),  # completed
    (str, _NONE),  # worker
    (str, _NONE),  # error
    (str, _NONE),  # pending
    (int, _NONE),  # spec_version
    _NUMBER,  # earlier
    _NUMBER,  # frozen
    (str, _NONE),  # note
    list,  # values
    (int, _NONE),  # target
)
_PARAM = (str, int, float, _NONE)


def _row(item: Any) -> TrialRow:
    if type(item) is not list or len(item) != len(_KINDS):
        raise _Unfit
    for field, kind in zip(item, _KINDS, strict=True):
        if not isinstance(field, kind):
            raise _Unfit
    (number, trial_id, status, value, params, last, timesteps, total, started, completed,
     worker, error, pending, version, earlier, frozen, note, values, target) = item  # fmt: skip
    curve: tuple[tuple[int, float], ...] = ()
    if last is not None:
        if len(last) != 2 or type(last[0]) is not int or not isinstance(last[1], _NUMBER):
            raise _Unfit
        curve = ((last[0], float(last[1])),)
    for param in params.values():
        if not isinstance(param, _PARAM):
            raise _Unfit
    for one in values:
        if not isinstance(one, _NUMBER):
            raise _Unfit
    try:
        return TrialRow(
            number=number,
            trial_id=trial_id,
            status=_STATUS[status],
            value=value,
            params=params,
            curve=curve,
            timesteps=timesteps,
            total=total,
            started=None if started is None else _moment(started),
            completed=None if completed is None else _moment(completed),
            worker=worker,
            error=error,
            traceback=None,
            pending=None if pending is None else _PENDING[pending],
            spec_version=version,
            earlier=earlier,
            frozen=frozen,
            note=note,
            values=tuple(values),
            target=target,
        )
    except KeyError as exc:  # a state or a request this version does not know
        raise _Unfit from exc


def _of(kind: type, value: Any) -> Any:
    if not isinstance(value, kind):
        raise _Unfit
    return value


def _number(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _Unfit
    return float(value)


def _moment(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds)
    except (OverflowError, OSError, ValueError) as exc:  # out of range, NaN
        raise _Unfit from exc
