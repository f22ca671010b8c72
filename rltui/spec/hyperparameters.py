"""Checking hyperparameters: names the algorithm takes, and values it can use.

Every value a trial could receive is checked here — fixed ones, grid values, categorical
choices and the ends of numeric ranges — against :data:`rltui.spec.algorithms.ARG_KINDS`, so
that ``gamma: interval(0.9, 1.2)`` is an error in the editor rather than a failed trial.
A dotted name checks the part of a value it points to (:mod:`rltui.spec.policy`): one
option of ``policy_kwargs``, one part of a schedule (:mod:`rltui.spec.schedules`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution

from rltui.spec import algorithms as algos
from rltui.spec import arg_kinds as kinds
from rltui.spec import policy as pol
from rltui.spec import schedules as sched
from rltui.spec.algorithms import NAMED_VALUES, ArgKind
from rltui.spec.model import TENSORBOARD_HINT, StudySpec
from rltui.spec.policy import Given, Slot
from rltui.spec.problems import KeyPath, Problem, did_you_mean, show_value
from rltui.spec.space import PRESET, SearchParam, SearchSpace
from rltui.spec.sweep_calls import choice_value
from rltui.spec.zoo import LiteralError, parse_zoo

_PER_PARAMETER = 5  # problems listed for the values of one parameter: the rest are alike


def check_hyperparameters(spec: StudySpec, space: SearchSpace) -> list[Problem]:
    """Names the algorithm does not take, and values it cannot use, fixed or searched (by a
    preset too)."""
    algorithm = spec.train.algorithm
    assert algorithm is not None
    problems: list[Problem] = []
    policy = pol.policy_of(spec.train)
    given: list[Given] = []
    preset = {n: None for n in space.params if n not in spec.search_space}  # a preset's own
    for section, names in (
        ("hyperparameters", spec.hyperparameters),
        ("search_space", {**spec.search_space, **preset}),
    ):
        for name, raw in names.items():
            path: KeyPath = (section, PRESET if name in preset else name)
            param = space.params.get(name) if section == "search_space" else None
            if (section == "search_space" and name == PRESET) or (param and param.source):
                continue  # a preset's source: what is computed from it is checked below
            setting = param.setting if param and param.setting else name
            try:
                slot = pol.resolve(algorithm, policy, setting)
            except pol.BadName as exc:
                problems.append(Problem(path, exc.message, exc.hint))
                continue
            if slot is None:
                problems.append(_unknown_name(algorithm, policy, name, path))
                continue
            if setting != name:
                problems.append(
                    Problem(
                        path,
                        f"'{name}' is read as {setting}",
                        "a Hydra config path names a setting by its last parts; trials keep "
                        "the name as written",
                        severity="note",
                    )
                )
            if section == "hyperparameters":
                problems += _value_problems(algorithm, policy, slot, raw, path)
                given.append(Given(name, path, slot, (raw,)))
            elif param is not None:
                problems += _param_problems(algorithm, policy, slot, param, path, raw)
                shown = f"{name} (preset {space.preset})" if name in preset else name
                given.append(Given(shown, path, slot, param.values()))
    problems += _preset_problems(algorithm, policy, spec, space, given)
    overlaps = pol.overlap_problems(given)
    errors = [p for p in overlaps if p.severity == "error"]
    return problems + overlaps + ([] if errors else _schedule_problems(algorithm, given))


def _preset_problems(
    algorithm: str, policy: str, spec: StudySpec, space: SearchSpace, given: list[Given]
) -> list[Problem]:
    """Values a preset computes that the algorithm cannot use: its own ranges give none, so
    these come from a range that a key beside it changed."""
    problems = []
    for derived in space.derived:
        slot = pol.resolve(algorithm, policy, derived.key)
        assert slot is not None  # a test resolves every preset's settings
        changed = [s for s in derived.sources if s in spec.search_space]
        path: KeyPath = ("search_space", changed[0] if changed else PRESET)
        values = tuple(space.derived_values(derived))
        given.append(Given(f"{derived.key} (preset {space.preset})", path, slot, values))
        found: list[Problem] = []
        for value in values:
            found += _value_problems(algorithm, policy, slot, value, path)
            if len(found) >= _PER_PARAMETER:
                break
        whence = f"{derived.key} from {', '.join(derived.sources)}"
        problems += [replace(p, message=f"{whence}: {p.message}") for p in found]
    return problems


def check_value(algorithm: str, name: str, value: Any, path: KeyPath) -> Problem | None:
    """The first thing wrong with ``value`` for ``name`` (dotted names too, for the
    algorithm's default policy), or None (also for names that point nowhere)."""
    try:
        slot = pol.resolve(algorithm, None, name)
    except pol.BadName:
        return None
    if slot is None:
        return None
    found = _value_problems(algorithm, None, slot, value, path)
    return found[0] if found else None


def _unknown_name(algorithm: str, policy: str, name: str, path: KeyPath) -> Problem:
    if name == "tensorboard_log":
        message = "tensorboard_log is not a hyperparameter: rltui sets SB3's logger itself"
        return Problem(path, message, TENSORBOARD_HINT)
    accepted = pol.accepted_hyperparameters(algorithm, policy)
    parts = name.split(".")
    guess = None
    for index, part in enumerate(parts):  # a Hydra config path (agent.gama) too
        near = did_you_mean(part, accepted) if part not in accepted else None
        if near:
            guess = ".".join((*parts[:index], near, *parts[index + 1 :]))
            break
    if guess:
        hint = f"did you mean '{guess}'?"
    else:
        key = parts[-1]
        others = [a for a in algos.ALGORITHM_ARGS if key in pol.accepted_hyperparameters(a)]
        hint = f"it belongs to {', '.join(others)}" if others else "see the README's list"
    name_of = algos.display_name(algorithm)
    return Problem(path, f"{name_of} has no hyperparameter '{name}'", hint)


def _param_problems(
    algorithm: str, policy: str, slot: Slot, param: SearchParam, path: KeyPath, raw: Any
) -> list[Problem]:
    if param.is_fixed:
        return _value_problems(algorithm, policy, slot, param.fixed, path)
    if param.grid is not None:
        mapped = isinstance(raw, Mapping)
        found: list[Problem] = []
        for index, value in enumerate(param.values()):
            where = (*path, "grid_search", index) if mapped else path
            found += _value_problems(algorithm, policy, slot, value, where)
            if len(found) >= _PER_PARAMETER:
                break
        return found
    assert param.distribution is not None
    return _distribution_problems(algorithm, policy, slot, param.distribution, path, raw)


def _value_problems(
    algorithm: str, policy: str | None, slot: Slot, value: Any, path: KeyPath
) -> list[Problem]:
    name, part = slot.name, slot.part
    if part:
        return _part_problems(algorithm, slot, value, path)
    if name == pol.POLICY_KWARGS:
        return _policy_kwargs_problems(algorithm, policy, value, path)
    if name in pol.KWARGS_MAPPINGS:
        return _kwargs_problems(name, value, path)
    if name in algos.SCHEDULABLE[algorithm] and sched.is_schedule(value):
        return _whole_schedule_problems(algorithm, name, value, path)
    if name == "net_arch":
        found = pol.net_arch_problem(algorithm, value, path)
        return [found] if found is not None else []
    named = _named_value_problem(name, value, path)
    if named is not None:
        return [named]
    kind = algos.arg_kind(algorithm, name)
    if kind is None:
        return []
    return _kind_problems(name, kind, value, path, algorithm)


def _kind_problems(
    name: str, kind: ArgKind, value: Any, path: KeyPath, algorithm: str = ""
) -> list[Problem]:
    if kinds.fits(name, kind, value):
        return []
    if kind.units and isinstance(value, list):
        return [kinds.pair_problem(name, kind, value, path)]
    message = f"must be {kinds.describe(kind)}, got {show_value(value)}"
    hint = kinds.hint(name, kind, value)
    if algorithm in algos.SCHEDULABLE and name in algos.SCHEDULABLE[algorithm]:
        hint += f"; or a schedule: {sched.EXAMPLE.replace('0.2', str(kind.example))}"
    elif name.startswith("exploration_") and isinstance(value, str):
        hint = (
            "exploration is a linear schedule already: from exploration_initial_eps to "
            "exploration_final_eps over exploration_fraction of the budget"
        )
    return [Problem(path, message, hint)]


def _named_value_problem(
    name: str, value: Any, path: KeyPath, names: tuple[str, ...] | None = None
) -> Problem | None:
    names = names or NAMED_VALUES.get(name)
    if names is None or value in names:
        return None
    guess = did_you_mean(str(value), names)
    return Problem(
        path,
        f"{show_value(value)} is not a known {name}",
        f"did you mean '{guess}'?" if guess else f"use one of {', '.join(names)}",
    )


def _part_problems(algorithm: str, slot: Slot, value: Any, path: KeyPath) -> list[Problem]:
    """What is wrong with a part of a value: of a schedule, of net_arch, of a kwargs mapping."""
    name, part = slot.name, slot.part
    if name == "net_arch":
        found = pol.net_arch_problem(algorithm, value, path, nested=True)
        return [found] if found is not None else []
    if name in pol.KWARGS_MAPPINGS:
        return _kwargs_entry_problems(name, part, value, path)
    if part == "schedule":
        found = _named_value_problem("schedule", value, path, sched.SCHEDULES)
        return [found] if found is not None else []
    kind = algos.arg_kind(algorithm, name)
    assert kind is not None
    problems = _kind_problems(f"{name}.{part}", sched.part_kind(kind, part), value, path)
    return problems


def _whole_schedule_problems(algorithm: str, name: str, value: Any, path: KeyPath) -> list[Problem]:
    """A schedule given whole: ``lin_X``, or a mapping whose parts are checked one by one (how
    they go together is checked with the parts given by dotted names, if any)."""
    kind = algos.arg_kind(algorithm, name)
    assert kind is not None
    if isinstance(value, str):
        start = sched.linear_start(value)
        if start is None:
            return [sched.not_linear(name, value, path)]
        found = _kind_problems(name, sched.part_kind(kind, "start"), start, path)
        return [replace(p, message=f"{value}: the start {p.message}") for p in found]
    problems = []
    for key, part in value.items():
        if key not in sched.SCHEDULE_KEYS:
            problems.append(sched.unknown_key(str(key), path))
        else:
            slot = Slot(name, str(key))
            problems += _part_problems(algorithm, slot, part, (*path, key))
    return problems


def _policy_kwargs_problems(
    algorithm: str, policy: str | None, value: Any, path: KeyPath
) -> list[Problem]:
    """``policy_kwargs`` as a mapping or as rl-baselines3-zoo's ``"dict(...)"`` string; each
    option is checked as it would be given flat."""
    if isinstance(value, str):
        try:
            options = parse_zoo(value)
        except LiteralError as exc:
            at = f" (at column {exc.column} of the string)" if exc.column else ""
            return [
                Problem(
                    path,
                    f"policy_kwargs cannot be read{at}: {exc.message}",
                    'e.g. "dict(net_arch=[64, 64], activation_fn=nn.ReLU)", or a mapping '
                    "{net_arch: [64, 64], activation_fn: relu}",
                )
            ]
    elif isinstance(value, Mapping):
        options = dict(value)
    else:
        return [
            Problem(
                path,
                f"policy_kwargs must be a mapping of policy options, got {show_value(value)}",
                "e.g. policy_kwargs: {net_arch: [64, 64], ortho_init: false}",
            )
        ]
    zoo = isinstance(value, str)
    problems = []
    known = pol.policy_args(algorithm, policy)
    for key, option in options.items():
        where = path if zoo else (*path, key)
        if key not in known:
            message, hint = pol.not_an_option(algorithm, policy, str(key))
            problems.append(Problem(where, message, hint))
            continue
        found = _value_problems(algorithm, policy, Slot(key), option, where)
        problems += [replace(p, message=f"{key}: {p.message}") for p in found] if zoo else found
    return problems


def _kwargs_problems(name: str, value: Any, path: KeyPath) -> list[Problem]:
    if not isinstance(value, Mapping):
        return [
            Problem(
                path,
                f"{name} must be a mapping of keyword arguments, got {show_value(value)}",
                f"e.g. {name}: {{eps: 1.0e-5}}",
            )
        ]
    problems = []
    for key, item in value.items():
        problems += _kwargs_entry_problems(name, str(key), item, (*path, key))
    return problems


def _kwargs_entry_problems(name: str, key: str, value: Any, path: KeyPath) -> list[Problem]:
    if not key.isidentifier():
        return [Problem(path, f"'{key}' cannot be a keyword argument of {name}")]
    if value is None or isinstance(value, bool | int | float | str):
        return []
    plain = isinstance(value, list) and all(isinstance(v, int | float) for v in value)
    if plain:  # Adam's betas: [0.9, 0.999]
        return []
    return [
        Problem(
            path,
            f"{name}'s {key} must be a number, true/false, a string or a list of numbers",
            f"got {show_value(value)}",
        )
    ]


def _schedule_problems(algorithm: str, given: list[Given]) -> list[Problem]:
    """Schedules made of several names, or given as a mapping, checked as a whole; and a
    learning_rate_schedule that would compete with a learning-rate schedule."""
    problems = []
    for name in sorted(algos.SCHEDULABLE[algorithm]):
        parts: sched.Candidates = {}
        paths: dict[str, KeyPath] = {}  # where each part is given; "": the first of them
        for entry in given:
            if entry.slot.name != name or entry.slot.target[:1] != ("args",):
                continue
            if entry.slot.part:
                parts.setdefault(entry.slot.part, []).extend(entry.values)
                paths.setdefault(entry.slot.part, entry.path)
                paths.setdefault("", entry.path)
            elif entry.values and all(isinstance(v, Mapping) for v in entry.values):
                for value in entry.values:
                    for key, part in value.items():
                        parts.setdefault(str(key), []).append(part)
                        paths.setdefault(str(key), (*entry.path, key))
                paths.setdefault("", entry.path)
        if paths:
            problems += sched.combination_problems(name, parts, paths)
    rate = [e for e in given if e.slot.name == "learning_rate"]
    scheduled = any(e.slot.part or any(sched.is_schedule(v) for v in e.values) for e in rate)
    for entry in given:
        if entry.slot.name == "learning_rate_schedule" and "linear" in entry.values and scheduled:
            problems.append(
                Problem(
                    entry.path,
                    "learning_rate_schedule: linear and a schedule of learning_rate "
                    "cannot both set the learning rate",
                    "drop learning_rate_schedule: learning_rate: lin_X says the same",
                )
            )
    return problems


def _distribution_problems(
    algorithm: str, policy: str, slot: Slot, dist: BaseDistribution, path: KeyPath, raw: Any
) -> list[Problem]:
    mapped = isinstance(raw, Mapping)
    name, part = slot.name, slot.part
    if isinstance(dist, CategoricalDistribution):
        problems = []
        for index, choice in enumerate(map(choice_value, dist.choices)):
            where = (*path, "choices", index) if mapped and "choices" in raw else path
            problems += _value_problems(algorithm, policy, slot, choice, where)
            if len(problems) >= _PER_PARAMETER:
                break
        return problems
    if name == "net_arch":
        # A searched number is one layer of that many units (see rltui.train.hyperparams).
        for end in (getattr(dist, "low", 0), getattr(dist, "high", 0)):
            whole = isinstance(end, float) and end.is_integer() and abs(end) < 1e15
            found = pol.net_arch_problem(algorithm, int(end) if whole else end, path, bool(part))
            if found is not None:
                return [found]
        return []
    whole_only = {pol.POLICY_KWARGS, *pol.KWARGS_MAPPINGS, *NAMED_VALUES}
    if part == "schedule" or (not part and name in whole_only):
        what = f"{name}.{part}" if part else name
        return [Problem(path, f"{what} is not a number", "search it with choice(...)")]
    kind = algos.arg_kind(algorithm, name)
    if name in pol.KWARGS_MAPPINGS or kind is None:
        return []  # an entry of optimizer_kwargs: any number
    if part:
        kind, name = sched.part_kind(kind, part), f"{name}.{part}"
    return kinds.range_problems(name, kind, dist, path, raw if mapped else None)
