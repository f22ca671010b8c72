"""Search spaces: four ways of writing a parameter, one meaning.

A value in ``search_space`` may be an explicit mapping (``{type: float, low, high, log}``), a
Hydra Optuna-sweeper expression (``tag(log, interval(1e-5, 1e-2))``), a Ray Tune grid
(``grid_search([...])`` or ``{grid_search: [...]}``), or a plain value that stays fixed. A
choice may be a list (``choice([64, 64], [256, 256])``). A key may be a Hydra config path
(``agent.gamma``: the setting its last parts name), and ``preset: zoo`` searches what
rl-baselines3-zoo searches for the algorithm (:mod:`rltui.spec.presets`). What a trial trains
with, from what Optuna sampled, is :meth:`SearchSpace.values_for`.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    IntDistribution,
    check_distribution_compatibility,
)

from rltui.spec import algorithms as algos
from rltui.spec import limits
from rltui.spec import policy as pol
from rltui.spec.grammar import (
    FormError,
    GrammarError,
    GridSearch,
    coerce_scalar,
    is_sweep_expression,
    parse_sweep,
    read_grid,
    read_mapping,
)
from rltui.spec.problems import Problem, did_you_mean
from rltui.spec.sweep_calls import choice_label, choice_value
from rltui.spec.zoo import LiteralError, parse_zoo

if TYPE_CHECKING:
    from rltui.spec.model import TrainSpec

PRESET = "preset"  # the search_space key that names a preset
_MOST_COMBINATIONS = limits.MAX_CHOICES  # of a computed setting's sources, when checked


@dataclass(frozen=True)
class SearchParam:
    """One parameter, by its Optuna name: searched (``distribution``), crossed on a grid
    (``grid``), or fixed.

    ``key`` is the setting it gives when that is not its name (``gamma`` for a Hydra path
    ``agent.gamma``); a preset's ``source`` parameter gives no setting itself, only values
    computed from it (``one_minus_gamma``); ``narrow`` is a parameter sampled before this one
    and what its value makes of this one's range (DQN's subsample_steps by train_freq).
    """

    name: str
    distribution: BaseDistribution | None = None
    grid: tuple[Any, ...] | None = None
    fixed: Any = None
    key: str | None = None
    source: bool = False
    narrow: tuple[str, Callable[[Any], BaseDistribution | None]] | None = None

    @property
    def is_fixed(self) -> bool:
        return self.distribution is None and self.grid is None

    @property
    def is_log(self) -> bool:
        return bool(getattr(self.distribution, "log", False))

    @property
    def setting(self) -> str | None:
        """The setting this parameter's value is (None for a preset's source parameter)."""
        return None if self.source else (self.key or self.name)

    def values(self) -> tuple[Any, ...]:
        """The values it may take: the fixed one, those listed (a list choice as the list), or
        the ends of its range."""
        if self.is_fixed:
            return (self.fixed,)
        if self.grid is not None:
            return tuple(map(choice_value, self.grid))
        dist = self.distribution
        if isinstance(dist, CategoricalDistribution):
            return tuple(map(choice_value, dist.choices))
        return (getattr(dist, "low", None), getattr(dist, "high", None))


@dataclass(frozen=True)
class Derived:
    """A setting computed from parameters, as a preset computes it: ``gamma`` is
    ``1 - one_minus_gamma``. ``convert`` takes the values of ``sources``, in order."""

    key: str
    sources: tuple[str, ...]
    convert: Callable[..., Any]


@dataclass(frozen=True)
class SearchSpace:
    """The parameters of a study, in file order (a preset's first), and the settings computed
    from them."""

    params: dict[str, SearchParam] = field(default_factory=dict)
    derived: tuple[Derived, ...] = ()
    preset: str | None = None

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """What Optuna samples. Grid parameters appear as categoricals of their values; a
        parameter narrowed by another one appears with its widest range."""
        out: dict[str, BaseDistribution] = {}
        for name, p in self.params.items():
            if p.distribution is not None:
                out[name] = p.distribution
            elif p.grid is not None:
                out[name] = CategoricalDistribution(p.grid)
        return out

    @property
    def fixed(self) -> dict[str, Any]:
        """The settings the search space fixes, by the setting's name."""
        return {
            p.setting: p.fixed for p in self.params.values() if p.is_fixed and p.setting is not None
        }

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

    def distribution_given(self, name: str, sampled: Mapping[str, Any]) -> BaseDistribution:
        """The distribution of ``name`` once the parameters in ``sampled`` are known: one that
        another narrows (``subsample_steps`` in 1..min(train_freq, 8)) gets its range for the
        value the other took."""
        widest = self.distributions[name]
        narrow = self.params[name].narrow
        if narrow is None:
            return widest
        source, bound = narrow
        known = {**self._fixed_params(), **sampled}
        return (bound(known[source]) if source in known else None) or widest

    def values_for(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The settings a trial trains with for Optuna's ``params``, in the study file's words:
        a Hydra path's value under the setting it names, a list choice as the list, a preset's
        parameters converted as the preset converts them. Fixed settings are in :attr:`fixed`;
        a name the space does not know (an earlier version's) stays as it is."""
        out: dict[str, Any] = {}
        for name, value in params.items():
            param = self.params.get(name)
            if param is None:
                out[name] = value
            elif param.setting is not None:
                out[param.setting] = choice_value(value)
        known = {**self._fixed_params(), **params}
        for derived in self.derived:
            if all(source in known for source in derived.sources):
                values = (choice_value(known[source]) for source in derived.sources)
                out[derived.key] = derived.convert(*values)
        return out

    def optuna_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Hand-picked ``values`` by Optuna name (an ``enqueue`` entry) as Optuna holds them:
        a list or mapping choice as its label."""
        return {name: choice_label(value) for name, value in values.items()}

    def setting_values(self, key: str) -> Iterator[tuple[Any, str]]:
        """Every value the setting ``key`` may take in a trial (listed ones, the ends of
        ranges, and what a preset computes from them), each with the parameter it comes from."""
        for param in self.params.values():
            if param.setting == key:
                for value in param.values():
                    yield value, param.name
        for derived in self.derived:
            if derived.key == key:
                for value in self.derived_values(derived):
                    yield value, derived.sources[0]

    def derived_values(self, derived: Derived) -> Iterator[Any]:
        """What ``derived`` computes from the values its sources may take (of the first
        combinations, when they are many); a source value it cannot compute with, as it is."""
        choices = (self.params[s].values() for s in derived.sources if s in self.params)
        for combo in itertools.islice(itertools.product(*choices), _MOST_COMBINATIONS):
            try:
                yield derived.convert(*combo)
            except (TypeError, ValueError, ArithmeticError):
                yield combo[0]

    def _fixed_params(self) -> dict[str, Any]:
        return {name: p.fixed for name, p in self.params.items() if p.is_fixed}


def config_path(algorithm: str, policy: str | None, name: str) -> str | None:
    """The setting a Hydra config path names: its parts from the first one ``algorithm``
    takes (``agent.gamma`` -> ``gamma``, ``model.policy_kwargs.net_arch`` ->
    ``policy_kwargs.net_arch``); None when ``name`` starts with such a part already, has
    none, or a part before it looks misspelt. Where the setting points is
    :func:`rltui.spec.policy.resolve`'s to say."""
    parts = name.split(".")
    known = pol.accepted_hyperparameters(algorithm, policy)
    first = next((i for i, part in enumerate(parts) if part in known), 0)
    # A part before it that is nearly a setting's name is a typo (polcy_kwargs.ortho_init),
    # reported with its did-you-mean, rather than a config group.
    if not first or any(did_you_mean(part, known) for part in parts[:first]):
        return None
    return ".".join(parts[first:])


def without_searched(
    algorithm: str, policy: str | None, fixed: Mapping[str, Any], searched: Mapping[str, Any]
) -> dict[str, Any]:
    """``fixed`` less what ``searched`` sets under another name (``net_arch`` searched,
    ``policy_kwargs: {net_arch: ...}`` fixed): the search wins, whichever way each is written.
    A name in both goes too; ``{**fixed, **searched}`` then holds each setting once."""
    targets = {slot.target for name in searched if (slot := _slot(algorithm, policy, name))}
    out: dict[str, Any] = {}
    for name, value in fixed.items():
        slot = _slot(algorithm, policy, name)
        if name in searched or (slot is not None and slot.target in targets):
            continue
        inside = slot is not None and any(t[: len(slot.target)] == slot.target for t in targets)
        if inside and name == pol.POLICY_KWARGS and isinstance(value, str):
            with contextlib.suppress(LiteralError):  # refused by the checks already
                value = parse_zoo(value)
        if inside and slot is not None and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if (*slot.target, str(k)) not in targets}
        out[name] = value
    return out


def _slot(algorithm: str, policy: str | None, name: str) -> pol.Slot | None:
    try:
        return pol.resolve(algorithm, policy, name)
    except pol.BadName:
        return None


def build_space(
    raw: Mapping[str, Any], train: TrainSpec | None = None
) -> tuple[SearchSpace, list[Problem]]:
    """Convert a ``search_space`` mapping for the algorithm ``train`` trains (which a Hydra
    config path and a preset need); returns the space and the problems found."""
    params: dict[str, SearchParam] = {}
    problems: list[Problem] = []
    listed = 0  # values of all categorical and grid parameters so far
    algorithm = train.algorithm if train is not None else None
    policy = pol.policy_of(train) if train is not None and algorithm in algos.ALGORITHM_ARGS else ""
    for name, value in raw.items():
        path = ("search_space", name)
        if name == PRESET:
            continue
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
            param = _param(name, value)
        except GrammarError as exc:
            problems.append(Problem(path, exc.message, exc.hint))
            continue
        except FormError as exc:
            problems.append(Problem((*path, *exc.subpath), exc.message, exc.hint))
            continue
        except (ValueError, OverflowError) as exc:  # Optuna's own checks of a distribution
            problems.append(Problem(path, f"Optuna refuses this parameter: {exc}"))
            continue
        listed += len(param.grid or getattr(param.distribution, "choices", None) or ())
        if policy:
            # A Hydra config path (agent.gamma) keeps its name, as Hydra's sweeper shows it.
            params[name] = replace(param, key=config_path(algorithm or "", policy, name))
        else:
            params[name] = param
    space = SearchSpace(params)
    if PRESET in raw:
        from rltui.spec.presets import with_preset

        space, more = with_preset(space, raw[PRESET], train)
        problems += more
    return space, problems


def contains(distribution: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` (a plain string is read as a number or bool first) lies inside."""
    if isinstance(value, str):
        value = coerce_scalar(value)
    if isinstance(distribution, CategoricalDistribution):
        value = choice_label(value)
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
            return SearchParam(name, grid=read_grid(value["grid_search"]))
        return SearchParam(name, distribution=read_mapping(value))
    if isinstance(value, list):
        raise FormError(
            "a plain list is ambiguous here",
            "to search among values write choice(a, b) or {type: categorical, choices: [...]}; "
            "to fix the value, move it to 'hyperparameters'",
        )
    return SearchParam(name, fixed=value)
