"""Reading and checking a study file: every problem at once, each with file:line and key path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rltui.spec import algorithms as algos
from rltui.spec import limits, pbt, target
from rltui.spec import policy as pol
from rltui.spec.environment import check_env as check_gym_env
from rltui.spec.environment import env_shapes
from rltui.spec.grammar import coerce_scalar, point_into_expression
from rltui.spec.hyperparameters import check_hyperparameters, check_value
from rltui.spec.model import StudySpec
from rltui.spec.optuna_options import PRUNER_OPTIONS, SAMPLER_OPTIONS
from rltui.spec.problems import KeyPath, Problem, SpecError, did_you_mean, guessing_at_most
from rltui.spec.reading import new_file_hint, read_study, why_unreadable
from rltui.spec.resources import check_memory
from rltui.spec.schema_errors import pydantic_problems
from rltui.spec.source import (
    YamlSource,
    YamlSyntaxError,
    byte_position,
    parse_yaml,
)
from rltui.spec.space import PRESET, SearchSpace, build_space, contains, without_searched
from rltui.spec.sweep_calls import choice_value


@dataclass(frozen=True)
class StudyFile:
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

    @property
    def announced_budget(self) -> int | None:
        """The trial count whose reaching is news ("budget reached"); None for a PBT study,
        whose trials are its members' segments and end when every member has."""
        return None if pbt.is_pbt(self.spec) else self.n_trials

    def budget(self, requested: int | None = None) -> int:
        """The trial budget for ``requested`` trials (the file's ``n_trials`` when None).

        A PBT study's trials are its members' segments: its population times the segments of
        a member's budget, whatever was requested.

        A grid runs in whole passes, each combination once per pass, so that no combination
        runs more often than another: a space that is all grid runs one pass (more would only
        repeat trials), and any other budget is rounded up to whole passes.
        """
        if pbt.is_pbt(self.spec):  # a segment per trial; exploits may change it a little
            return pbt.options_of(self.spec).population * pbt.segments(self.spec)
        requested = requested or self.spec.n_trials
        points = self.space.grid_size()
        if not points:
            return requested
        if self.space.all_grid:
            return points
        return -(-requested // points) * points

    def hyperparameters_for(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The settings a trial with Optuna's ``params`` trains with, in the study file's
        words: the file's ``hyperparameters``, the search space's fixed values and what
        :meth:`SearchSpace.values_for` makes of ``params``. A setting both fixed and searched
        takes the searched value, however each is written (``net_arch`` searched,
        ``policy_kwargs: {net_arch: ...}`` fixed)."""
        searched = {**self.space.fixed, **self.space.values_for(params)}
        fixed: Mapping[str, Any] = self.spec.hyperparameters
        train = self.spec.train
        if train.algorithm in algos.ALGORITHM_ARGS:
            fixed = without_searched(train.algorithm, pol.policy_of(train), fixed, searched)
        return {**fixed, **searched}


def check_text(
    text: str, filename: str | None = None, *, check_env: bool = True
) -> tuple[StudyFile | None, list[Problem]]:
    """Check a study file's text. Returns the study (None when it has errors) and all problems.

    Problems are sorted by line. Warnings do not make the study unusable. A ``module:Env-v0``
    env id's module is imported from the folder of ``filename`` (or an installed package).
    """
    try:
        source = parse_yaml(text)
    except YamlSyntaxError as exc:
        return None, [_explain_tabs(exc.problem, text)]
    folder = Path(filename).resolve().parent if filename else None
    try:
        with guessing_at_most(limits.MAX_GUESSES):
            spec, space, problems = _check_source(source, text, check_env=check_env, folder=folder)
    except RecursionError:
        # The reader bounds nesting, so this is a safety net: still a message, not a crash.
        too_deep = "the study file nests too deeply to be checked"
        return None, [Problem((), too_deep, "flatten its deepest values", line=1, column=1)]
    problems = _at_most(
        sorted((source.place(p) for p in problems), key=lambda p: (p.line or 0, p.column or 0))
    )
    if spec is None or any(p.severity == "error" for p in problems):
        return None, problems
    path = Path(filename) if filename else None
    return StudyFile(spec, space, text, path, tuple(problems)), problems


def _at_most(problems: list[Problem]) -> list[Problem]:
    """The first :data:`limits.MAX_PROBLEMS` problems, and one more that counts the rest."""
    if len(problems) <= limits.MAX_PROBLEMS:
        return problems
    hidden = problems[limits.MAX_PROBLEMS :]
    severity = "error" if any(p.severity == "error" for p in hidden) else "warning"
    rest = Problem(
        (),
        f"{len(hidden):,} more problems are not listed",
        "fix the ones above first",
        hidden[0].line,
        hidden[0].column,
        severity,
    )
    return [*problems[: limits.MAX_PROBLEMS], rest]


def _check_source(
    source: YamlSource, text: str, *, check_env: bool, folder: Path | None
) -> tuple[StudySpec | None, SearchSpace, list[Problem]]:
    problems: list[Problem] = []
    spec = None
    if not isinstance(source.data, Mapping):
        problems.append(Problem((), "a study file must be a YAML mapping (key: value lines)"))
    else:
        try:
            spec = StudySpec.model_validate(source.data)
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc))
    space = SearchSpace()
    if spec is not None:
        space, more = build_space(spec.search_space, spec.train)
        raw = spec.search_space
        problems.extend(point_into_expression(p, raw, source, text) for p in more)
        problems.extend(_check_meaning(spec, space, check_env=check_env, folder=folder))
    return spec, space, problems


def parse_study(text: str, filename: str | None = None, *, check_env: bool = True) -> StudyFile:
    """Like :func:`check_text` but raises :class:`SpecError` when anything is wrong."""
    study, problems = check_text(text, filename, check_env=check_env)
    if study is None:
        raise SpecError([p for p in problems if p.severity == "error"], filename)
    return study


def load_study(path: str | Path, *, check_env: bool = True) -> StudyFile:
    """Read and check a study file; raises :class:`SpecError` (also for a missing file)."""
    path = Path(path)
    try:
        text = read_study(path)
    except FileNotFoundError:
        raise SpecError(
            [Problem((), "no such study file", new_file_hint(path))], str(path)
        ) from None
    except UnicodeDecodeError as exc:
        line, column = byte_position(exc.object, exc.start)
        said = f"cannot read the study file: {why_unreadable(exc)}"
        raise SpecError([Problem((), said, "save it as UTF-8", line, column)], str(path)) from None
    except OSError as exc:
        said = f"cannot read the study file: {why_unreadable(exc)}"
        raise SpecError([Problem((), said)], str(path)) from None
    study = parse_study(text, str(path), check_env=check_env)
    return StudyFile(study.spec, study.space, text, path.resolve(), study.warnings)


def _check_meaning(
    spec: StudySpec, space: SearchSpace, *, check_env: bool, folder: Path | None
) -> list[Problem]:
    problems = _check_grid_size(space)
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
            problems += _setup_problems(spec, train.algorithm)
            problems += check_hyperparameters(spec, space)
        shapes = None
        if check_env and train.env:
            known = train.algorithm if train.algorithm in algos.ALGORITHM_ARGS else None
            env_problems = check_gym_env(train.env, train.env_kwargs, known, folder, train=train)
            problems += env_problems
            # A warning (an Atari frame skip applied twice) leaves the sizes worth checking.
            errors = [p for p in env_problems if p.severity == "error"]
            shapes = None if errors else env_shapes(train.env, train.env_kwargs, train=train)
        if not any(p.severity == "error" for p in problems):
            problems += check_memory(spec, space, shapes)
    overlap = spec.hyperparameters.keys() & spec.search_space.keys()
    for name in sorted(overlap):
        problems.append(
            Problem(
                ("search_space", name),
                f"'{name}' is in 'hyperparameters' too: the search space's value wins",
                "remove it from 'hyperparameters' to say it once",
                severity="note",
            )
        )
    problems += _check_enqueue(spec, space)
    problems += _check_grid_budget(spec, space)
    problems += pbt.check(spec, space)
    problems += target.check(spec, check_env=check_env)
    return problems


def _setup_problems(spec: StudySpec, algorithm: str) -> list[Problem]:
    """The algorithm's library missing here, or a policy the algorithm does not have."""
    problems = []
    name = algos.display_name(algorithm)
    if algorithm in algos.CONTRIB and not algos.contrib_installed():
        problems.append(
            Problem(
                ("train", "algorithm"),
                f"{name} comes from sb3-contrib, which is not installed here",
                algos.CONTRIB_INSTALL,
            )
        )
    policy = pol.policy_of(spec.train)
    policies = pol.policy_names(algorithm)
    if policy not in policies:
        guess = did_you_mean(policy, policies)
        problems.append(
            Problem(
                ("train", "policy"),
                f"{name} has no policy '{policy}'",
                f"did you mean '{guess}'?" if guess else f"use one of {', '.join(policies)}",
            )
        )
    return problems


def _check_grid_size(space: SearchSpace) -> list[Problem]:
    points = space.grid_size()
    if points <= limits.MAX_GRID_POINTS:
        return []
    sizes = " x ".join(f"{len(values):,}" for values in space.grid.values())
    return [
        Problem(
            ("search_space", next(iter(space.grid))),
            f"the grid makes {points:,} combinations ({sizes}), each one a trial",
            f"a grid makes at most {limits.MAX_GRID_POINTS:,} trials: list fewer values, or "
            "search some parameters instead of crossing them",
        )
    ]


def _check_grid_budget(spec: StudySpec, space: SearchSpace) -> list[Problem]:
    points = space.grid_size()
    if not points or points > limits.MAX_GRID_POINTS or "n_trials" not in spec.model_fields_set:
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


def _check_enqueue(spec: StudySpec, space: SearchSpace) -> list[Problem]:
    problems = []
    searched = space.distributions
    algorithm = spec.train.algorithm
    if algorithm not in algos.ALGORITHM_ARGS:
        algorithm = None  # reported already; its hyperparameters are unknown
    for index, entry in enumerate(spec.enqueue):
        if not isinstance(entry, Mapping):
            problems.append(
                Problem(("enqueue", index), "each entry must be a mapping of parameter: value")
            )
            continue
        for name, value in entry.items():
            path: KeyPath = ("enqueue", index, name)
            if name in spec.search_space and name not in space.params and name != PRESET:
                continue  # its search-space entry is broken, and reported there
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
            plain = choice_value(coerce_scalar(value) if isinstance(value, str) else value)
            setting = space.params[name].setting
            wrong = check_value(algorithm, setting, plain, path) if algorithm and setting else None
            if wrong is not None:
                problems.append(wrong)
            elif not contains(searched[name], value):
                problems.append(
                    Problem(
                        path,
                        f"{value!r} lies outside the search space of '{name}'",
                        "Optuna will still run it, but samplers may ignore the result",
                        severity="warning",
                    )
                )
    return problems


def _explain_tabs(problem: Problem, text: str) -> Problem:
    """A YAML error caused by a tab, pointed at the tab and said plainly."""
    lines = text.splitlines()
    line = problem.line
    row = lines[line - 1] if line is not None and 0 < line <= len(lines) else ""
    if "\t" not in row and "'\\t'" not in problem.message:
        return problem
    column = row.index("\t") + 1 if "\t" in row else problem.column
    indent = row[: len(row) - len(row.lstrip())]
    hint = (
        "indent with spaces; YAML does not allow tabs"
        if "\t" in indent or "\t" not in row
        else "replace the tab with spaces; YAML does not allow tabs here"
    )
    return Problem(problem.path, problem.message, hint, line, column, problem.severity)
