"""Mutated sample studies: whatever a file holds, checking it ends in a verdict.

The shipped sample studies are cut short, given values of the wrong type, huge numbers,
stray unicode, deep nesting, anchors and aliases, and YAML tags; each mutant goes through the
path ``rltui validate`` takes. It must return either no problems or problems that each carry
a line, never raise, stay under a second, and allocate a bounded amount of memory.

``pytest -m slow tests/spec/test_fuzz.py`` runs more examples (1,000, or as many as
``RLTUI_FUZZ_EXAMPLES`` says).
"""

from __future__ import annotations

import os
import re
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rltui.cli import check_file
from rltui.spec import check_text

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_studies").glob("*.yaml"))
TEXTS = [path.read_text() for path in SAMPLES]
PEAK_MIB = 64  # generous: a mutated sample is at most a few hundred KiB of text
# Where a value starts: after 'key: ', '- ', '[' or ', ' (in flow lists and mappings).
VALUE = re.compile(r"(?:(?<=: )|(?<=- )|(?<=\[)|(?<=, ))[^\s,\]}#][^,\]}\n#]*")

WEIRD_VALUES = [
    "[]",
    "{}",
    "null",
    "~",
    "true",
    "''",
    "-1",
    "0",
    ".nan",
    "-.inf",
    "1e400",
    "1e18",
    "1e-400",
    "9" * 400,
    "0x" + "f" * 500,
    "-0b1",
    "1_000_",
    "[1, [2, [3]]]",
    "{a: {b: {c: 1}}}",
    "choice()",
    "choice(" + ", ".join(map(str, range(200))) + ")",
    "interval(1e308, -1e308)",
    "range(0, 1e300, step=1e-300)",
    "shuffle(range(0, 100000))",
    "tag(log, interval(0, 1))",
    "grid_search([" + ", ".join(map(str, range(300))) + "])",
    "'quoted: with [brackets]'",
    '"\\x00\\ud800"',
    "2024-01-01",
    "12:30:00",
    "|\n  block\n",
]
TAGS = [
    "!!float 'abc' ",
    "!!int 'xyz' ",
    "!!bool 'maybe' ",
    "!!null 'x' ",
    "!!str ",
    "!!binary ",
    "!!set ",
    "!!omap ",
    "!!timestamp ",
    "!!python/object/apply:os.system ",
    "!foo ",
    "! ",
    "!<tag:example.com,2000:x> ",
]
ALIASES = [
    "x: &a [1, 2]\ny: *a\n",
    "x: &a {type: float, low: 1, high: 2}\nsearch_space: {lr: *a}\n",
    "<<: {name: merged}\n",
    "a: &a [lol, lol, lol]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\n",
    "x: *undefined\n",
]
UNICODE = st.text(
    st.characters(codec="utf-8") | st.sampled_from(["\x00", "\t", "\r", "\ufeff", "\u2028"]),
    max_size=20,
)


def _at(draw: st.DrawFn, text: str) -> int:
    return draw(st.integers(0, len(text)))


@st.composite
def mutants(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cut", "value", "unicode", "deep", "alias", "tag", "sweep"]))
        spots = [m.span() for m in VALUE.finditer(text)]
        if kind == "cut":
            text = text[: _at(draw, text)]
        elif kind in ("value", "tag") and spots:
            start, end = draw(st.sampled_from(spots))
            new = draw(st.sampled_from(WEIRD_VALUES))
            if kind == "tag":
                new = draw(st.sampled_from(TAGS)) + text[start:end]
            text = text[:start] + new + text[end:]
        elif kind == "unicode":
            at = _at(draw, text)
            text = text[:at] + draw(UNICODE) + text[at:]
        elif kind == "deep":
            depth = draw(st.integers(30, 3000))
            opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")]))
            value = opener * depth + "1" * (opener == "{a: ") + closer * depth
            text += f"hyperparameters:\n  deep: {value}\n"
        elif kind == "alias":
            at = draw(st.sampled_from([0, len(text)]))
            text = text[:at] + draw(st.sampled_from(ALIASES)) + text[at:]
        elif kind == "sweep":
            depth = draw(st.integers(1, 3000))
            nested = "tag(log, " * depth + "interval(1e-5, 1)" + ")" * depth
            text += f"search_space:\n  learning_rate: {nested}\n"
    return text


def check_mutant(text: str, folder: Path) -> None:
    """The validate path on ``text``: a verdict with located problems, in bounded memory."""
    path = folder / "mutant.yaml"
    # A file holds UTF-8 (a lone surrogate cannot be written; test_hostile_files checks it).
    path.write_text(text, encoding="utf-8", errors="replace")
    tracemalloc.start()
    try:
        study, problems = check_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_MIB * 2**20, f"{peak / 2**20:.0f} MiB"
    errors = [p for p in problems if p.severity == "error"]
    assert (study is None) == bool(errors), problems
    for problem in problems:
        assert problem.line is not None and problem.line >= 1, problem
        assert problem.message and "Traceback" not in problem.format(str(path))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Imports and the first env build happen once here, not inside a timed example.
    for text in TEXTS:
        check_text(text)
    return tmp_path_factory.mktemp("fuzz")


FUZZ = settings(
    deadline=1000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@settings(FUZZ, max_examples=150)
@given(text=mutants())
def test_a_mutated_study_gets_a_verdict(folder: Path, text: str) -> None:
    check_mutant(text, folder)


@pytest.mark.slow
@settings(FUZZ, max_examples=int(os.environ.get("RLTUI_FUZZ_EXAMPLES", "1000")))
@given(text=mutants())
def test_many_mutated_studies_get_a_verdict(folder: Path, text: str) -> None:
    check_mutant(text, folder)
