"""The GPUs a study names (``gpus: all | none | [0, 2]``), parsed without pydantic: the
local launcher reads them where the window starts workers, and the window's first paint loads
no pydantic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def parse_gpus(value: str | Sequence[int] | None) -> tuple[int, ...] | None:
    """``all`` (or nothing): None, every GPU; ``none``: (); ``"0,2"`` or ``[0, 2]``: those
    indices. Raises ValueError saying the accepted forms."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("none", ""):
            return ()
        parts: list[Any] = [p.strip() for p in text.split(",")]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise ValueError(f"gpus is {value!r}: write all, none, or a list of GPU indices")
    indices: list[int] = []
    for part in parts:
        if isinstance(part, bool) or not (
            (isinstance(part, int) and part >= 0) or (isinstance(part, str) and part.isdigit())
        ):
            raise ValueError(
                f"GPU '{part}' is not an index: write all, none, or indices such as 0,2"
            )
        index = int(part)
        if index in indices:
            raise ValueError(f"GPU {index} is named twice: name each GPU once")
        indices.append(index)
    return tuple(indices)
