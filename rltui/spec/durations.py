"""Durations in a study file: a number of seconds, or a number with a unit (``30m``)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*([smhd]?)\s*")


def seconds(value: Any) -> Any:
    """Seconds, from a number of them or a text with a unit: ``90s``, ``30m``, ``2h``, ``1d``;
    anything else is left for the number's own checks, but for true and false."""
    if isinstance(value, bool):  # YAML's true would be read as 1 second
        raise PydanticCustomError(
            "number_not_bool", "must be a number, not {value}", {"value": value}
        )
    if isinstance(value, str):
        found = _DURATION_RE.fullmatch(value)
        if found is None:
            raise PydanticCustomError(
                "duration",
                "'{value}' is not a duration: write seconds (600) or a number with a unit "
                "s, m, h or d (90s, 30m, 2h)",
                {"value": value},
            )
        return float(found[1]) * _UNITS[found[2]]
    return value


# At most 366 days: a longer limit is no limit.
Duration = Annotated[float, BeforeValidator(seconds), Field(gt=0, le=366 * 86400)]


def said(value: float) -> str:
    """``value`` seconds as a study file would say them: ``90s``, ``30m``, ``2h``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{value / size:g}{unit}"
    return f"{value:g}s"
