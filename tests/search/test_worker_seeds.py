"""Each worker of a seeded study draws from a stream of its own, and studies seeded apart draw
apart: a study repeated over seeds 0, 1, 2 is three samples, not overlapping ones."""

from __future__ import annotations

import optuna
import pytest

from rltui.search.sampling import make_sampler, worker_seed
from rltui.spec import check_text

STUDY = """\
name: seeds
sampler: {{type: random, seed: {seed}}}
train: {{algorithm: ppo, env: CartPole-v1, timesteps: 1000}}
search_space:
  learning_rate: {{type: float, low: 1.0e-5, high: 1.0e-2, log: true}}
"""


def first_draws(seed: int, worker: int, n: int = 5) -> list[float]:
    study, problems = check_text(STUDY.format(seed=seed), "seeds.yaml", check_env=False)
    assert study is not None, problems
    ostudy = optuna.create_study(sampler=make_sampler(study, worker))
    draws = []
    for _ in range(n):
        trial = ostudy.ask()
        draws.append(trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True))
        ostudy.tell(trial, 0.0)
    return draws


def test_worker_zero_draws_what_optunas_sampler_with_the_seed_draws() -> None:
    assert worker_seed(7, 0) == 7
    plain = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=7))
    trial = plain.ask()
    expected = trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True)
    assert first_draws(7, 0, 1) == [expected]


def test_studies_seeded_one_apart_share_no_worker_stream() -> None:
    # Seeds s + index made study 1's worker 1 and study 2's worker 0 the same stream.
    streams = {(s, w): tuple(first_draws(s, w)) for s in range(4) for w in range(3)}
    assert len(set(streams.values())) == len(streams)


@pytest.mark.parametrize("seed", [0, 1, 2**40, -3])
def test_a_workers_seed_is_stable_and_a_valid_numpy_seed(seed: int) -> None:
    assert worker_seed(seed, 2) == worker_seed(seed, 2)
    assert 0 <= worker_seed(seed, 2) < 2**32
    assert worker_seed(seed, 1) != worker_seed(seed, 2)
