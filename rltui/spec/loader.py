"""Reading and checking a study file: every problem at once, each with file:line and key path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from rltui.spec import algorithms as algos
from rltui.spec.model import StudySpec
from rltui.spec.optuna_options import PRUNER_OPTIONS, SAMPLER_OPTIONS
from rltui.spec.problems import KeyPath, Problem, SpecError, did_you_mean
from rltui.spec.source import YamlSyntaxError, parse_yaml
from rltui.spec.space import SearchSpace, build_space, contains


@dataclass(frozen=True)
class Study:
    """A checked study file: the schema values, the search space, and where it came from."""

    spec: StudySpec
    space: SearchSpace
    text: str
    path: Path | None = None
    warnings: tuple[Problem, ...] = ()

    @property
    def n_trials(self) -> int:
        """The trial budget the file asks for."""
        return self.budget()

    def budget(self, requested: int | None = None) -> int:
        """The trial budget for ``requested`` trials (the file's ``n_trials`` when None).

        A grid runs in whole passes, each combination once per pass, so that no combination
        runs more often than another: a space that is all grid runs one pass (more would only
        repeat trials), and any other budget is rounded up to whole passes.
        """
        requested = requested or self.spec.n_trials
        points = len(self.space.grid_points())
        if not points:
            return requested
        if self.space.all_grid:
            return points
        return -(-requested // points) * points


def check_text(
    text: str, filename: str | None = None, *, check_env: bool = True
) -> tuple[Study | None, list[Problem]]:
    """Check a study file's text. Returns the study (None when it has errors) and all problems.

    Problems are sorted by line. Warnings do not make the study unusable.
    """
    try:
        source = parse_yaml(text)
    except YamlSyntaxError as exc:
        return None, [exc.problem]
    problems: list[Problem] = []
    spec = None
    if not isinstance(source.data, Mapping):
        problems.append(Problem((), "a study file must be a YAML mapping (key: value lines)"))
    else:
        try:
            spec = StudySpec.model_validate(source.data)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc))
    space = SearchSpace()
    if spec is not None:
        space, more = build_space(spec.search_space)
        problems.extend(more)
        problems.extend(_check_meaning(spec, space, check_env=check_env))
    problems = sorted(
        (source.place(p) for p in problems), key=lambda p: (p.line or 0, p.column or 0)
    )
    if spec is None or any(p.severity == "error" for p in problems):
        return None, problems
    path = Path(filename) if filename else None
    return Study(spec, space, text, path, tuple(problems)), problems


def parse_study(text: str, filename: str | None = None, *, check_env: bool = True) -> Study:
    """Like :func:`check_text` but raises :class:`SpecError` when anything is wrong."""
    study, problems = check_text(text, filename, check_env=check_env)
    if study is None:
        raise SpecError([p for p in problems if p.severity == "error"], filename)
    return study


def load_study(path: str | Path, *, check_env: bool = True) -> Study:
    """Read and check a study file; raises :class:`SpecError` (also for a missing file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Problem((), "no such study file")], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem((), f"cannot read the study file: {exc}")], str(path)) from None
    study = parse_study(text, str(path), check_env=check_env)
    return Study(study.spec, study.space, text, path.resolve(), study.warnings)


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        path: KeyPath = tuple(
            p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-")
        )
        path = tuple(p for p in path if p not in ("options",))
        msg = err["msg"].removeprefix("Value error, ")
        hint = None
        if err["type"] == "extra_forbidden":
            known = _fields_at(StudySpec, path[:-1])
            guess = did_you_mean(str(path[-1]), known)
            msg = f"unknown key '{path[-1]}'"
            hint = (
                f"did you mean '{guess}'?" if guess else f"known keys: {', '.join(sorted(known))}"
            )
        elif err["type"] == "missing":
            msg = f"'{path[-1]}' is required" if path else msg
        problems.append(Problem(path, msg, hint))
    return problems


def _fields_at(model: type[BaseModel], path: KeyPath) -> list[str]:
    for part in path:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _check_meaning(spec: StudySpec, space: SearchSpace, *, check_env: bool) -> list[Problem]:
    problems: list[Problem] = []
    problems += _check_typed("sampler", spec.sampler.type, spec.sampler.options, SAMPLER_OPTIONS)
    problems += _check_typed("pruner", spec.pruner.type, spec.pruner.options, PRUNER_OPTIONS)
    train = spec.train
    if train.algorithm is not None:
        if train.algorithm not in algos.ALGORITHM_ARGS:
            guess = did_you_mean(train.algorithm, algos.algorithm_names())
            problems.append(
                Problem(
                    ("train", "algorithm"),
                    f"unknown algorithm '{train.algorithm}'",
                    f"did you mean '{guess}'?"
                    if guess
                    else f"use one of {', '.join(algos.algorithm_names())}",
                )
            )
        else:
            problems += _check_hyperparameters(spec, space)
        if check_env and train.env:
            problems += _check_env(train.env)
    overlap = spec.hyperparameters.keys() & spec.search_space.keys()
    for name in sorted(overlap):
        problems.append(
            Problem(
                ("search_space", name),
                f"'{name}' is both fixed in 'hyperparameters' and searched here",
                "remove it from one of the two",
            )
        )
    problems += _check_enqueue(spec, space)
    problems += _check_grid_budget(spec, space)
    return problems


def _check_grid_budget(spec: StudySpec, space: SearchSpace) -> list[Problem]:
    points = len(space.grid_points())
    if not points or "n_trials" not in spec.model_fields_set:
        return []
    if space.all_grid and spec.n_trials != points:
        return [
            Problem(
                ("n_trials",),
                f"the search space is all grid: its {points} combinations run once each, "
                f"not {spec.n_trials} trials",
                "remove n_trials, or search another parameter to run several passes",
                severity="warning",
            )
        ]
    if not space.all_grid and spec.n_trials % points:
        passes = -(-spec.n_trials // points)
        return [
            Problem(
                ("n_trials",),
                f"{spec.n_trials} trials are rounded up to {passes * points}: "
                f"{passes} passes over the {points} grid combinations",
                f"each pass runs every combination once; use a multiple of {points}",
                severity="warning",
            )
        ]
    return []


def _check_typed(
    key: str, kind: str, options: Mapping[str, Any], table: Mapping[str, frozenset[str]]
) -> list[Problem]:
    if kind not in table:
        guess = did_you_mean(kind, table)
        return [
            Problem(
                (key, "type"),
                f"unknown {key} '{kind}'",
                f"did you mean '{guess}'?" if guess else f"use one of {', '.join(table)}",
            )
        ]
    problems = []
    for option in options:
        if option not in table[kind]:
            guess = did_you_mean(option, table[kind])
            problems.append(
                Problem(
                    (key, option),
                    f"'{option}' is not an option of the {kind} {key}",
                    f"did you mean '{guess}'?"
                    if guess
                    else f"its options: {', '.join(sorted(table[kind])) or 'none'}",
                )
            )
    return problems


NAMED_VALUES: dict[str, tuple[str, ...]] = {
    "activation_fn": algos.ACTIVATIONS,
    "optimizer_class": algos.OPTIMIZERS,
    "action_noise": algos.ACTION_NOISES,
    "learning_rate_schedule": algos.LR_SCHEDULES,
}


def _check_hyperparameters(spec: StudySpec, space: SearchSpace) -> list[Problem]:
    algorithm = spec.train.algorithm
    assert algorithm is not None
    accepted = algos.accepted_hyperparameters(algorithm)
    problems = []
    for section, names in (
        ("hyperparameters", spec.hyperparameters),
        ("search_space", spec.search_space),
    ):
        for name in names:
            if name not in accepted:
                guess = did_you_mean(name, accepted)
                others = [
                    a for a in algos.ALGORITHM_ARGS if name in algos.accepted_hyperparameters(a)
                ]
                hint = (
                    f"did you mean '{guess}'?"
                    if guess
                    else (
                        f"it belongs to {', '.join(others)}" if others else "see the README's list"
                    )
                )
                problems.append(
                    Problem(
                        (section, name), f"{algorithm.upper()} has no hyperparameter '{name}'", hint
                    )
                )
    values: dict[str, list[tuple[KeyPath, Any]]] = {}
    for name, value in spec.hyperparameters.items():
        values.setdefault(name, []).append((("hyperparameters", name), value))
    for name, param in space.params.items():
        path: KeyPath = ("search_space", name)
        if param.is_fixed:
            values.setdefault(name, []).append((path, param.fixed))
        for choice in param.grid or getattr(param.distribution, "choices", None) or ():
            values.setdefault(name, []).append((path, choice))
    for name, entries in values.items():
        for path, value in entries:
            problem = _check_named_value(name, value, path)
            if problem:
                problems.append(problem)
    return problems


def _check_named_value(name: str, value: Any, path: KeyPath) -> Problem | None:
    if name in NAMED_VALUES and value not in NAMED_VALUES[name]:
        guess = did_you_mean(str(value), NAMED_VALUES[name])
        return Problem(
            path,
            f"'{value}' is not a known {name}",
            f"did you mean '{guess}'?" if guess else f"use one of {', '.join(NAMED_VALUES[name])}",
        )
    if name == "net_arch":
        if isinstance(value, str) and value not in algos.NET_ARCH_PRESETS:
            guess = did_you_mean(value, algos.NET_ARCH_PRESETS)
            return Problem(
                path,
                f"'{value}' is not a net_arch preset",
                f"did you mean '{guess}'?"
                if guess
                else f"use a list of layer sizes or one of {', '.join(algos.NET_ARCH_PRESETS)}",
            )
        if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
            return Problem(path, "a layer size must be above 0")
    return None


def _check_env(env_id: str) -> list[Problem]:
    # Gymnasium pulls in numpy only, never torch: safe for the UI's live validation.
    import gymnasium

    if ":" in env_id:
        module = env_id.split(":", 1)[0]
        try:
            __import__(module)
        except ImportError as exc:
            return [
                Problem(
                    ("train", "env"),
                    f"cannot import '{module}' for env '{env_id}': {exc}",
                    "install the package that registers it",
                )
            ]
        env_id = env_id.split(":", 1)[1]
    if env_id in gymnasium.registry:
        return []
    guess = did_you_mean(env_id, gymnasium.registry.keys())
    return [
        Problem(
            ("train", "env"),
            f"'{env_id}' is not a registered Gymnasium environment",
            f"did you mean '{guess}'?"
            if guess
            else "use 'package.module:EnvId-v0' to import the package that registers it",
        )
    ]


def _check_enqueue(spec: StudySpec, space: SearchSpace) -> list[Problem]:
    problems = []
    searched = space.distributions
    for index, entry in enumerate(spec.enqueue):
        if not isinstance(entry, Mapping):
            problems.append(
                Problem(("enqueue", index), "each entry must be a mapping of parameter: value")
            )
            continue
        for name, value in entry.items():
            path: KeyPath = ("enqueue", index, name)
            if name not in searched:
                guess = did_you_mean(name, searched)
                problems.append(
                    Problem(
                        path,
                        f"'{name}' is not a searched parameter",
                        f"did you mean '{guess}'?"
                        if guess
                        else "enqueue only names from search_space",
                    )
                )
                continue
            if not contains(searched[name], value):
                problems.append(
                    Problem(
                        path,
                        f"{value!r} lies outside the search space of '{name}'",
                        "Optuna will still run it, but samplers may ignore the result",
                        severity="warning",
                    )
                )
    return problems
