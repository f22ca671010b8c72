"""Sweep expressions such as ``tag(log, interval(1e-5, 1e-2))`` turned into Optuna distributions.

A ``params:`` block pasted from a Hydra config must work unchanged, so the meaning follows the
Hydra Optuna sweeper (``create_optuna_distribution_from_override``); Ray Tune's
``grid_search([...])`` is understood too. This is a tokenizer plus a recursive-descent parser:
user text is never handed to ``eval`` or ``ast.literal_eval``.
"""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple

import optuna.distributions as od

from rltui.spec import limits
from rltui.spec.problems import clip
from rltui.spec.sweep_calls import (
    FUNCS,
    LIST_HINT,
    Arg,
    Call,
    GrammarError,
    GridSearch,
    Scalar,
    finish,
)

__all__ = [
    "FUNCTIONS",
    "GrammarError",
    "GridSearch",
    "coerce_scalar",
    "is_sweep_expression",
    "parse_sweep",
]

FUNCTIONS = tuple(FUNCS)
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
