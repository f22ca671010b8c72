"""What each function of a sweep expression means, and the Optuna distribution it becomes.

The meaning follows the Hydra Optuna sweeper (``create_optuna_distribution_from_override``)
and Ray Tune's ``grid_search``; :mod:`rltui.spec.grammar` reads the text into the calls
handled here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import optuna.distributions as od
import yaml

from rltui.spec import limits
from rltui.spec.problems import clip

Scalar = None | bool | int | float | str
_MISSING = object()
LIST_HINT = (
    "a choice is a number, boolean, null, string or list; give a mapping in the mapping form "
    "({type: categorical, choices: [...]}), or name a preset (e.g. net_arch: small)"
)


def choice_label(value: Any) -> Any:
    """A choice as Optuna can hold it: a list or mapping becomes the text it is written as in
    YAML's flow style (``[64, 32]``, ``{pi: [64], vf: [64]}``), which the trial table shows as
    it is and :func:`choice_value` reads back; anything else stays itself."""
    if not isinstance(value, list | dict):
        return value
    text: str = yaml.safe_dump(value, default_flow_style=True, width=2**31, sort_keys=True)
    return text.strip()


def choice_value(label: Any) -> Any:
    """The list or mapping a :func:`choice_label` stands for; anything else as it is."""
    if not isinstance(label, str) or label[:1] not in ("[", "{"):
        return label
    try:
        value = yaml.safe_load(label)
    except yaml.YAMLError:
        return label
    # Only a label written as choice_label writes it: other text stays text.
    return value if isinstance(value, list | dict) and choice_label(value) == label else label


class GrammarError(ValueError):
    """A sweep expression that does not parse or makes no sense."""

    def __init__(self, message: str, position: int | None = None, hint: str | None = None):
        super().__init__(message, position, hint)  # all in args, so pickling keeps them
        self.message = message
        self.position = position  # 0-based offset into the text
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.position is not None:
            text += f" (at column {self.position + 1})"  # 1-based, as editors count
        return f"{text} — {self.hint}" if self.hint else text


@dataclass(frozen=True)
class GridSearch:
    """Ray Tune's ``grid_search([...])``: every value is tried, none is sampled."""

    values: tuple[Scalar, ...]


@dataclass
class Arg:
    value: Any  # a Scalar, a list of Arg, a Sweep or a GridSearch
    pos: int
    src: str


@dataclass
class Sweep:
    kind: str  # choice | range | interval
    src: str
    values: list[Scalar] = field(default_factory=list)
    spots: list[int] = field(default_factory=list)  # where each choice value was written
    low: Any = 0
    high: Any = 0
    step: Any = 1
    low_pos: int = 0
    tags: frozenset[str] = frozenset()


@dataclass
class Call:
    name: str
    src: str
    pos: int
    close: int  # the ')', where a missing argument should have been
    args: list[Arg]
    kwargs: dict[str, Arg]

    def err(self, message: str, pos: int, hint: str | None = None) -> GrammarError:
        return GrammarError(f"{clip(self.src)}: {message}", pos, hint)


def _arity(c: Call, args: list[Arg], low: int, high: int, usage: str) -> None:
    if len(args) < low:
        raise c.err("missing arguments", c.close, f"write {usage}")
    if len(args) > high:
        raise c.err("too many arguments", args[high].pos, f"write {usage}")


def _number(c: Call, arg: Arg) -> int | float:
    v = arg.value
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise c.err(f"{clip(arg.src)} is not a finite number", arg.pos, "write e.g. 5, 0.1 or 1e-5")
    return v


def _scalar(c: Call, arg: Arg) -> Scalar:
    if isinstance(arg.value, Sweep | GridSearch):
        raise c.err("sweeps cannot be nested here", arg.pos, "list plain values")
    if isinstance(arg.value, list):
        # A list of layer sizes (net_arch: choice([64, 64], [256, 256])) is one choice: Optuna
        # holds it as its label, and the trial gets the list back.
        return choice_label([_plain(c, item) for item in arg.value])
    return arg.value


def _plain(c: Call, arg: Arg) -> Any:
    if isinstance(arg.value, list):
        return [_plain(c, item) for item in arg.value]
    return _scalar(c, arg)


def _choice(c: Call) -> Sweep:
    if not c.args:
        raise c.err("needs at least one value", c.close, "e.g. choice(relu, tanh)")
    _few(c, len(c.args), c.pos)
    values = [_scalar(c, a) for a in c.args]
    return Sweep("choice", c.src, values=values, spots=[a.pos for a in c.args])


def _range(c: Call) -> Sweep:
    args = list(c.args)
    _arity(c, args, 1, 3 - ("step" in c.kwargs), "range(start, stop, step=1)")
    if len(args) == 1:  # Hydra: range(stop) counts from 0
        args.insert(0, Arg(0, c.pos, "0"))
    start, stop = args[0], args[1]
    step = c.kwargs.get("step", args[2] if len(args) > 2 else Arg(1, c.pos, "1"))
    low, high, size = _number(c, start), _number(c, stop), _number(c, step)
    if size <= 0:
        raise c.err("the step must be above 0", step.pos, "ranges count upwards")
    if low > high:
        raise c.err(
            f"the start {clip(start.src)} is above the stop {clip(stop.src)}; swap them", start.pos
        )
    return Sweep("range", c.src, low=low, high=high, step=size, low_pos=start.pos)


def _interval(c: Call) -> Sweep:
    _arity(c, c.args, 2, 2, "interval(low, high)")
    a, b = c.args
    low, high = float(_number(c, a)), float(_number(c, b))  # Hydra: float unless int(...)
    if low > high:
        msg = f"the lower bound {clip(a.src)} is above the upper bound {clip(b.src)}; swap them"
        raise c.err(msg, a.pos, f"write interval({clip(b.src)}, {clip(a.src)})")
    return Sweep("interval", c.src, low=low, high=high, low_pos=a.pos)


def _cast(c: Call) -> Any:
    _arity(c, c.args, 1, 1, f"{c.name}(interval(low, high))")
    fn: Callable[[Any], Any] = int if c.name == "int" else float

    def conv(x: Any, pos: int) -> Any:
        try:
            return fn(x)
        except (TypeError, ValueError, OverflowError):
            raise c.err(f"cannot convert {clip(repr(x))} to {c.name}", pos) from None

    v = c.args[0].value
    if not isinstance(v, Sweep):
        return conv(_scalar(c, c.args[0]), c.args[0].pos)
    if v.kind == "choice":
        values = [conv(x, p) for x, p in zip(v.values, v.spots, strict=True)]
        return replace(v, src=c.src, values=values)
    low, high, step = (conv(x, v.low_pos) for x in (v.low, v.high, v.step))
    if step <= 0:  # int(range(0, 1, 0.5))
        raise c.err(f"the step becomes {step}", v.low_pos, "use a step of at least 1")
    return replace(v, src=c.src, low=low, high=high, step=step)


def _tag(c: Call) -> Sweep:
    _arity(c, c.args, 1, len(c.args), "tag(log, interval(low, high))")
    *names, last = c.args
    if not isinstance(last.value, Sweep):
        raise c.err("the last argument must be a sweep", last.pos, "e.g. tag(log, interval(1, 9))")
    for arg in names:
        if not isinstance(arg.value, str):
            raise c.err(f"tag names must be words, not {clip(arg.src)}", arg.pos)
    # Only 'log' means something; Hydra accepts any other name, so they are kept and ignored.
    return replace(last.value, src=c.src, tags=last.value.tags | {a.value for a in names})


def _expand(c: Call, s: Sweep) -> list[Scalar]:
    # As Hydra's sweep iterator does, the stop is EXCLUDED here (range(1, 4) -> 1, 2, 3), though
    # a bare range(1, 4) becomes an inclusive IntDistribution(1, 4) in the Optuna sweeper.
    # Decimal of the written value keeps steps of 0.1 free of float drift.
    lo, hi, st = (Decimal(repr(x)) for x in (s.low, s.high, s.step))
    count = max(0, math.ceil((hi - lo) / st))
    if not 0 < count <= limits.MAX_CHOICES:
        raise c.err(f"expands to {count} values", c.pos, f"keep it within 1..{limits.MAX_CHOICES}")
    whole = all(isinstance(x, int) for x in (s.low, s.high, s.step))
    return [int(lo + i * st) if whole else float(lo + i * st) for i in range(count)]


def _shuffle(c: Call) -> Sweep:
    # Nothing is actually shuffled: a categorical's order means nothing to Optuna's samplers,
    # and a fixed order keeps the study reproducible.
    if len(c.args) != 1 or not isinstance(c.args[0].value, Sweep):
        return _choice(c)  # shuffle(a, b) is Hydra's shorthand for shuffle(choice(a, b))
    s = c.args[0].value
    if s.kind == "interval":
        raise c.err("an interval cannot be listed", c.args[0].pos, "use choice(...) or range(...)")
    if s.kind == "range":
        values = _expand(c, s)
        return replace(s, kind="choice", src=c.src, values=values, spots=[s.low_pos] * len(values))
    return replace(s, src=c.src)


def _sort(c: Call) -> Sweep:
    rev = c.kwargs.get("reverse", Arg(False, c.pos, "false"))
    if not isinstance(rev.value, bool):
        raise c.err("reverse= must be true or false", rev.pos)
    if not rev.value and len(c.args) == 1 and getattr(c.args[0].value, "kind", "") == "range":
        return replace(c.args[0].value, src=c.src)  # already ascending: Hydra keeps the range
    s = _shuffle(c)
    pairs = list(zip(s.values, s.spots, strict=True))
    try:
        pairs.sort(key=lambda p: p[0], reverse=rev.value)  # type: ignore[arg-type,return-value]
    except TypeError:
        raise c.err("cannot sort a mix of numbers, strings and null", c.pos) from None
    return replace(s, values=[v for v, _ in pairs], spots=[p for _, p in pairs])


def _grid_search(c: Call) -> GridSearch:
    _arity(c, c.args, 1, 1, "grid_search([a, b, c])")
    arg = c.args[0]
    if not isinstance(arg.value, list) or not arg.value:
        raise c.err("expects a non-empty list", arg.pos, "write grid_search([a, b, c])")
    _few(c, len(arg.value), arg.pos)
    values = [_scalar(c, a) for a in arg.value]
    _unique(c.src, values, [a.pos for a in arg.value])
    return GridSearch(tuple(values))


def _unique(src: str, values: list[Scalar], spots: list[int]) -> None:
    # Optuna finds a choice by ==, so 1, 1.0 and true would be one choice to it; they also hash
    # alike, so one dict finds every repeat in a single pass.
    first: dict[Scalar, int] = {}
    for index, (value, pos) in enumerate(zip(values, spots, strict=True)):
        earlier = first.setdefault(value, index)
        if earlier == index:
            continue
        prev = values[earlier]
        msg = (
            "is listed twice"
            if type(prev) is type(value)
            else f"is the same choice as {clip(repr(prev))}"
        )
        raise GrammarError(f"{clip(src)}: {clip(repr(value))} {msg}", pos, "remove the repeat")


def _few(c: Call, count: int, pos: int) -> None:
    if count > limits.MAX_CHOICES:
        raise c.err(
            f"lists {count:,} values",
            pos,
            f"a parameter takes at most {limits.MAX_CHOICES:,} values: search a range instead",
        )


FUNCS: dict[str, Callable[[Call], Any]] = {
    **{"choice": _choice, "range": _range, "interval": _interval, "int": _cast, "float": _cast},
    **{"tag": _tag, "shuffle": _shuffle, "sort": _sort, "grid_search": _grid_search},
}


def finish(arg: Arg, text: str) -> od.BaseDistribution | GridSearch:
    s = arg.value
    if isinstance(s, GridSearch):
        return s
    if not isinstance(s, Sweep):
        raise GrammarError(
            f"{clip(text)} is a single value, not a sweep", arg.pos, "use choice(...)"
        )
    try:
        return _distribution(s, text)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, GrammarError):
            raise
        raise GrammarError(f"Optuna refuses {clip(text)}: {exc}", arg.pos) from None


def _distribution(s: Sweep, text: str) -> od.BaseDistribution:
    if s.kind == "choice":
        _unique(s.src, s.values, s.spots)
        return od.CategoricalDistribution(s.values)
    if s.kind == "range":  # Hydra ignores tags on a range: log has no effect there
        if all(isinstance(x, int) for x in (s.low, s.high, s.step)):
            return od.IntDistribution(s.low, s.high, step=s.step)
        return od.FloatDistribution(float(s.low), float(s.high), step=float(s.step))
    log = "log" in s.tags
    if log and s.low <= 0:
        hint = "use a small positive bound such as 1e-8, or drop the log tag"
        raise GrammarError(f"{clip(text)}: log scale needs a lower bound above 0", s.low_pos, hint)
    if isinstance(s.low, int) and isinstance(s.high, int):  # int(interval(...))
        return od.IntDistribution(s.low, s.high, log=log)
    return od.FloatDistribution(s.low, s.high, log=log)
