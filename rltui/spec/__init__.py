"""The study file: parse, validate, and turn search spaces into Optuna distributions.

This layer imports nothing heavier than ``optuna.distributions``, pydantic and PyYAML's
libyaml reader (and Gymnasium's registry when env ids are checked), so the UI can validate as
the user types. Names are resolved on first use, so ``from rltui.spec import Problem`` stays
cheap for the UI's first paint. Every bound on a study file, and on the sizes in it, lives in
:mod:`rltui.spec.limits`: any text up to the size limit is checked in well under a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "StudyFile": "loader",
    "check_text": "loader",
    "load_study": "loader",
    "parse_study": "loader",
    "StudySpec": "model",
    "TrainSpec": "model",
    "Problem": "problems",
    "SpecError": "problems",
    "format_path": "problems",
    "SearchParam": "space",
    "SearchSpace": "space",
    "build_space": "space",
    "incompatible_changes": "space",
}

__all__ = [
    "Problem",
    "SearchParam",
    "SearchSpace",
    "SpecError",
    "StudyFile",
    "StudySpec",
    "TrainSpec",
    "build_space",
    "check_text",
    "format_path",
    "incompatible_changes",
    "load_study",
    "parse_study",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'rltui.spec' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"rltui.spec.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from rltui.spec.loader import StudyFile, check_text, load_study, parse_study
    from rltui.spec.model import StudySpec, TrainSpec
    from rltui.spec.problems import Problem, SpecError, format_path
    from rltui.spec.space import SearchParam, SearchSpace, build_space, incompatible_changes
