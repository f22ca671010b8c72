"""Schedules: arguments that change over a trial's budget (the learning rate, PPO's clip range).

An argument in :data:`rltui.spec.algorithms.SCHEDULABLE` takes, besides a number (constant):

- ``lin_0.2``: rl-baselines3-zoo's linear schedule, from 0.2 down to 0 at the end of the budget;
- a mapping ``{schedule: linear, start: 3e-4, end: 1e-5}``: ``constant`` (``start`` throughout),
  ``linear`` (``start`` to ``end``, 0 unless given) or ``exponential`` (``start`` to ``end``
  by a constant factor, both above 0).

Each part can be searched on its own with a dotted name, as Hydra writes a nested key:
``clip_range.start: interval(0.1, 0.3)`` beside ``clip_range: {schedule: linear}``.
The budget is the trial's: a paused and resumed trial goes on where its schedule was.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rltui.spec.algorithms import ArgKind
from rltui.spec.problems import KeyPath, Problem, did_you_mean, show_value

SCHEDULES = ("constant", "linear", "exponential")
SCHEDULE_KEYS = ("schedule", "start", "end")
LINEAR_PREFIX = "lin_"
_LINEAR = re.compile(r"lin_([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
EXAMPLE = "lin_0.2, or {schedule: linear, start: 0.2, end: 0}"


@dataclass(frozen=True)
class Schedule:
    """A value over the budget; called with the share of the budget left (1 at the start, 0
    at the end), as SB3 calls its schedules. Plain data, so checkpoints pickle it."""

    kind: str
    start: float
    end: float = 0.0

    def __call__(self, progress_remaining: float) -> float:
        done = 1.0 - progress_remaining
        if self.kind == "linear":
            return self.start + (self.end - self.start) * done
        if self.kind == "exponential":
            return self.start * (self.end / self.start) ** done
        return self.start


def is_schedule(value: Any) -> bool:
    """Whether ``value`` is written as a schedule (``lin_X`` or a mapping), right or wrong."""
    return isinstance(value, Mapping) or (
        isinstance(value, str) and value.startswith(LINEAR_PREFIX[:3])
    )


def linear_start(text: str) -> float | None:
    """X of ``lin_X``, or None when ``text`` is not of that form."""
    match = _LINEAR.fullmatch(text.strip())
    return float(match.group(1)) if match else None


def read(value: Any) -> Schedule | None:
    """The schedule a checked value describes, or None for a plain value."""
    if isinstance(value, str):
        start = linear_start(value)
        return None if start is None else Schedule("linear", start)
    if isinstance(value, Mapping):
        kind = str(value.get("schedule", "linear"))
        return Schedule(kind, float(value["start"]), float(value.get("end", 0.0)))
    return None


def part_kind(kind: ArgKind, part: str) -> ArgKind:
    """What the ``start`` or ``end`` of a schedule of an argument of ``kind`` accepts: the
    start is a value the argument takes; the end may also be the lower bound itself (a
    learning rate may fall to 0 at the very end)."""
    plain = replace(kind, null=False, words=(), word_pattern=None, word_help="", units=())
    if part == "end":
        return replace(plain, above=False, example=0.0)
    return plain


def unknown_key(key: str, path: KeyPath) -> Problem:
    guess = did_you_mean(str(key), SCHEDULE_KEYS)
    return Problem(
        (*path, key),
        f"'{key}' is not a part of a schedule",
        f"did you mean '{guess}'?" if guess else f"a schedule has {', '.join(SCHEDULE_KEYS)}",
    )


def not_linear(name: str, value: str, path: KeyPath) -> Problem:
    return Problem(
        path,
        f"{show_value(value)} is not a schedule",
        f"write {LINEAR_PREFIX} and the start value, e.g. {name}: lin_0.2 (linear to 0)",
    )


Candidates = dict[str, list[Any]]
"""Each part of a schedule that is given, with the values it may take in a trial."""


def combination_problems(
    name: str, parts: Candidates, paths: Mapping[str, KeyPath]
) -> list[Problem]:
    """What is wrong with a schedule as a whole: a part missing, or parts that do not go
    together (an exponential schedule ending at 0). ``paths`` says where each part is given,
    and under "" where to report what concerns no one part."""
    path = paths[""]
    problems = []
    if "schedule" not in parts:
        problems.append(
            Problem(
                path,
                f"the schedule of {name} does not say which it is",
                f"add schedule: linear (or {', '.join(SCHEDULES)}), e.g. {name}.schedule: linear",
            )
        )
    if "start" not in parts:
        problems.append(
            Problem(path, f"the schedule of {name} has no start", f"e.g. {name}.start: 0.2")
        )
    kinds = set(parts.get("schedule", ()))
    if "exponential" in kinds:
        ends = parts.get("end")
        if ends is None:
            problems.append(
                Problem(
                    path,
                    f"an exponential schedule of {name} needs an end above 0",
                    "e.g. end: 1e-5 (it falls by a constant factor, so it never reaches 0)",
                )
            )
        elif any((n := _number(end)) is not None and n <= 0 for end in ends):
            problems.append(
                Problem(
                    paths.get("end", path),
                    f"an exponential schedule of {name} may end at 0 or below here",
                    "its end must be above 0: it falls by a constant factor; "
                    "use schedule: linear to end at 0",
                )
            )
    if kinds == {"constant"} and "end" in parts:
        problems.append(
            Problem(
                paths.get("end", path),
                f"a constant schedule of {name} has no end",
                "drop end, or use schedule: linear",
            )
        )
    return problems


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)
