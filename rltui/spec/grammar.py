"""Sweep expressions such as ``tag(log, interval(1e-5, 1e-2))`` turned into Optuna distributions.

A ``params:`` block pasted from a Hydra config must work unchanged, so the meaning follows the
Hydra Optuna sweeper (``create_optuna_distribution_from_override``); Ray Tune's
``grid_search([...])`` is understood too. This is a tokenizer plus a recursive-descent parser:
user text is never handed to ``eval`` or ``ast.literal_eval``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, NamedTuple

import optuna.distributions as od

Scalar = None | bool | int | float | str
FUNCTIONS = ("choice", "range", "interval", "int", "float", "tag", "shuffle", "sort", "grid_search")
_KEYWORDS = {"range": ("step",), "sort": ("reverse",)}
_MISSING = object()
_MAX_EXPAND = 10_000  # shuffle(range(...)) lists every value; refuse absurd sizes
_LIST_HINT = (
    "Optuna choices must be numbers, booleans, null or strings; "
    "name a preset instead (e.g. net_arch: choice(small, medium))"
)
_IS_SWEEP = re.compile(rf"\s*(?:{'|'.join(FUNCTIONS)})\s*\(")
# Hydra's number syntax: underscores only between digits, and no leading zero on an int
# ('007' stays a string, as in Hydra).
_D = r"\d(?:_?\d)*"
_E = rf"[eE][+-]?{_D}"
_INT = re.compile(r"[+-]?(?:0|[1-9](?:_?\d)*)")
_FLOAT = re.compile(rf"[+-]?(?:(?:(?:{_D})?\.{_D}|{_D}\.)(?:{_E})?|{_D}{_E}|inf|nan)", re.I)
_W = r"[^\s(),=\[\]{}'\"]+"
# A bare word may hold inner blanks ('a b'), as an unquoted Hydra primitive may. A lone quote
# that starts no complete string falls through to 'bad'.
_TOKEN = re.compile(
    rf"\s*(?:(?P<punct>[(),=\[\]{{}}])|(?P<quoted>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    rf"|(?P<word>{_W}(?:[ \t]+{_W})*)|(?P<bad>\S))",
    re.S,
)


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


def is_sweep_expression(text: str) -> bool:
    """True when ``text`` starts (after blanks) with a known function name and '('."""
    return _IS_SWEEP.match(text) is not None


def coerce_scalar(text: str) -> Scalar:
    """Read a bare token as Hydra does: int, float, bool, null, else the stripped string."""
    text = text.strip()
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return None if low == "null" else text


def parse_sweep(text: str) -> od.BaseDistribution | GridSearch:
    """Parse one sweep expression into an Optuna distribution or a :class:`GridSearch`."""
    return _Parser(text).parse()


class _Tok(NamedTuple):
    kind: str  # the punctuation itself, or quoted | word | end
    text: str
    pos: int


@dataclass
class _Arg:
    value: Any  # a Scalar, a list of _Arg, a _Sweep or a GridSearch
    pos: int
    src: str


@dataclass
class _Sweep:
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
class _Call:
    name: str
    src: str
    pos: int
    close: int  # the ')', where a missing argument should have been
    args: list[_Arg]
    kwargs: dict[str, _Arg]

    def err(self, message: str, pos: int, hint: str | None = None) -> GrammarError:
        return GrammarError(f"{self.src}: {message}", pos, hint)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.i, self.toks = text, 0, []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or ""
            if kind == "bad":
                raise GrammarError("this quote is never closed", m.start(kind), f"add a {m[kind]}")
            self.toks.append(_Tok(m[kind] if kind == "punct" else kind, m[kind], m.start(kind)))
        self.toks.append(_Tok("end", "", len(text)))

    def _peek(self, ahead: int = 0) -> _Tok:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def _take(self) -> _Tok:
        tok = self._peek()
        self.i = min(self.i + 1, len(self.toks) - 1)  # 'end' is sticky
        return tok

    def parse(self) -> od.BaseDistribution | GridSearch:
        first = self._peek()
        if first.kind != "word" or self._peek(1).kind != "(":
            got = first.text or "nothing"
            hint = f"start with one of: {', '.join(FUNCTIONS)}"
            raise GrammarError(
                f"expected a sweep such as choice(a, b), found {got!r}", first.pos, hint
            )
        arg = self._value()
        tok = self._peek()
        if tok.kind == ")":
            raise GrammarError("unbalanced parentheses: this ')' has no '('", tok.pos, "remove it")
        if tok.kind != "end":
            raise GrammarError(f"unexpected {tok.text!r} after {arg.src}", tok.pos, "remove it")
        return _finish(arg, self.text.strip())

    def _value(self) -> _Arg:
        tok = self._take()
        if tok.kind == "word":
            if self._peek().kind == "(":
                return self._call(tok)
            return _Arg(coerce_scalar(tok.text), tok.pos, tok.text)
        if tok.kind == "quoted":
            # A backslash escapes a quote or a backslash; any other backslash stays as written.
            return _Arg(re.sub(r"\\([\\'\"])", r"\1", tok.text[1:-1]), tok.pos, tok.text)
        if tok.kind == "[":
            items: list[_Arg] = []
            close = self._take() if self._peek().kind == "]" else self._items(tok, items, "]")
            return _Arg(items, tok.pos, self.text[tok.pos : close.pos + 1])
        if tok.kind == "{":
            raise GrammarError("a mapping cannot be a sweep value", tok.pos, _LIST_HINT)
        found = f"found {tok.text!r}" if tok.text else "the text ends"
        raise GrammarError(f"expected a value, {found}", tok.pos)

    def _items(self, opener: _Tok, items: list[_Arg], closer: str, kw: dict | None = None) -> _Tok:
        """Comma-separated values up to ``closer``; returns the closing token."""
        while True:
            tok = self._peek()
            if kw is not None and tok.kind == "word" and self._peek(1).kind == "=":
                self.i += 2
                if tok.text in kw:
                    raise GrammarError(f"{tok.text}= is given twice", tok.pos)
                value = self._value()  # kept at the keyword's position: the usual culprit
                kw[tok.text] = _Arg(value.value, tok.pos, value.src)
            elif kw:
                hint = "put step=/reverse= last"
                raise GrammarError("a positional argument follows a keyword one", tok.pos, hint)
            else:
                items.append(self._value())
            sep = self._take()
            if sep.kind == closer:
                return sep
            if sep.kind == "end":
                what = f"unbalanced {'parentheses' if closer == ')' else 'brackets'}"
                hint = f"add {closer!r} at the end"
                raise GrammarError(
                    f"{what}: this {opener.text!r} is never closed", opener.pos, hint
                )
            if sep.kind != ",":
                raise GrammarError(f"expected ',' or {closer!r}, found {sep.text!r}", sep.pos)

    def _call(self, name: _Tok) -> _Arg:
        if name.text not in FUNCTIONS:
            near = difflib.get_close_matches(name.text, FUNCTIONS, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(FUNCTIONS)}"
            raise GrammarError(f"unknown function {name.text!r}", name.pos, hint)
        opener = self._take()
        args: list[_Arg] = []
        kwargs: dict[str, _Arg] = {}
        close = self._take() if self._peek().kind == ")" else self._items(opener, args, ")", kwargs)
        allowed = _KEYWORDS.get(name.text, ())
        for key, arg in kwargs.items():
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                only = f"it accepts only {allowed[0]}=" if allowed else "it accepts none"
                hint = f"did you mean {near[0]!r}?" if near else only
                raise GrammarError(f"{name.text}() has no keyword argument {key!r}", arg.pos, hint)
        src = self.text[name.pos : close.pos + 1]
        call = _Call(name.text, src, name.pos, close.pos, args, kwargs)
        return _Arg(_FUNCS[name.text](call), name.pos, src)


def _arity(c: _Call, args: list[_Arg], low: int, high: int, usage: str) -> None:
    if len(args) < low:
        raise c.err("missing arguments", c.close, f"write {usage}")
    if len(args) > high:
        raise c.err("too many arguments", args[high].pos, f"write {usage}")


def _number(c: _Call, arg: _Arg) -> int | float:
    v = arg.value
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise c.err(f"{arg.src} is not a finite number", arg.pos, "write e.g. 5, 0.1 or 1e-5")
    return v


def _scalar(c: _Call, arg: _Arg) -> Scalar:
    if isinstance(arg.value, list):
        raise c.err("a list cannot be one of the values", arg.pos, _LIST_HINT)
    if isinstance(arg.value, _Sweep | GridSearch):
        raise c.err("sweeps cannot be nested here", arg.pos, "list plain values")
    return arg.value


def _choice(c: _Call) -> _Sweep:
    if not c.args:
        raise c.err("needs at least one value", c.close, "e.g. choice(relu, tanh)")
    values = [_scalar(c, a) for a in c.args]
    return _Sweep("choice", c.src, values=values, spots=[a.pos for a in c.args])


def _range(c: _Call) -> _Sweep:
    args = list(c.args)
    _arity(c, args, 1, 3 - ("step" in c.kwargs), "range(start, stop, step=1)")
    if len(args) == 1:  # Hydra: range(stop) counts from 0
        args.insert(0, _Arg(0, c.pos, "0"))
    start, stop = args[0], args[1]
    step = c.kwargs.get("step", args[2] if len(args) > 2 else _Arg(1, c.pos, "1"))
    low, high, size = _number(c, start), _number(c, stop), _number(c, step)
    if size <= 0:
        raise c.err("the step must be above 0", step.pos, "ranges count upwards")
    if low > high:
        raise c.err(f"the start {start.src} is above the stop {stop.src}; swap them", start.pos)
    return _Sweep("range", c.src, low=low, high=high, step=size, low_pos=start.pos)


def _interval(c: _Call) -> _Sweep:
    _arity(c, c.args, 2, 2, "interval(low, high)")
    a, b = c.args
    low, high = float(_number(c, a)), float(_number(c, b))  # Hydra: float unless int(...)
    if low > high:
        msg = f"the lower bound {a.src} is above the upper bound {b.src}; swap them"
        raise c.err(msg, a.pos, f"write interval({b.src}, {a.src})")
    return _Sweep("interval", c.src, low=low, high=high, low_pos=a.pos)


def _cast(c: _Call) -> Any:
    _arity(c, c.args, 1, 1, f"{c.name}(interval(low, high))")
    fn: Callable[[Any], Any] = int if c.name == "int" else float

    def conv(x: Any, pos: int) -> Any:
        try:
            return fn(x)
        except (TypeError, ValueError, OverflowError):
            raise c.err(f"cannot convert {x!r} to {c.name}", pos) from None

    v = c.args[0].value
    if not isinstance(v, _Sweep):
        return conv(_scalar(c, c.args[0]), c.args[0].pos)
    if v.kind == "choice":
        values = [conv(x, p) for x, p in zip(v.values, v.spots, strict=True)]
        return replace(v, src=c.src, values=values)
    low, high, step = (conv(x, v.low_pos) for x in (v.low, v.high, v.step))
    if step <= 0:  # int(range(0, 1, 0.5))
        raise c.err(f"the step becomes {step}", v.low_pos, "use a step of at least 1")
    return replace(v, src=c.src, low=low, high=high, step=step)


def _tag(c: _Call) -> _Sweep:
    _arity(c, c.args, 1, len(c.args), "tag(log, interval(low, high))")
    *names, last = c.args
    if not isinstance(last.value, _Sweep):
        raise c.err("the last argument must be a sweep", last.pos, "e.g. tag(log, interval(1, 9))")
    for arg in names:
        if not isinstance(arg.value, str):
            raise c.err(f"tag names must be words, not {arg.src}", arg.pos)
    # Only 'log' means something; Hydra accepts any other name, so they are kept and ignored.
    return replace(last.value, src=c.src, tags=last.value.tags | {a.value for a in names})


def _expand(c: _Call, s: _Sweep) -> list[Scalar]:
    # As Hydra's sweep iterator does, the stop is EXCLUDED here (range(1, 4) -> 1, 2, 3), though
    # a bare range(1, 4) becomes an inclusive IntDistribution(1, 4) in the Optuna sweeper.
    # Decimal of the written value keeps steps of 0.1 free of float drift.
    lo, hi, st = (Decimal(repr(x)) for x in (s.low, s.high, s.step))
    count = max(0, math.ceil((hi - lo) / st))
    if not 0 < count <= _MAX_EXPAND:
        raise c.err(f"expands to {count} values", c.pos, f"keep it within 1..{_MAX_EXPAND}")
    whole = all(isinstance(x, int) for x in (s.low, s.high, s.step))
    return [int(lo + i * st) if whole else float(lo + i * st) for i in range(count)]


def _shuffle(c: _Call) -> _Sweep:
    # Nothing is actually shuffled: a categorical's order means nothing to Optuna's samplers,
    # and a fixed order keeps the study reproducible.
    if len(c.args) != 1 or not isinstance(c.args[0].value, _Sweep):
        return _choice(c)  # shuffle(a, b) is Hydra's shorthand for shuffle(choice(a, b))
    s = c.args[0].value
    if s.kind == "interval":
        raise c.err("an interval cannot be listed", c.args[0].pos, "use choice(...) or range(...)")
    if s.kind == "range":
        values = _expand(c, s)
        return replace(s, kind="choice", src=c.src, values=values, spots=[s.low_pos] * len(values))
    return replace(s, src=c.src)


def _sort(c: _Call) -> _Sweep:
    rev = c.kwargs.get("reverse", _Arg(False, c.pos, "false"))
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


def _grid_search(c: _Call) -> GridSearch:
    _arity(c, c.args, 1, 1, "grid_search([a, b, c])")
    arg = c.args[0]
    if not isinstance(arg.value, list) or not arg.value:
        raise c.err("expects a non-empty list", arg.pos, "write grid_search([a, b, c])")
    values = [_scalar(c, a) for a in arg.value]
    _unique(c.src, values, [a.pos for a in arg.value])
    return GridSearch(tuple(values))


def _unique(src: str, values: list[Scalar], spots: list[int]) -> None:
    # Optuna finds a choice by ==, so 1, 1.0 and true would be one choice to it.
    for i, (value, pos) in enumerate(zip(values, spots, strict=True)):
        prev = next((p for p in values[:i] if p == value), _MISSING)
        if prev is _MISSING:
            continue
        msg = "is listed twice" if type(prev) is type(value) else f"is the same choice as {prev!r}"
        raise GrammarError(f"{src}: {value!r} {msg}", pos, "remove the repeat")


_FUNCS: dict[str, Callable[[_Call], Any]] = {
    **{"choice": _choice, "range": _range, "interval": _interval, "int": _cast, "float": _cast},
    **{"tag": _tag, "shuffle": _shuffle, "sort": _sort, "grid_search": _grid_search},
}


def _finish(arg: _Arg, text: str) -> od.BaseDistribution | GridSearch:
    s = arg.value
    if isinstance(s, GridSearch):
        return s
    if not isinstance(s, _Sweep):
        raise GrammarError(f"{text} is a single value, not a sweep", arg.pos, "use choice(...)")
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
        raise GrammarError(f"{text}: log scale needs a lower bound above 0", s.low_pos, hint)
    if isinstance(s.low, int) and isinstance(s.high, int):  # int(interval(...))
        return od.IntDistribution(s.low, s.high, log=log)
    return od.FloatDistribution(s.low, s.high, log=log)
