"""Mistakes that used to pass validation and then failed every trial are caught up front."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium
import pytest

from rltui.cli import main
from rltui.search.sampling import check_sampler_and_pruner
from rltui.spec import check_text, parse_study
from rltui.spec import environment as env_check
from tests.spec.test_loader import GOOD


def render(problems: list[Any]) -> str:
    return "\n".join(p.format("study.yaml") for p in problems)


@pytest.mark.parametrize(
    "broken",
    [
        "interval(1,",
        "choice()",
        "grid_search([])",
        "interval(0.02, 0.01)",
        "{type: float, low: 1.0e-2, high: 1.0e-5}",
    ],
)
def test_a_broken_search_entry_is_not_also_called_unsearched(broken):
    text = GOOD.replace("{type: float, low: 1.0e-5, high: 1.0e-2, log: true}", broken)
    text += "enqueue:\n  - {learning_rate: 1.0e-3, n_steps: 64}\n"
    study, problems = check_text(text, "study.yaml")
    assert study is None
    assert [p.path[:2] for p in problems] == [("search_space", "learning_rate")], render(problems)


def test_an_enqueued_name_outside_the_space_is_still_reported():
    _, problems = check_text(GOOD + "enqueue:\n  - {lerning_rate: 1.0e-3}\n", "study.yaml")
    assert "did you mean 'learning_rate'" in render(problems)


def test_the_env_is_built_once_per_id_and_kwargs(monkeypatch):
    built: list[tuple[str, dict[str, Any]]] = []
    real = env_check._build

    def counting(env_id: str, kwargs: dict[str, Any]) -> Any:
        built.append((env_id, kwargs))
        return real(env_id, kwargs)

    monkeypatch.setattr(env_check, "_build", counting)
    monkeypatch.setattr(env_check, "_probes", {})
    text = GOOD.replace("  timesteps", "  env_kwargs: {max_episode_steps: 50}\n  timesteps")
    for _ in range(3):  # the editor checks the buffer again after every pause in typing
        assert check_text(text)[0] is not None
    assert built == [("CartPole-v1", {"max_episode_steps": 50})]
    assert check_text(text.replace("50", "60"))[0] is not None
    assert len(built) == 2


def test_env_kwargs_the_env_takes_pass():
    text = GOOD.replace(
        "  timesteps",
        "  env_kwargs: {sutton_barto_reward: true, max_episode_steps: 100}\n  timesteps",
    )
    study, problems = check_text(text)
    assert study is not None, render(problems)


def _creator(**kwargs: Any) -> gymnasium.Env:
    # An env whose signature says nothing about its keywords: only building it tells.
    if set(kwargs) - {"render_mode", "size"}:
        raise TypeError(f"Grid.__init__() got an unexpected keyword argument '{min(kwargs)}'")
    if kwargs.get("size", 1) < 1:
        raise ValueError("size must be positive")
    return gymnasium.make("CartPole-v1")


@pytest.fixture
def opaque_env() -> Iterator[str]:
    env_id = "RltuiOpaqueKwargs-v0"
    gymnasium.register(env_id, entry_point=_creator)
    yield env_id
    del gymnasium.registry[env_id]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ("{bogus: 1}", "study.yaml:5:16: train.env_kwargs.bogus: RltuiOpaqueKwargs-v0 takes no"),
        ("{size: 0}", "train.env: cannot build RltuiOpaqueKwargs-v0: size must be positive"),
    ],
)
def test_env_kwargs_refused_by_building(opaque_env, kwargs, expected):
    text = GOOD.replace("CartPole-v1", opaque_env)
    text = text.replace("  timesteps", f"  env_kwargs: {kwargs}\n  timesteps")
    study, problems = check_text(text, "study.yaml")
    assert study is None and expected in render(problems), render(problems)


SAMPLER_CASES = {
    "int given text": (
        "sampler: {type: tpe, n_startup_trials: abc}\n",
        "study.yaml:11:22: sampler.n_startup_trials: must be a whole number, got 'abc' "
        "(the tpe sampler's n_startup_trials takes int, such as 10)",
    ),
    "bool given a number": (
        "sampler: {type: cmaes, with_margin: 1}\n",
        "sampler.with_margin: must be true or false, got 1",
    ),
    "int given a fraction": (
        "pruner:\n  type: median\n  n_warmup_steps: 1.5\n",
        "study.yaml:13:3: pruner.n_warmup_steps: must be a whole number, got 1.5",
    ),
    "int given true": (
        "sampler: {type: policy_gradient, batch_size: true}\n",
        "sampler.batch_size: must be a whole number, got true",
    ),
    "float given text": (
        "pruner: {type: percentile, percentile: high}\n",
        "pruner.percentile: must be a number, got 'high'",
    ),
}


@pytest.mark.parametrize("case", list(SAMPLER_CASES))
def test_sampler_and_pruner_option_types(case, tmp_path, capsys):
    block, expected = SAMPLER_CASES[case]
    study = parse_study(GOOD + block, "study.yaml")
    problems = check_sampler_and_pruner(study)
    assert len(problems) == 1 and expected in render(problems), render(problems)
    path = tmp_path / "study.yaml"
    path.write_text(GOOD + block)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and expected.split(": ", 1)[1] in err


@pytest.mark.parametrize(
    "block",
    [
        "sampler: {type: tpe, n_startup_trials: 5, multivariate: true, seed: 3}\n",
        "sampler: {type: nsgaii, crossover_prob: 1, population_size: 10}\n",
        "pruner: {type: threshold, lower: 0, upper: null}\n",
        "pruner: {type: hyperband, max_resource: auto, min_resource: 100}\n",
        "sampler: {type: grid, seed: 1}\n",
    ],
)
def test_well_typed_options_pass(block):
    assert check_sampler_and_pruner(parse_study(GOOD + block)) == []
