"""The written forms of a searched parameter turned into Optuna distributions.

Sweep expressions such as ``tag(log, interval(1e-5, 1e-2))``: a ``params:`` block pasted from
a Hydra config must work unchanged, so the meaning follows the Hydra Optuna sweeper
(``create_optuna_distribution_from_override``); Ray Tune's ``grid_search([...])`` is
understood too. This is a tokenizer plus a recursive-descent parser: user text is never handed
to ``eval`` or ``ast.literal_eval``. The mapping form (``{type: float, low, high, log}``) is
read by :func:`read_mapping` and :func:`read_grid`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import optuna.distributions as od

from rltui.spec import limits
from rltui.spec.problems import Problem, clip, did_you_mean, show_value
from rltui.spec.source import YamlSource
from rltui.spec.sweep_calls import (
    FUNCS,
    LIST_HINT,
    Arg,
    Call,
    GrammarError,
    GridSearch,
    Scalar,
    choice_label,
    finish,
)

__all__ = [
    "FUNCTIONS",
    "FormError",
    "GrammarError",
    "GridSearch",
    "coerce_scalar",
    "is_sweep_expression",
    "parse_sweep",
    "point_into_expression",
    "read_grid",
    "read_mapping",
]

FUNCTIONS = tuple(FUNCS)
# Other tools' spellings (Ray Tune's, Optuna's suggest_*), and how to write each here.
_ELSEWHERE = {
    "loguniform": "a log-uniform float is written tag(log, interval(low, high))",
    "uniform": "a uniform float is written interval(low, high)",
    "randint": "an integer from low to high - 1 (as Ray Tune's randint) is "
    "int(interval(low, high - 1))",
    "lograndint": "a log-uniform integer is written tag(log, int(interval(low, high)))",
    "quniform": "a float on a grid of step q is written {type: float, low: L, high: H, step: q}",
    "qrandint": "an integer on a grid of step q is written {type: int, low: L, high: H, step: q}",
    "categorical": "a choice among values is written choice(a, b, c)",
}
_KEYWORDS = {"range": ("step",), "sort": ("reverse",)}
_IS_SWEEP = re.compile(rf"\s*(?:{'|'.join(FUNCTIONS)})\s*\(")
# Hydra's number syntax: underscores only between digits, and no leading zero on an int
# ('007' stays a string, as in Hydra).
_D = r"\d(?:_?\d)*"
_E = rf"[eE][+-]?{_D}"
_INT = re.compile(r"[+-]?(?:0|[1-9](?:_?\d)*)")
_FLOAT = re.compile(rf"[+-]?(?:(?:(?:{_D})?\.{_D}|{_D}\.)(?:{_E})?|{_D}{_E}|inf|nan)", re.I)
_MAX_DIGITS = 300  # longer numbers stay text: no float, and no message, could hold them
_W = r"[^\s(),=\[\]{}'\"]+"
# A bare word may hold inner blanks ('a b'), as an unquoted Hydra primitive may. A lone quote
# that starts no complete string falls through to 'bad'.
_TOKEN = re.compile(
    rf"\s*(?:(?P<punct>[(),=\[\]{{}}])|(?P<quoted>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    rf"|(?P<word>{_W}(?:[ \t]+{_W})*)|(?P<bad>\S))",
    re.S,
)


def is_sweep_expression(text: str) -> bool:
    """True when ``text`` starts (after blanks) with a known function name and '('."""
    return _IS_SWEEP.match(text) is not None


def coerce_scalar(text: str) -> Scalar:
    """Read a bare token as Hydra does: int, float, bool, null, else the stripped string."""
    text = text.strip()
    if len(text) > _MAX_DIGITS:  # no number is written that long: it stays text, unread
        return text
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
    if len(text) > limits.MAX_SWEEP_CHARS:
        raise GrammarError(
            f"the expression is {len(text):,} characters long",
            limits.MAX_SWEEP_CHARS,
            f"a sweep expression holds at most {limits.MAX_SWEEP_CHARS:,} characters: "
            "list fewer values",
        )
    return _Parser(text).parse()


def point_into_expression(
    problem: Problem, search_space: Mapping[str, Any], source: YamlSource, text: str
) -> Problem:
    """Put the column of a sweep expression's error on the spot inside the expression.

    The parser knows the offset in the expression; the YAML source knows where the key is.
    When the expression sits on the key's line as written (no quotes to unescape, no folding),
    the offset maps to a column; otherwise the problem stays at the key.
    """
    if len(problem.path) != 2 or problem.path[0] != "search_space":
        return problem
    raw = search_space.get(str(problem.path[1]))
    line, column = source.locate(problem.path)
    if not isinstance(raw, str) or line is None or column is None or "\n" in raw:
        return problem
    try:
        parse_sweep(raw)
    except GrammarError as exc:
        offset = exc.position
    else:
        return problem
    rows = text.splitlines()
    row = rows[line - 1] if 0 < line <= len(rows) else ""
    start = row.find(raw, column - 1 + len(str(problem.path[1])))
    if offset is None or start < 0:
        return problem
    return problem.located(line, start + min(offset, len(raw)) + 1)


class _Tok(NamedTuple):
    kind: str  # the punctuation itself, or quoted | word | end
    text: str
    pos: int


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.i, self.toks, self.depth = text, 0, [], 0
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
                f"expected a sweep such as choice(a, b), found {clip(repr(got))}", first.pos, hint
            )
        arg = self._value()
        tok = self._peek()
        if tok.kind == ")":
            raise GrammarError("unbalanced parentheses: this ')' has no '('", tok.pos, "remove it")
        if tok.kind != "end":
            raise GrammarError(
                f"unexpected {clip(repr(tok.text))} after {clip(arg.src)}", tok.pos, "remove it"
            )
        return finish(arg, self.text.strip())

    def _value(self) -> Arg:
        tok = self._take()
        if tok.kind == "[" or (tok.kind == "word" and self._peek().kind == "("):
            self.depth += 1
            if self.depth > limits.MAX_SWEEP_DEPTH:
                raise GrammarError(
                    f"nested more than {limits.MAX_SWEEP_DEPTH} levels deep",
                    tok.pos,
                    "a sweep needs a few levels at most, e.g. tag(log, int(interval(1, 9)))",
                )
            try:
                return self._value_at(tok)
            finally:
                self.depth -= 1
        return self._value_at(tok)

    def _value_at(self, tok: _Tok) -> Arg:
        if tok.kind == "word":
            if self._peek().kind == "(":
                return self._call(tok)
            return Arg(coerce_scalar(tok.text), tok.pos, tok.text)
        if tok.kind == "quoted":
            # A backslash escapes a quote or a backslash; any other backslash stays as written.
            return Arg(re.sub(r"\\([\\'\"])", r"\1", tok.text[1:-1]), tok.pos, tok.text)
        if tok.kind == "[":
            items: list[Arg] = []
            close = self._take() if self._peek().kind == "]" else self._items(tok, items, "]")
            return Arg(items, tok.pos, self.text[tok.pos : close.pos + 1])
        if tok.kind == "{":
            raise GrammarError("a mapping cannot be a sweep value", tok.pos, LIST_HINT)
        found = f"found {clip(repr(tok.text))}" if tok.text else "the text ends"
        raise GrammarError(f"expected a value, {found}", tok.pos)

    def _items(self, opener: _Tok, items: list[Arg], closer: str, kw: dict | None = None) -> _Tok:
        """Comma-separated values up to ``closer``; returns the closing token."""
        while True:
            tok = self._peek()
            if kw is not None and tok.kind == "word" and self._peek(1).kind == "=":
                self.i += 2
                if tok.text in kw:
                    raise GrammarError(f"{tok.text}= is given twice", tok.pos)
                value = self._value()  # kept at the keyword's position: the usual culprit
                kw[tok.text] = Arg(value.value, tok.pos, value.src)
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
                raise GrammarError(
                    f"expected ',' or {closer!r}, found {clip(repr(sep.text))}", sep.pos
                )

    def _call(self, name: _Tok) -> Arg:
        if name.text not in FUNCTIONS:
            near = difflib.get_close_matches(name.text, FUNCTIONS, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(FUNCTIONS)}"
            hint = _ELSEWHERE.get(name.text.lower().removeprefix("tune."), hint)
            raise GrammarError(f"unknown function {clip(repr(name.text))}", name.pos, hint)
        opener = self._take()
        args: list[Arg] = []
        kwargs: dict[str, Arg] = {}
        close = self._take() if self._peek().kind == ")" else self._items(opener, args, ")", kwargs)
        allowed = _KEYWORDS.get(name.text, ())
        for key, arg in kwargs.items():
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                only = f"it accepts only {allowed[0]}=" if allowed else "it accepts none"
                hint = f"did you mean {near[0]!r}?" if near else only
                raise GrammarError(
                    f"{clip(name.text)}() has no keyword argument {clip(repr(key))}", arg.pos, hint
                )
        src = self.text[name.pos : close.pos + 1]
        call = Call(name.text, src, name.pos, close.pos, args, kwargs)
        return Arg(FUNCS[name.text](call), name.pos, src)


MAPPING_KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}
SCALAR_TYPES = (type(None), bool, int, float, str)


class FormError(Exception):
    """A mapping-form parameter that makes no sense; ``subpath`` is where, inside it."""

    def __init__(self, message: str, hint: str | None = None, subpath: tuple[Any, ...] = ()):
        super().__init__(message)
        self.message, self.hint, self.subpath = message, hint, subpath


def read_grid(values: Any) -> tuple[Any, ...]:
    """The values of ``{grid_search: [...]}``."""
    if not isinstance(values, list) or not values:
        raise FormError("grid_search needs a non-empty list of values", subpath=("grid_search",))
    _few(values, ("grid_search",))
    return tuple(_choice(v, ("grid_search",)) for v in values)


def _choice(value: Any, subpath: tuple[Any, ...]) -> Any:
    if isinstance(value, str):
        value = coerce_scalar(value)
    if isinstance(value, list | dict):
        return choice_label(value)  # one choice: a list of layer sizes, a mapping per network
    if not isinstance(value, SCALAR_TYPES):
        raise FormError(f"{show_value(value)} cannot be an Optuna choice", LIST_HINT, subpath)
    return value


def _number(value: Any, key: str) -> float | int:
    if isinstance(value, str):
        value = coerce_scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormError(f"'{key}' must be a number, not {show_value(value)}", subpath=(key,))
    if not math.isfinite(value):
        raise FormError(f"'{key}' must be a finite number, not {show_value(value)}", subpath=(key,))
    return value


def _few(values: list[Any], subpath: tuple[Any, ...]) -> None:
    if len(values) > limits.MAX_CHOICES:
        raise FormError(
            f"{len(values):,} values are listed",
            f"a parameter takes at most {limits.MAX_CHOICES:,} values: search a range instead",
            subpath,
        )


def read_mapping(value: Mapping[str, Any]) -> od.BaseDistribution:
    """The distribution of ``{type: float | int | categorical, ...}``."""
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in MAPPING_KEYS:
        guess = did_you_mean(str(kind), MAPPING_KEYS) if kind else None
        raise FormError(
            f"unknown parameter type {show_value(kind)}" if kind else "the mapping has no 'type'",
            f"did you mean '{guess}'?" if guess else "use type: float, int or categorical",
            ("type",),
        )
    for key in value:
        if key not in MAPPING_KEYS[kind]:
            guess = did_you_mean(key, MAPPING_KEYS[kind])
            raise FormError(
                f"'{key}' is not a setting of a {kind} parameter",
                f"did you mean '{guess}'?"
                if guess
                else f"allowed: {', '.join(sorted(MAPPING_KEYS[kind]))}",
                (key,),
            )
    if kind == "categorical":
        choices = value.get("choices")
        if not isinstance(choices, list) or not choices:
            raise FormError("'choices' must be a non-empty list", subpath=("choices",))
        _few(choices, ("choices",))
        scalars = tuple(_choice(c, ("choices", i)) for i, c in enumerate(choices))
        if len(set(map(repr, scalars))) != len(scalars):
            raise FormError("'choices' lists a value twice", subpath=("choices",))
        return od.CategoricalDistribution(scalars)
    for key in ("low", "high"):
        if key not in value:
            raise FormError(f"a {kind} parameter needs '{key}'")
    low, high = _number(value["low"], "low"), _number(value["high"], "high")
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise FormError("'log' must be true or false", subpath=("log",))
    step = value.get("step")
    if step is not None:
        step = _number(step, "step")
        if step <= 0:
            raise FormError("'step' must be above 0", subpath=("step",))
        if log:
            raise FormError("'step' and 'log: true' cannot be combined", "drop one of them")
    if low > high:
        raise FormError(f"low ({low}) is above high ({high})", "swap them", ("low",))
    if log and low <= 0:
        raise FormError(
            f"a log-scale parameter needs low > 0, got {low}",
            "use a small positive lower bound such as 1e-6, or drop 'log'",
            ("low",),
        )
    if kind == "int":
        for key, number in (("low", low), ("high", high), ("step", step)):
            if number is not None and float(number) != int(number):
                raise FormError(
                    f"'{key}' of an int parameter must be a whole number", subpath=(key,)
                )
        return od.IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    return od.FloatDistribution(
        float(low), float(high), log=log, step=None if step is None else float(step)
    )
