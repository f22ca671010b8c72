"""The score of a uniformly random policy on a study's env, evaluated as the study evaluates.

A study's learning only means something beside this floor: Breakout's random play scores about
1 or 2 a game, Pong's about -20. The envs are the study's own (its wrappers, frame stacking and
the Monitor under them), so a game is scored as the trial's evaluations score it: whole games
and the game's own points, not the clipped one-life episodes the agent learns from.

Usage::

    python bench/random_policy.py STUDY.yaml [--episodes 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy

from rltui.spec import load_study
from rltui.train.envs import make_envs


class RandomPolicy:
    """What evaluate_policy asks of a model, answered with uniformly random actions."""

    def __init__(self, action_space: Any, seed: int) -> None:
        self.space = action_space
        self.space.seed(seed)

    def predict(self, obs: Any, state: Any = None, episode_start: Any = None, **_: Any) -> Any:
        return np.array([self.space.sample() for _ in range(len(obs))]), state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study_file")
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    study = load_study(args.study_file)
    envs = make_envs(study, args.seed)
    try:
        started = time.monotonic()
        returns, _lengths = evaluate_policy(
            RandomPolicy(envs.eval.action_space, args.seed),  # type: ignore[arg-type]
            envs.eval,
            n_eval_episodes=args.episodes,
            return_episode_rewards=True,
            warn=False,
        )
    finally:
        envs.close()
    scores = [float(r) for r in returns]  # type: ignore[union-attr]
    print(
        f"env {study.spec.train.env}, {len(scores)} episodes of a random policy (seed {args.seed})"
    )
    print(
        f"score: mean {statistics.mean(scores):.2f} ± {statistics.stdev(scores):.2f} (sd), "
        f"min {min(scores):.0f}, max {max(scores):.0f}"
    )
    print(f"{time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
