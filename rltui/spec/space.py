"""Search spaces: four ways of writing a parameter, one meaning.

A value in ``search_space`` may be an explicit mapping (``{type: float, low, high, log}``), a
Hydra Optuna-sweeper expression (``tag(log, interval(1e-5, 1e-2))``), a Ray Tune grid
(``grid_search([...])`` or ``{grid_search: [...]}``), or a plain value that stays fixed.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    check_distribution_compatibility,
)

from rltui.spec import limits
from rltui.spec.grammar import (
    GrammarError,
    GridSearch,
    coerce_scalar,
    is_sweep_expression,
    parse_sweep,
)
from rltui.spec.problems import Problem, did_you_mean, show_value

MAPPING_KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}
SCALAR_TYPES = (type(None), bool, int, float, str)


@dataclass(frozen=True)
class SearchParam:
    """One parameter: searched (``distribution``), crossed on a grid (``grid``), or fixed."""

    name: str
    distribution: BaseDistribution | None = None
    grid: tuple[Any, ...] | None = None
    fixed: Any = None

    @property
    def is_fixed(self) -> bool:
        return self.distribution is None and self.grid is None

    @property
    def is_log(self) -> bool:
        return bool(getattr(self.distribution, "log", False))


@dataclass(frozen=True)
class SearchSpace:
    """The parameters of a study, in file order."""

    params: dict[str, SearchParam] = field(default_factory=dict)

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """What Optuna samples. Grid parameters appear as categoricals of their values."""
        out: dict[str, BaseDistribution] = {}
        for name, p in self.params.items():
            if p.distribution is not None:
                out[name] = p.distribution
            elif p.grid is not None:
                out[name] = CategoricalDistribution(p.grid)
        return out

    @property
    def fixed(self) -> dict[str, Any]:
        return {name: p.fixed for name, p in self.params.items() if p.is_fixed}

    @property
    def grid(self) -> dict[str, tuple[Any, ...]]:
        return {name: p.grid for name, p in self.params.items() if p.grid is not None}

    @property
    def all_grid(self) -> bool:
        """True when every searched parameter is a grid parameter (and there is a grid)."""
        return bool(self.grid) and not self.distributions.keys() - self.grid.keys()

    def grid_size(self) -> int:
        """How many combinations the grid parameters make (0 without a grid)."""
        grid = self.grid
        return math.prod(len(values) for values in grid.values()) if grid else 0

    def grid_points(self) -> list[dict[str, Any]]:
        """Every combination of the grid parameters, in a stable order (empty without a grid)."""
        grid = self.grid
        if not grid:
            return []
        names = list(grid)
        combos = itertools.product(*(grid[n] for n in names))
        return [dict(zip(names, combo, strict=True)) for combo in combos]


def build_space(raw: Mapping[str, Any]) -> tuple[SearchSpace, list[Problem]]:
    """Convert a ``search_space`` mapping; returns the space and the problems found."""
    params: dict[str, SearchParam] = {}
    problems: list[Problem] = []
    listed = 0  # values of all categorical and grid parameters so far
    for name, value in raw.items():
        path = ("search_space", name)
        if listed > limits.MAX_ALL_CHOICES:
            problems.append(
                Problem(
                    path,
                    f"the search space lists more than {limits.MAX_ALL_CHOICES:,} values in all "
                    "before this parameter",
                    "list fewer values, or search ranges instead",
                )
            )
            break
        try:
            params[name] = param = _param(name, value)
            listed += len(param.grid or getattr(param.distribution, "choices", None) or ())
        except GrammarError as exc:
            problems.append(Problem(path, exc.message, exc.hint))
        except _Bad as exc:
            problems.append(Problem((*path, *exc.subpath), exc.message, exc.hint))
        except (ValueError, OverflowError) as exc:  # Optuna's own checks of a distribution
            problems.append(Problem(path, f"Optuna refuses this parameter: {exc}"))
    return SearchSpace(params), problems


def contains(distribution: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` (a plain string is read as a number or bool first) lies inside."""
    if isinstance(value, str):
        value = coerce_scalar(value)
    if isinstance(distribution, CategoricalDistribution):
        try:
            distribution.to_internal_repr(value)
        except ValueError:
            return False
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(distribution, IntDistribution) and not float(value).is_integer():
        return False
    low, high = distribution.low, distribution.high  # type: ignore[attr-defined]
    if not low <= value <= high:
        return False
    step = getattr(distribution, "step", None)
    if step is None:
        return True
    try:
        steps = (value - low) / step
        return abs(steps - round(steps)) < 1e-8
    except (OverflowError, ValueError):  # beyond what a float holds: no step lands there
        return False


def incompatible_changes(
    old: SearchSpace, new: SearchSpace, study_name: str | None = None
) -> list[Problem]:
    """Edits Optuna refuses inside one study: a parameter's kind, log flag, or choices.

    Each comes with the ways out that work: keep the definition the study has (shown), or
    start a new study under another ``name``. (A parameter cannot simply be renamed: its name
    is the algorithm's argument.)
    """
    from rltui.spec.changes import describe_distribution

    problems = []
    old_d, new_d = old.distributions, new.distributions
    fresh = f"'{study_name}-2'" if study_name else "another name"
    for name in old_d.keys() & new_d.keys():
        try:
            check_distribution_compatibility(old_d[name], new_d[name])
        except ValueError as exc:
            problems.append(
                Problem(
                    ("search_space", name),
                    f"Optuna cannot change this parameter inside a running study: {exc}",
                    f"keep the study's definition ({describe_distribution(old_d[name])}), "
                    f"or start a new study: set 'name' to {fresh}",
                )
            )
    return problems


class _Bad(Exception):
    def __init__(self, message: str, hint: str | None = None, subpath: tuple[Any, ...] = ()):
        super().__init__(message)
        self.message, self.hint, self.subpath = message, hint, subpath


# Anything shaped like a call goes through the parser, so a misspelt ``choise(a, b)`` is
# reported with a did-you-mean instead of silently becoming a fixed string.
_CALL_SHAPE = re.compile(r"^\s*[A-Za-z_]\w*\s*\(.*\)\s*$", re.S)


def _param(name: str, value: Any) -> SearchParam:
    if isinstance(value, str):
        if is_sweep_expression(value) or _CALL_SHAPE.match(value):
            parsed = parse_sweep(value)
            if isinstance(parsed, GridSearch):
                return SearchParam(name, grid=parsed.values)
            return SearchParam(name, distribution=parsed)
        return SearchParam(name, fixed=coerce_scalar(value))
    if isinstance(value, Mapping):
        if set(value) == {"grid_search"}:
            return SearchParam(name, grid=_grid(value["grid_search"]))
        return SearchParam(name, distribution=_mapping(value))
    if isinstance(value, list):
        raise _Bad(
            "a plain list is ambiguous here",
            "to search among values write choice(a, b) or {type: categorical, choices: [...]}; "
            "to fix the value, move it to 'hyperparameters'",
        )
    return SearchParam(name, fixed=value)


def _grid(values: Any) -> tuple[Any, ...]:
    if not isinstance(values, list) or not values:
        raise _Bad("grid_search needs a non-empty list of values", subpath=("grid_search",))
    _few(values, ("grid_search",))
    return tuple(_scalar(v, ("grid_search",)) for v in values)


def _scalar(value: Any, subpath: tuple[Any, ...]) -> Any:
    if isinstance(value, str):
        value = coerce_scalar(value)
    if not isinstance(value, SCALAR_TYPES):
        raise _Bad(
            f"{show_value(value)} cannot be an Optuna choice",
            "choices must be numbers, booleans, null or strings; name a preset instead "
            "(e.g. net_arch: choice(small, medium))",
            subpath,
        )
    return value


def _number(value: Any, key: str) -> float | int:
    if isinstance(value, str):
        value = coerce_scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"'{key}' must be a number, not {show_value(value)}", subpath=(key,))
    if not math.isfinite(value):
        raise _Bad(f"'{key}' must be a finite number, not {show_value(value)}", subpath=(key,))
    return value


def _few(values: list[Any], subpath: tuple[Any, ...]) -> None:
    if len(values) > limits.MAX_CHOICES:
        raise _Bad(
            f"{len(values):,} values are listed",
            f"a parameter takes at most {limits.MAX_CHOICES:,} values: search a range instead",
            subpath,
        )


def _mapping(value: Mapping[str, Any]) -> BaseDistribution:
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in MAPPING_KEYS:
        guess = did_you_mean(str(kind), MAPPING_KEYS) if kind else None
        raise _Bad(
            f"unknown parameter type {show_value(kind)}" if kind else "the mapping has no 'type'",
            f"did you mean '{guess}'?" if guess else "use type: float, int or categorical",
            ("type",),
        )
    for key in value:
        if key not in MAPPING_KEYS[kind]:
            guess = did_you_mean(key, MAPPING_KEYS[kind])
            raise _Bad(
                f"'{key}' is not a setting of a {kind} parameter",
                f"did you mean '{guess}'?"
                if guess
                else f"allowed: {', '.join(sorted(MAPPING_KEYS[kind]))}",
                (key,),
            )
    if kind == "categorical":
        choices = value.get("choices")
        if not isinstance(choices, list) or not choices:
            raise _Bad("'choices' must be a non-empty list", subpath=("choices",))
        _few(choices, ("choices",))
        scalars = tuple(_scalar(c, ("choices", i)) for i, c in enumerate(choices))
        if len(set(map(repr, scalars))) != len(scalars):
            raise _Bad("'choices' lists a value twice", subpath=("choices",))
        return CategoricalDistribution(scalars)
    for key in ("low", "high"):
        if key not in value:
            raise _Bad(f"a {kind} parameter needs '{key}'")
    low, high = _number(value["low"], "low"), _number(value["high"], "high")
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise _Bad("'log' must be true or false", subpath=("log",))
    step = value.get("step")
    if step is not None:
        step = _number(step, "step")
        if step <= 0:
            raise _Bad("'step' must be above 0", subpath=("step",))
        if log:
            raise _Bad("'step' and 'log: true' cannot be combined", "drop one of them")
    if low > high:
        raise _Bad(f"low ({low}) is above high ({high})", "swap them", ("low",))
    if log and low <= 0:
        raise _Bad(
            f"a log-scale parameter needs low > 0, got {low}",
            "use a small positive lower bound such as 1e-6, or drop 'log'",
            ("low",),
        )
    if kind == "int":
        for key, number in (("low", low), ("high", high), ("step", step)):
            if number is not None and float(number) != int(number):
                raise _Bad(f"'{key}' of an int parameter must be a whole number", subpath=(key,))
        return IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    return FloatDistribution(
        float(low), float(high), log=log, step=None if step is None else float(step)
    )
