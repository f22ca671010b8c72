"""Values written as one line of YAML read back the same, by rltui's reader and by PyYAML."""

from __future__ import annotations

import math
import re

import pytest
import yaml

from rltui.spec.flow import flow
from rltui.spec.source import parse_yaml


@pytest.mark.parametrize(
    "value",
    [1e-05, 0.001, 3, True, None, "relu", "yes", "cuda:0", "1e-3", [64, 64], {"pi": [8], "qf": []}],
)
def test_values_read_back_as_the_same_value(value):
    text = f"key: {flow(value)}"
    assert parse_yaml(text).data == {"key": value}
    assert yaml.safe_load(text) == {"key": value}  # YAML 1.1, as other tools read it
    if isinstance(value, float):  # '1e-05' is text to YAML 1.1 readers; '1.0e-05' a number
        assert re.search(r"\d\.\d*e", flow(value)) or "e" not in str(value)


def test_nan_and_text_that_looks_like_a_number_survive():
    assert math.isnan(parse_yaml(f"k: {flow(float('nan'))}").data["k"])
    assert parse_yaml(f"k: {flow('0.5')}").data["k"] == "0.5"
