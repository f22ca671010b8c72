"""A PBT study file: its defaults, what validate says about the search space, every refusal."""

from __future__ import annotations

import pytest

from rltui.spec import check_text
from rltui.spec.algorithms import ALGORITHM_ARGS
from rltui.spec.pbt import MUTABLE, options_of, segments

BASE = """\
name: pbt
train:
  algorithm: ppo
  env: CartPole-v1
  timesteps: 10000
  eval: {every: 1000}
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-2))
  net_arch: choice([8], [16])
"""


def checked(extra: str, base: str = BASE):
    study, problems = check_text(base + extra, "study.yaml", check_env=False)
    errors = "\n".join(p.format("study.yaml") for p in problems if p.severity == "error")
    notes = "\n".join(p.format("study.yaml") for p in problems if p.severity != "error")
    return study, errors, notes


def test_defaults_no_pruner_two_retries_and_an_interval_of_one_evaluation() -> None:
    study, errors, notes = checked("sampler: {type: pbt, population: 6}\n")
    assert study is not None, errors
    assert study.spec.pruner.type == "none" and study.spec.control.retries == 2
    options = options_of(study.spec)
    assert (options.population, options.interval, options.quantile) == (6, 1000, 0.25)
    assert segments(study.spec) == 10 and study.n_trials == 60
    assert "drawn once per member and never changed: net_arch" in notes


def test_retries_and_control_given_in_the_file_are_kept() -> None:
    study, errors, _ = checked("sampler: pbt\ncontrol: {retries: 0, keep_checkpoints: true}\n")
    assert study is not None, errors
    assert study.spec.control.retries == 0 and study.spec.control.keep_checkpoints


@pytest.mark.parametrize(
    ("extra", "where", "words"),
    [
        ("sampler: {type: pbt, population: 1}", ":", "population must be a whole number of 2"),
        ("sampler: {type: pbt, interval: 1500}", ":", "use 2,000"),
        ("sampler: {type: pbt, interval: 10000}", ":", "is not below train.timesteps"),
        ("sampler: {type: pbt, quantile: 0.75}", ":", "at most 0.5"),
        ("sampler: {type: pbt, perturb: 1.2}", ":", "list of positive factors"),
        ("sampler: {type: pbt, perturb: [0.8, -1]}", ":", "list of positive factors"),
        ("sampler: {type: pbt, resample_probability: 2}", ":", "from 0 to 1"),
        ("sampler: {type: pbt, populaton: 4}", ":", "did you mean 'population'"),
        ("sampler: pbt\npruner: median", "pruner.type", "remove the pruner block"),
        ("sampler: pbt\nobjectives: [reward, wall_time]", "sampler", "cannot optimise several"),
    ],
)
def test_refusals_say_where_what_and_how_to_fix(extra: str, where: str, words: str) -> None:
    study, errors, _ = checked(extra + "\n")
    assert study is None or errors, extra
    assert where in errors and words in errors, errors


def test_a_space_with_nothing_that_can_change_is_refused() -> None:
    base = BASE.replace("  learning_rate: tag(log, interval(1e-4, 1e-2))\n", "")
    _, errors, _ = checked("sampler: pbt\n", base)
    assert "nothing in the search space can change during training" in errors
    assert "learning_rate" in errors  # the fix names what can


def test_schedules_cannot_be_perturbed() -> None:
    base = BASE.replace("tag(log, interval(1e-4, 1e-2))", "choice(lin_1e-3, lin_3e-4)")
    _, errors, _ = checked("sampler: pbt\n", base)
    assert "'learning_rate' lists schedules, which PBT cannot perturb" in errors


def test_a_grid_is_refused() -> None:
    _, errors, _ = checked(
        "sampler: pbt\n", BASE.replace("choice([8], [16])", "grid_search([[8], [16]])")
    )
    assert "a grid does not mix with PBT" in errors


def test_n_trials_is_said_to_be_unused() -> None:
    _, errors, notes = checked("sampler: pbt\nn_trials: 50\n")
    assert not errors and "n_trials is not used" in notes


def test_every_mutable_name_is_an_argument_of_its_algorithm() -> None:
    for algorithm, names in MUTABLE.items():
        assert names <= ALGORITHM_ARGS[algorithm], (algorithm, names - ALGORITHM_ARGS[algorithm])


def test_explore_is_perturb_or_pb2() -> None:
    study, errors, _ = checked("sampler: {type: pbt, explore: pb2}\n")
    assert study is not None, errors
    assert options_of(study.spec).explore == "pb2"
    _, errors, _ = checked("sampler: {type: pbt, explore: bayes}\n")
    assert "explore must be perturb or pb2, not 'bayes'" in errors
