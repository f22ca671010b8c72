"""Schedules: rl-baselines3-zoo's lin_X, a {schedule, start, end} mapping, or its parts by
dotted names; for every argument the algorithm takes as a function of the progress left."""

from __future__ import annotations

import pytest

from rltui.spec import check_text
from rltui.spec import policy as pol
from rltui.spec.schedules import Schedule, read
from tests.conftest import needs_extra

# sb3-contrib's algorithms are valid only where it is installed (CI installs it).
needs_contrib = needs_extra("sb3_contrib", "contrib")

STUDY = """\
name: schedules
train:
  algorithm: {algorithm}
  env: {env}
  timesteps: 1000
hyperparameters:
{fixed}
search_space:{searched}
"""


def check(
    fixed: str = "", searched: str = "", algorithm: str = "ppo", env: str = "CartPole-v1"
) -> tuple[object, list[str]]:
    text = STUDY.format(
        algorithm=algorithm,
        env=env,
        fixed=fixed or "  gamma: 0.99",
        searched="\n" + searched if searched else " {}",
    )
    study, problems = check_text(text, "s.yaml")
    return study, [p.format("s.yaml") for p in problems]


@pytest.mark.parametrize(
    ("algorithm", "env", "fixed"),
    [
        ("ppo", "CartPole-v1", "  clip_range: lin_0.2\n  learning_rate: lin_7.3e-4"),
        ("ppo", "CartPole-v1", "  clip_range_vf: {schedule: linear, start: 0.2, end: 0.05}"),
        ("ppo", "CartPole-v1", "  learning_rate: {schedule: exponential, start: 1e-3, end: 1e-5}"),
        ("ppo", "CartPole-v1", "  learning_rate: {schedule: constant, start: 1e-3}"),
        ("ppo", "CartPole-v1", "  learning_rate: {schedule: linear, start: 1e-3}"),  # to 0
        ("a2c", "CartPole-v1", "  learning_rate: lin_7e-4"),
        ("dqn", "CartPole-v1", "  learning_rate: lin_1e-3"),
        ("sac", "Pendulum-v1", "  learning_rate: {schedule: linear, start: 3e-4, end: 1e-5}"),
        pytest.param("recurrentppo", "CartPole-v1", "  clip_range: lin_0.1", marks=needs_contrib),
        pytest.param("trpo", "CartPole-v1", "  learning_rate: lin_1e-3", marks=needs_contrib),
        pytest.param(
            "ars",
            "Pendulum-v1",
            "  delta_std: lin_0.05\n  learning_rate: lin_0.02",
            marks=needs_contrib,
        ),
    ],
)
def test_every_schedulable_argument_takes_a_schedule(algorithm, env, fixed):
    study, problems = check(fixed, algorithm=algorithm, env=env)
    assert study is not None, problems


@pytest.mark.parametrize(
    ("algorithm", "fixed", "words"),
    [
        ("ppo", "  clip_range: lin_abc", ["s.yaml:7:3: hyperparameters.clip_range:",
                                           "'lin_abc' is not a schedule", "lin_0.2"]),
        ("ppo", "  clip_range: lin_-0.2", ["lin_-0.2: the start must be a number above 0"]),
        ("ppo", "  gamma: lin_0.99", ["must be a number from 0 to 1, got 'lin_0.99'"]),
        ("ppo", "  learning_rate: {schedule: linaer, start: 1e-3}",
         ["s.yaml:7:19: hyperparameters.learning_rate.schedule:", "did you mean 'linear'?"]),
        ("ppo", "  learning_rate: {schedule: linear, start: 1e-3, stop: 0}",
         ["'stop' is not a part of a schedule"]),
        ("ppo", "  learning_rate: {schedule: linear, end: 0}",
         ["the schedule of learning_rate has no start"]),
        ("ppo", "  learning_rate: {start: 1e-3}",
         ["the schedule of learning_rate does not say which it is", "schedule: linear"]),
        ("ppo", "  learning_rate: {schedule: linear, start: 0, end: 0}",
         ["hyperparameters.learning_rate.start: must be a number above 0, got 0"]),
        ("ppo", "  learning_rate: {schedule: linear, start: 1e-3, end: -1}",
         ["learning_rate.end: must be a number of at least 0, got -1"]),
        ("ppo", "  clip_range: {schedule: exponential, start: 0.2}",
         ["an exponential schedule of clip_range needs an end above 0"]),
        ("ppo", "  clip_range: {schedule: exponential, start: 0.2, end: 0}",
         ["hyperparameters.clip_range.end: an exponential schedule of clip_range may end at 0"]),
        ("ppo", "  clip_range: {schedule: constant, start: 0.2, end: 0.1}",
         ["a constant schedule of clip_range has no end"]),
        ("ppo", "  learning_rate: lin_1e-3\n  learning_rate_schedule: linear",
         ["learning_rate_schedule: linear and a schedule of learning_rate"]),
        ("dqn", "  exploration_final_eps: lin_0.05",
         ["exploration is a linear schedule already", "exploration_fraction"]),
        ("a2c", "  learning_rate: 'abc'", ["or a schedule: lin_0.0003"]),
    ],
)  # fmt: skip
def test_bad_schedules_are_located_and_explained(algorithm, fixed, words):
    study, problems = check(fixed, algorithm=algorithm)
    assert study is None
    rendered = "\n".join(problems)
    for word in words:
        assert word in rendered


def test_a_schedules_parts_are_searched_by_dotted_names():
    study, problems = check(
        "  clip_range: {schedule: linear, end: 0.0}",
        "  clip_range.start: interval(0.1, 0.3)\n"
        "  learning_rate.schedule: choice(constant, linear, exponential)\n"
        "  learning_rate.start: tag(log, interval(1e-4, 1e-3))\n"
        "  learning_rate.end: 1e-6",
    )
    assert study is not None, problems
    assert {"clip_range.start", "learning_rate.schedule", "learning_rate.start"} == set(
        study.space.distributions  # type: ignore[attr-defined]
    )


def test_a_searched_part_wins_over_the_same_part_fixed():
    study, problems = check(
        "  clip_range: {schedule: linear, start: 0.2}", "  clip_range.start: interval(0.1, 0.3)"
    )
    assert study is not None, problems
    assert any("'clip_range.start' is searched, so 'clip_range'" in p for p in problems)
    values = study.hyperparameters_for({"clip_range.start": 0.25})  # type: ignore[attr-defined]
    assert read(pol.nest(values)["clip_range"]) == read({"schedule": "linear", "start": 0.25})


@pytest.mark.parametrize(
    ("fixed", "searched", "words"),
    [
        ("  clip_range: 0.2", "  clip_range.start: interval(0.1, 0.3)",
         ["'clip_range.start' and 'clip_range' both set clip_range.start",
          "give it as a mapping of its other parts (e.g. clip_range: {schedule: linear})"]),
        ("", "  clip_range.start: interval(0.1, 0.3)",
         ["s.yaml:9:3: search_space.clip_range.start:",
          "the schedule of clip_range does not say which it is"]),
        ("",
         "  learning_rate.schedule: choice(linear, exponential)\n"
         "  learning_rate.start: interval(1e-4, 1e-3)\n  learning_rate.end: interval(0, 1e-5)",
         ["s.yaml:11:3: search_space.learning_rate.end:",
          "an exponential schedule of learning_rate may end at 0 or below here"]),
        ("", "  clip_range.schedule: interval(0, 1)", ["clip_range.schedule is not a number"]),
        ("", "  clip_range.start: interval(0, 0.3)",
         ["the search reaches 0, but clip_range.start must be a number above 0"]),
        ("", "  clip_range.stop: 0.1", ["'clip_range' has no part 'stop'"]),
        ("", "  gamma.start: 0.9", ["'gamma' has no part 'start' (gamma is one value"]),
    ],
)  # fmt: skip
def test_bad_schedule_parts_are_located_and_explained(fixed, searched, words):
    study, problems = check(fixed or "  gamma: 0.99", searched)
    assert study is None
    rendered = "\n".join(problems)
    for word in words:
        assert word in rendered, rendered


def test_a_categorical_may_list_schedules_and_enqueue_one():
    text = STUDY.format(
        algorithm="ppo",
        env="CartPole-v1",
        fixed="  gamma: 0.99",
        searched="\n  clip_range: choice(0.2, lin_0.1, lin_0.2)",
    )
    study, problems = check_text(text + "enqueue:\n  - {clip_range: lin_0.2}\n", "s.yaml")
    assert study is not None, problems
    study, problems = check_text(text + "enqueue:\n  - {clip_range: lin_x}\n", "s.yaml")
    assert study is None
    assert any("'lin_x' is not a schedule" in p.message for p in problems)


@pytest.mark.parametrize(
    ("value", "schedule"),
    [
        ("lin_0.2", Schedule("linear", 0.2, 0.0)),
        ("lin_1e-3", Schedule("linear", 1e-3, 0.0)),
        ({"schedule": "exponential", "start": 1, "end": 1e-5}, Schedule("exponential", 1, 1e-5)),
        ({"schedule": "constant", "start": 0.1}, Schedule("constant", 0.1)),
        (0.2, None),
        ("auto", None),
    ],
)  # fmt: skip
def test_values_read_as_schedules(value, schedule):
    assert read(value) == schedule


def test_schedules_run_over_the_progress_left():
    linear = Schedule("linear", 0.2, 0.05)
    assert linear(1.0) == pytest.approx(0.2)
    assert linear(0.5) == pytest.approx(0.125)
    assert linear(0.0) == pytest.approx(0.05)
    assert Schedule("linear", 3e-4)(0.25) == pytest.approx(7.5e-5)  # lin_3e-4: as rl-zoo's
    exponential = Schedule("exponential", 1e-3, 1e-5)
    assert exponential(1.0) == pytest.approx(1e-3)
    assert exponential(0.5) == pytest.approx(1e-4)
    assert exponential(0.0) == pytest.approx(1e-5)
    assert Schedule("constant", 0.1)(0.3) == 0.1
