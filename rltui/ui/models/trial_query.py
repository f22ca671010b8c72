"""The trial filter line: ``state:running value>60 lr<1e-3 net_arch=small``.

Space-separated terms, all of which must hold (spaces around an operator or after ``state:``
are read as none: ``value > 60`` is ``value>60``):

- ``state:running`` or ``state:paused,running`` (a state's unambiguous prefix will do);
- ``NAME>V``, ``NAME<V``, ``NAME>=V``, ``NAME<=V``: a number compared with ``V``;
- ``NAME=V``, ``NAME!=V``: a number as the table shows it, or a categorical value's text;
- any other word: text to find in the trial's number, state, worker, error, note or
  ``param=value`` pairs, as in a plain search box.

``NAME`` is ``value``, ``number`` (or ``#``), a parameter's name, its short name in the table
(``lr``), or an unambiguous prefix of one; in a study with several objectives, an objective's
name too (``wall_time<60``). A trial without the named value matches no
comparison. Parsing raises :class:`QueryError` naming the term and how to write it.

Pure Python: the parser and matcher are tested without a screen, and the table calls
:meth:`TrialQuery.matches` for each row of a rebuild, so it stays cheap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import TrialRow

# Short column headings for the parameters rltui's algorithms take most often.
ABBREVIATIONS: dict[str, str] = {
    "learning_rate": "lr",
    "learning_rate_schedule": "lr_sched",
    "batch_size": "batch",
    "ent_coef": "ent",
    "vf_coef": "vf",
    "gae_lambda": "lambda",
    "clip_range": "clip",
    "n_steps": "steps",
    "n_epochs": "epochs",
    "net_arch": "net",
    "activation_fn": "act",
    "max_grad_norm": "max_grad",
    "buffer_size": "buffer",
    "learning_starts": "starts",
    "train_freq": "freq",
    "gradient_steps": "grad_st",
    "target_update_interval": "target_u",
    "exploration_fraction": "expl_frac",
    "exploration_final_eps": "expl_eps",
    "normalize_advantage": "norm_adv",
    "action_noise": "noise",
    "action_noise_sigma": "noise_sd",
}
SHORT_ENOUGH = 8  # names this long or shorter are their own short name
RESERVED = ("value", "number")
ORDERING = (">=", "<=", ">", "<")
OPERATORS = (">=", "<=", "!=", ">", "<", "=")  # two-character ones first
_WORD_BREAK = re.compile(r"[_.\-]+")
_EXAMPLE = "state:running value>60 lr<1e-3 net_arch=small"


def short_name(name: str) -> str:
    """A parameter's column heading: a known abbreviation, the name when short, else the
    first word and the initials of the others (``target_update_interval`` -> ``target_ui``)."""
    leaf = name.rsplit(".", 1)[-1] or name  # nested keys: the last part says the most
    if leaf in ABBREVIATIONS:
        return ABBREVIATIONS[leaf]
    if len(leaf) <= SHORT_ENOUGH:
        return leaf
    words = [word for word in _WORD_BREAK.split(leaf) if word]
    if len(words) > 1:
        return f"{words[0][:6]}_{''.join(word[0] for word in words[1:])}"[: SHORT_ENOUGH + 1]
    return leaf[:SHORT_ENOUGH]


def abbreviate(names: Iterable[str]) -> dict[str, str]:
    """Each name's short name; names whose short names would clash keep their full name."""
    names = list(names)
    short = {name: short_name(name) for name in names}
    taken: dict[str, int] = {}
    for value in short.values():
        taken[value] = taken.get(value, 0) + 1
    full = set(names) | set(RESERVED)
    return {
        name: value if taken[value] == 1 and (value == name or value not in full) else name
        for name, value in short.items()
    }


class QueryError(ValueError):
    """A filter term that cannot be read; the message names it and says how to write it."""

    def __init__(self, term: str, message: str) -> None:
        super().__init__(f"filter term '{term}': {message}")
        self.term = term


@dataclass(frozen=True)
class Comparison:
    """One ``NAME op V`` term, its name resolved."""

    name: str  # "value", "number" or a parameter's full name
    op: str
    wanted: str  # the text after the operator
    number: float | None  # ``wanted`` as a number, when it is one

    def holds(self, row: TrialRow) -> bool:
        actual: Any
        if self.name == "value":
            actual = row.value
        elif self.name.startswith("value:"):  # another objective of several
            index = int(self.name[6:])
            actual = row.values[index] if index < len(row.values) else None
        elif self.name == "number":
            actual = row.number
        else:
            actual = row.params.get(self.name)
        if actual is None:
            return False
        numeric = isinstance(actual, (int, float)) and not isinstance(actual, bool)
        if self.op in ORDERING:
            if not numeric or self.number is None or math.isnan(actual):
                return False
            return _ORDER[self.op](float(actual), self.number)
        if numeric and self.number is not None:
            same = not math.isnan(actual) and same_as_shown(float(actual), self.number)
        else:
            same = _text(actual).lower() == self.wanted.lower()
        return same if self.op == "=" else not same


_ORDER = {
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


@dataclass(frozen=True)
class TrialQuery:
    """A parsed filter line; the empty query matches every trial."""

    terms: tuple[str, ...] = ()
    states: frozenset[TrialStatus] | None = None  # None: any state
    comparisons: tuple[Comparison, ...] = ()
    words: tuple[str, ...] = ()  # lower case

    @property
    def text(self) -> str:
        """The filter as the user wrote it, one space between terms."""
        return " ".join(self.terms)

    def matches(self, row: TrialRow) -> bool:
        if self.states is not None and row.status not in self.states:
            return False
        if not all(comparison.holds(row) for comparison in self.comparisons):
            return False
        if not self.words:
            return True
        haystack = " ".join(
            [
                str(row.number),
                row.status.value,
                row.worker or "",
                row.error or "",
                row.note or "",
                *(f"{k}={_text(v)}" for k, v in row.params.items()),
            ]
        ).lower()
        return all(word in haystack for word in self.words)

    def with_states(self, states: Collection[TrialStatus] | None) -> TrialQuery:
        """This query with its ``state:`` terms replaced by one for ``states`` (None or all
        six: no state term)."""
        terms = [term for term in self.terms if not _is_state_term(term)]
        if states is not None and 0 < len(states) < len(TrialStatus):
            chosen = [s.value.lower() for s in TrialStatus if s in states]
            terms.insert(0, "state:" + ",".join(chosen))
            narrowed: frozenset[TrialStatus] | None = frozenset(states)
        else:
            narrowed = None
        return TrialQuery(tuple(terms), narrowed, self.comparisons, self.words)


def parse(text: str, params: Sequence[str], objectives: Sequence[str] = ()) -> TrialQuery:
    """Read a filter line; raises :class:`QueryError` for the first term it cannot read.
    ``objectives``: the names of a study's several objectives (``wall_time<60``)."""
    terms = _terms(text)
    states: frozenset[TrialStatus] | None = None
    comparisons: list[Comparison] = []
    words: list[str] = []
    for term in terms:
        if _is_state_term(term):
            wanted = _states(term)
            states = wanted if states is None else states & wanted
            continue
        found = _operator(term)
        if found is None:
            words.append(term.lower())
            continue
        at, op = found
        text_after = term[at + len(op) :]
        comparisons.append(_comparison(term, term[:at], op, text_after, params, objectives))
    return TrialQuery(terms, states, tuple(comparisons), tuple(words))


def _terms(text: str) -> tuple[str, ...]:
    """The line's terms, a word that an operator or ``state:`` was typed apart from joined to
    it (``value > 60``, ``state: running``); ``value>1 >5`` and ``value> lr<1`` stay two terms,
    each with what is missing."""
    terms: list[str] = []
    for word in text.split():
        if terms and (
            (_open(terms[-1]) and _operator(word) is None) or (_leads(word) and _is_name(terms[-1]))
        ):
            terms[-1] += word
        else:
            terms.append(word)
    return tuple(terms)


def _leads(word: str) -> bool:
    """Whether ``word`` starts with an operator (``>``, ``>60``)."""
    found = _operator(word)
    return found is not None and found[0] == 0


def _is_name(term: str) -> bool:
    """Whether ``term`` could be the name before an operator: a word with none in it."""
    return _operator(term) is None and not _is_state_term(term)


def _open(term: str) -> bool:
    """Whether ``term`` ends where its value should follow: ``value>``, ``state:``."""
    if _is_state_term(term):
        return term.endswith(":") and term.count(":") == 1
    found = _operator(term)
    return found is not None and found[0] + len(found[1]) == len(term)


def _is_state_term(term: str) -> bool:
    return term.lower().startswith("state:")


def _states(term: str) -> frozenset[TrialStatus]:
    names = [name for name in term.split(":", 1)[1].split(",") if name]
    every = ", ".join(s.value.lower() for s in TrialStatus)
    if not names:
        raise QueryError(term, f"name a state after 'state:', e.g. state:running (states: {every})")
    chosen = set()
    for name in names:
        found = [s for s in TrialStatus if s.value.lower().startswith(name.lower())]
        if len(found) != 1:
            raise QueryError(term, f"no state is called '{name}'; states: {every}")
        chosen.add(found[0])
    return frozenset(chosen)


def _operator(term: str) -> tuple[int, str] | None:
    """Where the term's comparison operator starts, and which; None for a plain word."""
    for at, char in enumerate(term):
        if char in "<>=" or term.startswith("!=", at):
            return at, next(op for op in OPERATORS if term.startswith(op, at))
    return None


def _comparison(
    term: str,
    name: str,
    op: str,
    wanted: str,
    params: Sequence[str],
    objectives: Sequence[str] = (),
) -> Comparison:
    if not name:
        raise QueryError(term, f"put a name before '{op}', e.g. value{op}60 or lr{op}1e-3")
    if not wanted:
        raise QueryError(term, f"put a value after '{op}', e.g. {name}{op}60")
    number = _number(wanted)
    if op in ORDERING and number is None:
        raise QueryError(
            term,
            f"{op} compares numbers and '{wanted}' is not one; write e.g. {name}{op}1e-3, "
            f"or {name}={wanted} to match a value's text",
        )
    named = {o.lower(): "value" if i == 0 else f"value:{i}" for i, o in enumerate(objectives)}
    resolved = named.get(name.lower()) or _resolve(term, name, params)
    return Comparison(resolved, op, wanted, number)


def _resolve(term: str, name: str, params: Sequence[str]) -> str:
    """The value, number or parameter ``name`` stands for: exact, short name, or prefix."""
    lower = name.lower()
    if lower == "#":
        return "number"
    if lower in RESERVED:
        return lower
    exact = [p for p in params if p.lower() == lower]
    if exact:
        return exact[0]
    shorts = abbreviate(params)
    by_short = [p for p in params if shorts[p].lower() == lower]
    if len(by_short) == 1:
        return by_short[0]
    candidates = [*RESERVED, *params]
    prefixed = [c for c in candidates if c.lower().startswith(lower)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        shown = ", ".join(prefixed[:6]) + (", …" if len(prefixed) > 6 else "")
        raise QueryError(term, f"'{name}' could be {shown}; write more of the name")
    known = ", ".join(p if shorts[p] == p else f"{p} ({shorts[p]})" for p in params)
    raise QueryError(
        term,
        f"no value, number or parameter is called '{name}'; "
        + (f"parameters: {known}" if known else "this study has no parameters yet")
        + f". Example: {_EXAMPLE}",
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def _text(value: Any) -> str:
    """A parameter value as text to search: numbers roughly as the table shows them."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def same_as_shown(actual: float, wanted: float) -> bool:
    """Whether ``actual`` equals ``wanted`` as the table writes numbers: typing the number a
    cell shows finds its trial (4 significant digits; 3 below 1e-3 and from 1e6 up)."""
    if actual == wanted:
        return True
    magnitude = abs(actual)
    digits = 3 if magnitude != 0 and (magnitude < 1e-3 or magnitude >= 1e6) else 4
    return f"{actual:.{digits}g}" == f"{wanted:.{digits}g}"
