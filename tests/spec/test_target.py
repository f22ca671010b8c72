"""train.target in a study file: its forms, and every refusal with where, what and the fix."""

from __future__ import annotations

import pytest

from rltui.spec import check_text
from rltui.spec.target import read, reward_of

BASE = """\
name: target
train:
  algorithm: ppo
  env: {env}
  timesteps: 10000
  {target}
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-2))
"""


def checked(target: str, env: str = "CartPole-v1", extra: str = ""):
    text = BASE.format(env=env, target=target) + extra
    study, problems = check_text(text, "study.yaml")
    errors = "\n".join(p.format("study.yaml") for p in problems if p.severity == "error")
    return study, errors


@pytest.mark.parametrize(
    ("target", "reward", "trials"),
    [
        ("target: 475", 475.0, None),
        ("target: env", 475.0, None),
        ("target: {reward: env, trials: 3}", 475.0, 3),
        ("target: {reward: 200.5}", 200.5, None),
    ],
)
def test_the_forms_a_target_takes(target: str, reward: float, trials: int | None) -> None:
    study, errors = checked(target)
    assert study is not None, errors
    value = study.spec.train.target
    assert reward_of(value, "CartPole-v1") == reward and read(value)[1] == trials


@pytest.mark.parametrize(
    ("target", "env", "extra", "words"),
    [
        ("target: lots", "CartPole-v1", "", "must be a number or env, not 'lots'"),
        ("target: {reward: 1, trails: 2}", "CartPole-v1", "", "'trails' is not a key"),
        ("target: {trials: 2}", "CartPole-v1", "", "train.target has no reward"),
        ("target: {reward: 1, trials: 0}", "CartPole-v1", "", "trials must be a whole number"),
        ("target: env", "Pendulum-v1", "", "Pendulum-v1 has no registered reward_threshold"),
        (
            "target: 1",
            "CartPole-v1",
            "objectives: [reward, wall_time]\n",
            "several objectives has no single reward",
        ),
        ("target: 1", "CartPole-v1", "sampler: pbt\n", "a PBT study's members"),
    ],
)
def test_refusals_say_where_what_and_how_to_fix(target, env, extra, words) -> None:
    _, errors = checked(target, env, extra)
    assert "train.target" in errors and words in errors, errors
