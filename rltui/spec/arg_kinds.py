"""Whether a value fits what an argument accepts (an :class:`ArgKind`), and how to say so."""

from __future__ import annotations

import math
import re
from typing import Any

from optuna.distributions import BaseDistribution, FloatDistribution

from rltui.spec import algorithms as algos
from rltui.spec import limits
from rltui.spec.algorithms import ArgKind
from rltui.spec.grammar import coerce_scalar
from rltui.spec.problems import KeyPath, Problem, did_you_mean, show_value


def describe(kind: ArgKind) -> str:
    """``a whole number of at least 1, or [n, step|episode]``: what ``kind`` accepts."""
    if kind.type is bool:
        text = "true or false"
    else:
        noun = "a whole number" if kind.type is int else "a number"
        low, high = num(kind.low), num(kind.high)
        if kind.low is not None and kind.high is not None:
            above = f"{noun} above {low} and at most {high}"
            text = above if kind.above else f"{noun} from {low} to {high}"
        elif kind.low is not None:
            text = f"{noun} above {low}" if kind.above else f"{noun} of at least {low}"
        elif kind.high is not None:
            text = f"{noun} of at most {high}"
        else:
            text = noun
    extras = [f"[n, {'|'.join(kind.units)}]"] if kind.units else []
    extras += [repr(w) for w in kind.words]
    extras += [kind.word_help] if kind.word_help else []
    extras += ["null"] if kind.null else []
    return ", or ".join([text, *extras])


def fits(name: str, kind: ArgKind, value: Any) -> bool:
    if value is None:
        return kind.null
    if isinstance(value, bool):
        return kind.type is bool
    if isinstance(value, str):
        pattern = kind.word_pattern
        return value in kind.words or bool(pattern and re.fullmatch(pattern, value))
    if isinstance(value, list):
        return (
            bool(kind.units)
            and len(value) == 2
            and fits(name, ArgKind(kind.type, low=kind.low), value[0])
            and value[1] in kind.units
        )
    if not isinstance(value, int | float) or kind.type is bool:
        return False
    whole = isinstance(value, int) or (
        name in algos.CAST_TO_INT and math.isfinite(value) and value.is_integer()
    )
    if kind.type is int and not whole:
        return False
    return in_range(kind, value)


def in_range(kind: ArgKind, value: float) -> bool:
    if math.isnan(value):
        return False
    if kind.low is not None and (value <= kind.low if kind.above else value < kind.low):
        return False
    return kind.high is None or value <= kind.high


def hint(name: str, kind: ArgKind, value: Any) -> str:
    bound = limits.SIZES.get(name)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if bound is not None and kind.high is not None and numeric and value > kind.high:
        return bound.hint(name)
    if isinstance(value, str):
        number = coerce_scalar(value)
        if number != value and fits(name, kind, number):
            return "write it without quotes"
        guess = did_you_mean(value, kind.words)
        if guess:
            return f"did you mean '{guess}'?"
    return f"e.g. {name}: {show_value(kind.example)}"


def pair_problem(name: str, kind: ArgKind, value: list[Any], path: KeyPath) -> Problem:
    units = "|".join(kind.units)
    if len(value) != 2:
        return Problem(
            path,
            f"{name} as a list needs two items, [n, {units}]",
            f"e.g. [{kind.example}, {kind.units[0]}]",
        )
    count, unit = value
    if not fits(name, ArgKind(kind.type, low=kind.low), count):
        return Problem(
            (*path, 0),
            f"the count of {name} must be {describe(ArgKind(kind.type, low=kind.low))}, "
            f"got {show_value(count)}",
            f"e.g. [{kind.example}, {kind.units[0]}]",
        )
    guess = did_you_mean(str(unit), kind.units)
    return Problem(
        (*path, 1),
        f"{show_value(unit)} is not a unit of {name}",
        f"did you mean '{guess}'?" if guess else f"use one of {', '.join(kind.units)}",
    )


def range_problems(
    name: str, kind: ArgKind, dist: BaseDistribution, path: KeyPath, raw: Any = None
) -> list[Problem]:
    """Where a searched range of numbers leaves what ``kind`` accepts. ``raw``: the mapping
    the range was written as, if it was, to point at its ``low`` or ``high``."""
    if kind.type is bool:
        return [Problem(path, f"{name} is true or false", "search it with choice(true, false)")]
    low, high = getattr(dist, "low", None), getattr(dist, "high", None)
    if kind.type is int and isinstance(dist, FloatDistribution) and not _whole_steps(name, dist):
        return [
            Problem(
                path,
                f"{name} takes whole numbers, but this range samples fractions",
                f"use int(interval({num(low)}, {num(high)})) or "
                f"{{type: int, low: {num(low)}, high: {num(high)}}}",
            )
        ]
    numeric = isinstance(kind.example, int | float) and not isinstance(kind.example, bool)
    around = f"narrow the range, e.g. around {kind.example}" if numeric else "narrow the range"
    problems = []
    for end, value in (("low", low), ("high", high)):
        if value is not None and not in_range(kind, value):
            problems.append(
                Problem(
                    (*path, end) if raw is not None and end in raw else path,
                    f"the search reaches {num(value)}, but {name} must be {describe(kind)}",
                    hint(name, kind, value) if end == "high" and name in limits.SIZES else around,
                )
            )
    return problems


def _whole_steps(name: str, dist: FloatDistribution) -> bool:
    # A float range on a grid of whole numbers only ever proposes whole floats, which the
    # training layer turns into ints for the arguments in CAST_TO_INT.
    step = dist.step
    return (
        name in algos.CAST_TO_INT
        and step is not None
        and float(step).is_integer()
        and float(dist.low).is_integer()
    )


def num(value: float | None) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"  # 1,000,000: a bound the reader takes in at a glance
    return str(value)
