"""The study file: parse, validate, and turn search spaces into Optuna distributions.

This layer imports nothing heavier than ``optuna.distributions`` (and Gymnasium's registry when
env ids are checked), so the UI can validate as the user types.
"""

from rltui.spec.loader import Study, check_text, load_study, parse_study
from rltui.spec.model import StudySpec, TrainSpec
from rltui.spec.problems import Problem, SpecError, format_path
from rltui.spec.space import SearchParam, SearchSpace, build_space, incompatible_changes

__all__ = [
    "Problem",
    "SearchParam",
    "SearchSpace",
    "SpecError",
    "Study",
    "StudySpec",
    "TrainSpec",
    "build_space",
    "check_text",
    "format_path",
    "incompatible_changes",
    "load_study",
    "parse_study",
]
