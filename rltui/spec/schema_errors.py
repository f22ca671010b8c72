"""Pydantic's validation errors, said the way a study file's author needs to hear them.

Pydantic reports ``Input should be greater than 0``; the author wants to read what the key
takes and how to fix it: ``n_trials: must be above 0, got -1 (use a whole number such as 20)``.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticUndefined

from rltui.spec.limits import SIZES
from rltui.spec.model import StudySpec
from rltui.spec.problems import KeyPath, Problem, did_you_mean, show_value

# Examples for the keys that have no default to show.
EXAMPLES: dict[str, Any] = {
    "name": "my-study",
    "timesteps": 100000,
    "seed": 0,
    "seeds": "[0, 1, 2]",
    "seeds[]": 0,  # one item of the list
    "every": 10000,
    "train": "{algorithm: ppo, env: CartPole-v1, timesteps: 100000}",
    "env": "CartPole-v1",
}
_NUMBER_TYPES = {
    "int_parsing",
    "int_type",
    "int_from_float",
    "float_parsing",
    "float_type",
    "number_not_bool",
}
_BOUNDS = {
    "greater_than": ("gt", "above {}"),
    "greater_than_equal": ("ge", "{} or more"),
    "less_than": ("lt", "below {}"),
    "less_than_equal": ("le", "{} or less"),
}


def pydantic_problems(exc: ValidationError) -> list[Problem]:
    """One :class:`Problem` per pydantic error, at the key it concerns, with a way out."""
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        # A sampler's or pruner's options are written flat beside its type (see _Typed).
        path: KeyPath = tuple(
            p
            for i, p in enumerate(loc)
            if not (p == "options" and i > 0 and loc[i - 1] in ("sampler", "pruner"))
        )
        message, hint = _explain(err, path)
        problems.append(Problem(path, message, hint))
    return problems


def fields_at(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys allowed in the mapping at ``path`` (empty when it is no schema mapping)."""
    for part in path:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _explain(err: ErrorDetails, path: KeyPath) -> tuple[str, str | None]:
    kind, got = err["type"], show_value(err.get("input"))
    name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
    example_key = f"{name}[]" if path and isinstance(path[-1], int) else name
    field = _field(path)
    if kind == "extra_forbidden":
        known = fields_at(StudySpec, path[:-1])
        guess = did_you_mean(str(path[-1]), known)
        hint = f"did you mean '{guess}'?" if guess else f"known keys: {', '.join(sorted(known))}"
        return f"unknown key '{path[-1]}'", hint
    if kind == "missing":
        where = f"under {path[-2]}" if len(path) > 1 else "at the top level"
        example = EXAMPLES.get(name, "...")
        return f"'{name}' is required", f"add '{name}: {example}' {where}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        limit = (err.get("ctx") or {}).get(key)
        size = SIZES.get(name) if kind == "less_than_equal" else None
        hint = size.hint(name) if size else _number_hint(example_key, field)
        shown = f"{limit:,}" if size else limit
        return f"must be {words.format(shown)}, got {got}", hint
    if kind in _NUMBER_TYPES:
        noun = "a whole number" if _base_type(field) is int else "a number"
        return f"must be {noun}, got {got}", _number_hint(example_key, field)
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {got}", "write true or false"
    if kind == "string_type":
        return f"must be text, got {got}", "put it in quotes"
    if kind == "literal_error":
        choices = [str(c) for c in typing.get_args(_unwrap(field))]
        guess = did_you_mean(str(err.get("input")), choices)
        hint = f"did you mean '{guess}'?" if guess else f"use one of {', '.join(choices)}"
        return f"must be one of {', '.join(choices)}, got {got}", hint
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping (key: value lines), got {got}", "see the README's example"
    if kind == "too_long":
        most = (err.get("ctx") or {}).get("max_length")
        return f"holds more than {most:,} entries", "a study file holds settings, not data"
    if kind == "list_type":
        return f"must be a list, got {got}", f"write it as [a, b], e.g. {name}: [0, 1]"
    return err["msg"].removeprefix("Value error, "), None


def _number_hint(key: str, field: FieldInfo | None) -> str:
    noun = "a whole number" if _base_type(field) is int else "a number"
    example = EXAMPLES.get(key)
    default = getattr(field, "default", PydanticUndefined)
    if example is None and not key.endswith("[]") and default not in (PydanticUndefined, None):
        example = default
    return f"use {noun} such as {example if example is not None else 1}"


def _field(path: KeyPath) -> FieldInfo | None:
    """The schema field the value at ``path`` belongs to (a list item belongs to its list)."""
    model: type[BaseModel] = StudySpec
    field: FieldInfo | None = None
    for part in path:
        if isinstance(part, int):
            continue
        inner = _unwrap(field) if field is not None else None
        if field is not None:
            if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
                return None
            model = inner
        field = model.model_fields.get(part)
        if field is None:
            return None
    return field


def _unwrap(field: FieldInfo | None) -> Any:
    """The field's type without ``| None``: ``int | None`` -> ``int``."""
    annotation = getattr(field, "annotation", None)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _base_type(field: FieldInfo | None) -> Any:
    annotation = _unwrap(field)
    while typing.get_origin(annotation) in (list, typing.Annotated):
        annotation = typing.get_args(annotation)[0]
    return annotation
