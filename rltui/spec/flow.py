"""A value written as one line of YAML that reads back as the same value.

Study files are read as YAML 1.2 (:mod:`rltui.spec.source`); other tools read them with PyYAML,
which speaks YAML 1.1 and reads a few plain words differently (``1e-5`` is text there, a
number here). What :func:`flow` writes reads back the same with both: the command line's
summary, the conversions' study files and anything else that writes a study file's values.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from rltui.spec.source import YamlSyntaxError, parse_yaml


def flow(value: Any) -> str:
    """``value`` as one line of YAML that rltui's reader (YAML 1.2) reads back as ``value``.

    PyYAML writes YAML 1.1, which reads a few plain words differently (``1e-5`` is text there,
    a number here): any value that would not come back the same, or would take two lines, is
    written as JSON, which YAML 1.2 reads exactly."""
    text = yaml.safe_dump(
        value, default_flow_style=True, width=2**31, allow_unicode=True, sort_keys=False
    )
    text = text.removesuffix("\n").removesuffix("\n...").strip()
    try:
        back = parse_yaml(f"v: {text}\n").data["v"]
    except (YamlSyntaxError, KeyError, TypeError):
        back = _DIFFERENT
    if "\n" in text or not _same(back, value):
        return json.dumps(value, ensure_ascii=False)
    return text


_DIFFERENT = object()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if _kind(a) is not _kind(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _kind(value: Any) -> type:
    # 1 and 1.0 are the same number to every reader; True is no number.
    plain_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float if plain_number else type(value)
