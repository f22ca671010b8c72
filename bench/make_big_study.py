"""Write a big finished study for the UI benchmarks: a study file and its Journal storage.

    python bench/make_big_study.py OUT_DIR [--trials 10000] [--seed 0] [--name big]
                                   [--heartbeats 0]

Writes ``OUT_DIR/NAME.yaml`` (a valid rltui study: PPO on CartPole-v1, 5 searched
parameters) and ``OUT_DIR/NAME.rltui/study.journal`` holding N finished trials: about 60 %
COMPLETE, 30 % PRUNED and 10 % FAIL, each with its 5 parameters, 20 intermediate reports
(a noisy learning curve), the rltui attributes a worker would leave (progress, worker id,
spec version; error message and traceback for failed trials) and realistic start and end
times. The study file is published first (``rltui.search.study.open_study``), so rltui finds
its spec in the storage exactly as if workers had run it.

Trials are written through Optuna's storage API in one process (``create_new_trial`` with a
template trial, one journal record per trial), which takes a few seconds for 10,000 trials.
An existing OUT_DIR/NAME.yaml and its journal are replaced. Like workers, this writes
through rltui's journal backend, so the journal gets its snapshot every 100 trials.

``--heartbeats N`` adds N worker-record writes spread evenly between the trials, as running
workers leave them (each worker writes its record every 2 s: four workers, about 170,000 a
day, and as many progress updates). The first is written through Optuna, the rest are
copies of its journal line appended directly, which is much faster and reads the same.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from rltui.search import attrs
from rltui.search.storage import StudyHome
from rltui.search.study import open_study
from rltui.search.workers import new_record, write_record
from rltui.spec import load_study

REPORTS = 20
STUDY = """\
# Written by bench/make_big_study.py: {trials} finished trials for the UI benchmarks.
name: {name}
description: A big finished study ({trials} trials) for measuring the UI.
direction: maximize
n_trials: {budget}
device: cpu
sampler: {{type: random, seed: {seed}}}
pruner: {{type: none}}
train:
  algorithm: ppo
  env: CartPole-v1
  n_envs: 1
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 3}}
  objective: last
  seed: 0
hyperparameters:
  n_steps: 64
  batch_size: 32
  net_arch: [8]
search_space:
  learning_rate: tag(log, interval(1e-5, 1e-2))
  gamma: {{type: float, low: 0.9, high: 0.9999}}
  gae_lambda: {{type: float, low: 0.8, high: 1.0}}
  ent_coef: choice(0.0, 0.001, 0.01, 0.1)
  n_epochs: choice(1, 2, 4)
"""


def study_text(
    name: str, trials: int, seed: int = 0, extra_budget: int = 0, timesteps: int = 20_480
) -> str:
    """The study file: ``trials`` finished ones plus ``extra_budget`` left to run, each
    ``timesteps`` long with 20 evaluations (the ui_latency bench reuses it with long trials)."""
    return STUDY.format(
        name=name,
        trials=trials,
        budget=trials + extra_budget,
        seed=seed,
        timesteps=timesteps,
        every=max(1, timesteps // REPORTS),
    )


def _sample(dist: BaseDistribution, rng: random.Random) -> object:
    if isinstance(dist, CategoricalDistribution):
        return rng.choice(dist.choices)
    if isinstance(dist, IntDistribution):
        return rng.randint(dist.low, dist.high)
    assert isinstance(dist, FloatDistribution)
    if dist.log:
        return math.exp(rng.uniform(math.log(dist.low), math.log(dist.high)))
    return rng.uniform(dist.low, dist.high)


def _template(
    number: int,
    space: dict[str, BaseDistribution],
    rng: random.Random,
    timesteps: int,
    start: datetime,
) -> FrozenTrial:
    roll = rng.random()
    state = (
        TrialState.COMPLETE if roll < 0.6 else TrialState.PRUNED if roll < 0.9 else TrialState.FAIL
    )
    params = {name: _sample(dist, rng) for name, dist in space.items()}
    quality = rng.uniform(0.2, 1.0)
    every = max(1, timesteps // REPORTS)
    curve: dict[int, float] = {}
    value = 0.0
    for k in range(1, REPORTS + 1):
        value = 500 * quality * (1 - math.exp(-3 * k / REPORTS)) + rng.gauss(0, 15)
        curve[k * every] = round(max(0.0, value), 2)
    seconds = rng.uniform(20, 60)
    system: dict[str, object] = {
        attrs.TRIAL_WORKER: f"w{number % 4:07d}",
        attrs.TRIAL_SPEC_VERSION: 1,
        attrs.PROGRESS: {
            "timesteps": REPORTS * every,
            "total": timesteps,
            "updated": (start + timedelta(seconds=seconds)).timestamp(),
            "train_seconds": seconds * 0.8,
            "eval_seconds": seconds * 0.2,
        },
    }
    if state == TrialState.FAIL:
        system[attrs.ERROR] = {
            "message": "ValueError: NaN in the policy loss",
            "traceback": 'Traceback (most recent call last):\n  File "ppo.py", line 1\n'
            "ValueError: NaN in the policy loss",
        }
    return FrozenTrial(
        number=-1,
        trial_id=-1,
        state=state,
        value=curve[REPORTS * every] if state == TrialState.COMPLETE else None,
        datetime_start=start,
        datetime_complete=start + timedelta(seconds=seconds),
        params=params,
        distributions=dict(space),
        user_attrs={},
        system_attrs=system,
        intermediate_values=curve,
    )


def make_big_study(
    out_dir: Path,
    trials: int = 10_000,
    *,
    name: str = "big",
    seed: int = 0,
    extra_budget: int = 0,
    timesteps: int = 20_480,
    heartbeats: int = 0,
) -> Path:
    """Write the study file and its journal; returns the study file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.yaml"
    home = StudyHome.beside(path)
    if home.root.exists():
        shutil.rmtree(home.root)
    path.write_text(study_text(name, trials, seed, extra_budget, timesteps), encoding="utf-8")
    study = load_study(path, check_env=False)
    ostudy, _url = open_study(study)  # publishes the spec, as the UI and workers do
    storage, study_id = ostudy._storage, ostudy._study_id
    space = study.space.distributions
    rng = random.Random(seed)
    start = datetime.now() - timedelta(seconds=30 * trials)
    beat = _heartbeat_line(storage, study_id, home.journal) if heartbeats else b""
    written = 0
    for number in range(trials):
        template = _template(number, space, rng, timesteps, start + timedelta(seconds=30 * number))
        storage.create_new_trial(study_id, template_trial=template)
        due = heartbeats * (number + 1) // trials - written
        if due:
            with open(home.journal, "ab") as journal:
                journal.write(beat * due)
            written += due
    return path


def _heartbeat_line(storage: BaseStorage, study_id: int, journal: Path) -> bytes:
    """Write one worker record as a worker does; its journal line, to be copied.

    The record says the worker has exited, so the UI lists it without waiting for it."""
    record = replace(new_record("w0000000", "cpu", "/tmp/worker-0.log"), state="exited")
    write_record(storage, study_id, record)
    return journal.read_bytes().splitlines(keepends=True)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="big")
    parser.add_argument("--heartbeats", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = make_big_study(
        args.out_dir, args.trials, name=args.name, seed=args.seed, heartbeats=args.heartbeats
    )
    seconds = time.perf_counter() - started
    journal = StudyHome.beside(path).journal
    print(
        f"wrote {path} and {journal} ({journal.stat().st_size / 1e6:.1f} MB): "
        f"{args.trials:,} finished trials in {seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
