"""Durations in a study file: a number of seconds, or a number with a unit (``30m``); a time
limit may also be a multiple of the study's own trials' run time (``3x``)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*([smhd]?)\s*")


def said(value: float) -> str:
    """``value`` seconds as a study file would say them: ``90s``, ``30m``, ``2h``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{value / size:g}{unit}"
    return f"{value:g}s"


_MULTIPLE_RE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*[x×]\s*")
LEAST_MULTIPLE = 1.5  # a trial limited to the median pace would prune half the trials


def time_limit(value: Any) -> Any:
    """A time limit: seconds, a number with a unit (``90s``, ``30m``, ``2h``, ``1d``), or a
    multiple of the median time the study's complete trials took for the budget (``3x``),
    kept as that text."""
    if isinstance(value, bool):  # YAML's true would be read as 1 second
        raise PydanticCustomError(
            "number_not_bool", "must be a number, not {value}", {"value": value}
        )
    if isinstance(value, str):
        if (found := _MULTIPLE_RE.fullmatch(value)) is not None:
            if float(found[1]) < LEAST_MULTIPLE:
                raise PydanticCustomError(
                    "multiple_too_small",
                    "{value} would prune every trial slower than the median: write {least}x "
                    "or more, or a duration (90s, 30m)",
                    {"value": value.strip(), "least": f"{LEAST_MULTIPLE:g}"},
                )
            return f"{float(found[1]):g}x"
        if (found := _DURATION_RE.fullmatch(value)) is None:
            raise PydanticCustomError(
                "time_limit",
                "'{value}' is not a time limit: write seconds (600), a number with a unit s, "
                "m, h or d (90s, 30m, 2h), or a multiple of the median complete trial's time "
                "(3x)",
                {"value": value},
            )
        value = float(found[1]) * _UNITS[found[2]]
    if not isinstance(value, int | float):
        raise PydanticCustomError(
            "time_limit_type",
            "must be seconds (600), a duration (90s, 30m) or a multiple (3x), got {value}",
            {"value": repr(value)},
        )
    if not 0 < value <= 366 * 86400:  # a longer limit is no limit
        raise PydanticCustomError(
            "time_limit_range",
            "must be above 0 and at most 366 days (31622400 s), got {value}",
            {"value": said(value)},
        )
    return float(value)


# Seconds, or a multiple of the median complete trial's time for the budget (``"3x"``).
TimeLimit = Annotated[float | str, BeforeValidator(time_limit)]


def multiple(limit: float | str | None) -> float | None:
    """The multiple a relative time limit (``"3x"``) says; None for seconds or no limit."""
    if isinstance(limit, str) and limit.endswith("x"):
        return float(limit[:-1])
    return None
