"""What an edit of a study file changes, said the way a user reads it.

Used by the preview shown before an edited study file is applied to a study that has trials:
one :class:`Change` per searched parameter, fixed hyperparameter or setting that differs, in
file order. Comparison is of the checked values (``learning_rate: 1e-3`` and ``0.001`` are the
same), not of the text, so reformatting or comments change nothing.

A study's objectives and their directions cannot change once it has trials (the trials hold
one value per objective, and Optuna fixes the directions when it creates the study): such a
change is listed with the reason it is refused, and :func:`refused_changes` gives it as a
:class:`Problem`, as publishing the file would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from rltui.spec.loader import StudyFile
from rltui.spec.objectives import changed_objectives
from rltui.spec.problems import Problem
from rltui.spec.space import SearchParam

# Keys of the study file shown in other sections of the preview, or that are the study itself.
_NOT_SETTINGS = {"name", "hyperparameters", "search_space", "enqueue", "description"}


@dataclass(frozen=True)
class Change:
    """One difference: ``section`` is ``search space``, ``fixed`` or ``settings``; ``before`` or
    ``after`` is None when the key was added or removed."""

    section: str
    key: str
    before: str | None
    after: str | None
    refused: str | None = None  # why the study cannot take this change

    @property
    def verb(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"

    def describe(self) -> str:
        if self.before is None:
            text = f"{self.key}: {self.after} (new)"
        elif self.after is None:
            text = f"{self.key}: {self.before} (removed)"
        else:
            text = f"{self.key}: {self.before} → {self.after}"
        return text if self.refused is None else f"{text} (refused: {self.refused})"


def describe_distribution(distribution: BaseDistribution) -> str:
    """``float 1e-05..0.01 log``, ``int 32..512 step 32``, ``choice(16, 32, 64)``."""
    if isinstance(distribution, CategoricalDistribution):
        return f"choice({', '.join(_value(c) for c in distribution.choices)})"
    if isinstance(distribution, FloatDistribution | IntDistribution):
        kind = "int" if isinstance(distribution, IntDistribution) else "float"
        text = f"{kind} {_value(distribution.low)}..{_value(distribution.high)}"
        if distribution.log:
            text += " log"
        if distribution.step not in (None, 1) or (kind == "float" and distribution.step):
            text += f" step {_value(distribution.step)}"
        return text
    return repr(distribution)


def describe_param(param: SearchParam) -> str:
    if param.grid is not None:
        return f"grid({', '.join(_value(v) for v in param.grid)})"
    if param.distribution is not None:
        return describe_distribution(param.distribution)
    return f"fixed {_value(param.fixed)}"


def study_changes(old: StudyFile, new: StudyFile) -> list[Change]:
    """Every difference between two checked study files that a study would feel."""
    changes: list[Change] = []
    refused = {problem.path[0]: problem.message for problem in refused_changes(old, new)}
    for section, described in _SECTIONS:
        before_all, after_all = described(old), described(new)
        for key in _ordered(before_all, after_all):
            before, after = before_all.get(key), after_all.get(key)
            if before != after:
                why = refused.get(key) if section == "settings" else None
                changes.append(Change(section, key, before, after, why))
    if old.spec.enqueue != new.spec.enqueue:
        added = [p for p in new.spec.enqueue if p not in old.spec.enqueue]
        removed = [p for p in old.spec.enqueue if p not in new.spec.enqueue]
        for params in added:
            changes.append(Change("settings", "enqueue", None, _value(params)))
        for params in removed:
            changes.append(Change("settings", "enqueue", _value(params), None))
    return changes


def refused_changes(old: StudyFile, new: StudyFile) -> list[Problem]:
    """A change of objectives, or of their directions, that a study with trials refuses."""
    message = changed_objectives(old.spec.objectives, new.spec.objectives)
    if message is not None:
        return [Problem(("objectives",), message, _NEW_STUDY)]
    before, after = old.spec.directions, new.spec.directions
    if before == after:
        return []
    return [
        Problem(
            ("direction",),
            f"this study optimises towards [{', '.join(before)}]; Optuna cannot change its "
            f"directions to [{', '.join(after)}]",
            _NEW_STUDY,
        )
    ]


_NEW_STUDY = "keep them, or use another 'name' for a new study"


def _searched(study: StudyFile) -> dict[str, str]:
    return {name: describe_param(param) for name, param in study.space.params.items()}


def _fixed(study: StudyFile) -> dict[str, str]:
    return {name: _value(value) for name, value in study.spec.hyperparameters.items()}


def _settings(study: StudyFile) -> dict[str, str]:
    dumped = study.spec.model_dump(mode="json")
    # Objectives read as the table heads them: [reward, steps_to 475].
    dumped["objectives"] = [o.label for o in study.spec.objectives]
    flat: dict[str, str] = {}
    _flatten(
        {k: v for k, v in dumped.items() if k not in _NOT_SETTINGS},
        (),
        flat,
    )
    return flat


# Each section of the preview, and how a study file's values read in it.
_SECTIONS: tuple[tuple[str, Callable[[StudyFile], dict[str, str]]], ...] = (
    ("search space", _searched),
    ("fixed", _fixed),
    ("settings", _settings),
)


def _flatten(value: Any, prefix: tuple[str, ...], out: dict[str, str]) -> None:
    if isinstance(value, dict) and value and not (prefix and prefix[-1] == "env_kwargs"):
        for key, item in value.items():
            _flatten(item, (*prefix, str(key)), out)
    else:
        out[".".join(prefix)] = _value(value)


def _ordered(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Keys of both, in the order of ``second`` (the new file), removed ones after."""
    return [*second, *(k for k in first if k not in second)]


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    return str(value)
