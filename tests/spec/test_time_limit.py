"""train.time_limit: written as seconds, with a unit or as a multiple of the median complete
trial (3x), refused with the reason otherwise."""

from __future__ import annotations

import pytest

from rltui.spec import check_text
from rltui.spec.durations import said

STUDY = """\
name: timed
train: {{algorithm: ppo, env: CartPole-v1, timesteps: 1000, time_limit: {limit}}}
"""


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("600", 600.0),
        ("90s", 90.0),
        ("30m", 1800.0),
        ("1.5h", 5400.0),
        ("2 h", 7200.0),
        ("3x", "3x"),
        ("2.5 x", "2.5x"),
        ("4×", "4x"),
    ],
)
def test_a_time_limit_is_seconds_a_number_with_a_unit_or_a_multiple(written, seconds):
    study, problems = check_text(STUDY.format(limit=written), "timed.yaml", check_env=False)
    assert study is not None, problems
    assert study.spec.train.time_limit == seconds


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("ten minutes", "'ten minutes' is not a time limit: write seconds (600), a number with"),
        ("true", "must be a number, got true"),
        ("0", "must be above 0"),
        ("-5m", "is not a time limit"),
        ("400d", "at most 366 days (31622400 s), got 400d"),
        ("1x", "1x would prune every trial slower than the median: write 1.5x or more"),
        ("[3]", "must be seconds (600), a duration (90s, 30m) or a multiple (3x), got [3]"),
    ],
)
def test_a_time_limit_that_is_no_duration_is_refused_where_it_is(written, words):
    study, problems = check_text(STUDY.format(limit=written), "timed.yaml", check_env=False)
    assert study is None
    (problem,) = [p for p in problems if p.severity == "error"]
    said_here = problem.format("timed.yaml")
    assert said_here.startswith("timed.yaml:2:") and "train.time_limit" in said_here
    assert words in said_here


def test_a_pbt_study_refuses_a_time_limit():
    text = STUDY.format(limit="10m") + (
        "sampler: {type: pbt, population: 4, interval: 250}\n"
        "search_space: {learning_rate: tag(log, interval(1e-4, 1e-2))}\n"
    )
    study, problems = check_text(text, "timed.yaml", check_env=False)
    assert study is None
    said_here = " ".join(p.format("timed.yaml") for p in problems if p.severity == "error")
    assert "train.time_limit" in said_here and "remove train.time_limit" in said_here


def test_durations_are_said_as_a_study_file_writes_them():
    assert [said(s) for s in (45.5, 90, 1800, 7200, 86400)] == ["45.5s", "90s", "30m", "2h", "1d"]
