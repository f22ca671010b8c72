"""Env steps after the warm-up until the plain-PyTorch DQN's training episode returns 200.

The figure PyTorch Lightning's DQN example states ("after ~1500 steps, you will see the
total_reward hitting the max score of 200"): the return of the last finished training episode
(epsilon-greedy, as the agent trains) reaching CartPole-v0's maximum, counted in env steps after
the warm-up. It runs ``train(params, ctx)`` of ``sample_studies/examples/torch_dqn.py`` directly,
once per seed, on one torch thread as a worker does, to the end of the budget (``--stop`` ends a
run at its first 200), and also prints the mean of the last three greedy evaluations (the
Lightning study's objective):

- ``lightning``: the fixed hyperparameters of ``sample_studies/cartpole_torch_dqn_lightning.yaml``
  (the example's configuration), its budget, warm-up = its ``warm_up_steps``;
- ``defaults``: the function's own defaults on CartPole-v0 with the budget of
  ``sample_studies/cartpole_torch_dqn.yaml`` (30,000 steps, so epsilon decays over 6,000),
  warm-up = ``learning_starts`` (before it the function acts on the epsilon schedule, untrained).

Usage::

    python bench/torch_dqn_steps.py [--config lightning|defaults|both] [--seeds 0 1 2] [--stop]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from rltui.spec import load_study

SAMPLES = Path(__file__).resolve().parents[1] / "sample_studies"
LIGHTNING = SAMPLES / "cartpole_torch_dqn_lightning.yaml"
DEFAULTS_STUDY = SAMPLES / "cartpole_torch_dqn.yaml"


class FirstMaxReturn:
    """What ``train`` asks of a :class:`rltui.train.function.TrialContext`: it records the
    greedy evaluations and the step of the first training episode to return ``target`` (and
    with ``stop``, asks the function to stop there)."""

    def __init__(self, budget: int, seed: int, target: float, stop: bool) -> None:
        self.params: dict[str, Any] = {}
        self.seed, self.budget, self.target, self.stop = seed, budget, target, stop
        self.device, self.resume_dir, self.paused = "cpu", None, False
        self.hit: int | None = None
        self.steps = 0
        self.episodes = 0
        self.evaluations: list[tuple[int, float]] = []

    def should_stop(self) -> bool:
        return self.stop and self.hit is not None

    def progress(self, step: int) -> None:
        self.steps = step

    def report(self, step: int, value: float) -> None:
        self.evaluations.append((step, value))

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if "rollout/ep_return" in metrics:
            self.episodes += 1
            if self.hit is None and metrics["rollout/ep_return"] >= self.target:
                self.hit = step


def configs(which: str) -> dict[str, tuple[dict[str, Any], int, int]]:
    """name -> (params, budget, warm-up steps)."""
    out: dict[str, tuple[dict[str, Any], int, int]] = {}
    if which in ("lightning", "both"):
        spec = load_study(LIGHTNING).spec
        params = dict(spec.hyperparameters)
        out["lightning"] = (params, spec.train.timesteps, int(params["warm_up_steps"]))
    if which in ("defaults", "both"):
        spec = load_study(DEFAULTS_STUDY).spec
        params = {"env_id": "CartPole-v0", "log_episodes": True}
        out["defaults"] = (params, spec.train.timesteps, 1_000)  # the default learning_starts
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=("lightning", "defaults", "both"), default="both")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--target", type=float, default=200.0)
    parser.add_argument("--stop", action="store_true", help="end each run at its first target")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in a worker
    sys.path.insert(0, str(SAMPLES))
    train = importlib.import_module("examples.torch_dqn").train
    chosen = configs(args.config)
    # Gymnasium calls CartPole-v0 out of date; it is the example's env, on purpose. (Set after
    # loading the studies, which put gymnasium's own filter back in front of this one.)
    warnings.filterwarnings("ignore", message=".*CartPole-v0 is out of date")
    for name, (params, budget, warm) in chosen.items():
        print(f"== {name}: budget {budget:,} env steps, warm-up {warm:,}")
        figures: list[float] = []
        for seed in args.seeds:
            load = os.getloadavg()[0]
            ctx = FirstMaxReturn(budget, seed, args.target, args.stop)
            started = time.perf_counter()
            train({**params, "seed": seed}, ctx)
            took = time.perf_counter() - started
            if ctx.hit is not None:
                figures.append(ctx.hit - warm)
                what = f"{ctx.hit - warm:>6,} steps after the warm-up"
            else:
                figures.append(float("inf"))
                what = f"never in {budget - warm:,} steps after the warm-up"
            tail = [v for _, v in ctx.evaluations[-3:]]
            last = (
                f"greedy evals to step {ctx.steps:,}: last {len(tail)} mean "
                f"{statistics.mean(tail):.1f}"
                if tail
                else "no greedy evaluation yet"
            )
            print(
                f"seed {seed}: {what} ({ctx.episodes} episodes; {last}; "
                f"{took:.1f} s, {ctx.steps / took:,.0f} steps/s; load {load:.2f})",
                flush=True,
            )
        median = statistics.median(figures)
        reached = sum(f != float("inf") for f in figures)
        print(
            f"{name}: median {median:,.0f} steps after the warm-up; "
            f"reached {args.target:g} in {reached} of {len(figures)} seeds"
        )


if __name__ == "__main__":
    main()
