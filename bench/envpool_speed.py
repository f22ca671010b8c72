"""Training envs on EnvPool (``vec_env: envpool``) against Gymnasium's in the worker's process
(``vec_env: dummy``), in pairs.

    python bench/envpool_speed.py [--pairs 5] [--timesteps 40960] [--envs 8] [--env CartPole-v1]

Each pair builds a trial's envs with :func:`rltui.train.envs.make_envs` from a study file that
differs only in ``vec_env``, one after the other (which goes first flips from pair to pair),
one torch thread, and times:

  step     the training envs alone, stepped with random actions for ``--timesteps`` env steps
           (what the backend itself costs);
  learn    SB3 PPO (``n_steps`` 256, batch 256, 4 epochs, ``net_arch`` [64, 64], the study's
           ``seed``) learning ``--timesteps`` on them: what a trial gains, with the gradient
           steps that EnvPool does not speed up.

Prints env-steps/s of each, the ratio envpool / dummy per pair and its median (above 1:
EnvPool is faster), and the load average before and after. Needs ``rltui[envpool]``;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO

from rltui.spec import load_study
from rltui.train.envs import make_envs

STUDY = """\
name: speed
device: cpu
train:
  algorithm: ppo
  env: {env}
  n_envs: {envs}
  vec_env: {backend}
  timesteps: {timesteps}
  seed: 0
"""


def timed(folder: Path, backend: str, args: argparse.Namespace) -> tuple[float, float]:
    """(env steps/s stepping alone, env steps/s learning) for one backend."""
    path = folder / f"{backend}.yaml"
    path.write_text(
        STUDY.format(env=args.env, envs=args.envs, backend=backend, timesteps=args.timesteps),
        encoding="utf-8",
    )
    study = load_study(path)
    envs = make_envs(study, seed=0)
    try:
        venv = envs.train
        venv.reset()
        steps = args.timesteps // args.envs
        actions = [
            np.array([venv.action_space.sample() for _ in range(args.envs)]) for _ in range(64)
        ]
        start = time.perf_counter()
        for i in range(steps):
            venv.step(actions[i % 64])
        stepping = steps * args.envs / (time.perf_counter() - start)
        model = PPO(
            "MlpPolicy",
            venv,
            n_steps=256,
            batch_size=256,
            n_epochs=4,
            policy_kwargs={"net_arch": [64, 64]},
            seed=0,
            device="cpu",
        )
        start = time.perf_counter()
        model.learn(args.timesteps)
        learning = model.num_timesteps / (time.perf_counter() - start)
    finally:
        envs.close()
    return stepping, learning


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--timesteps", type=int, default=40_960)
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--env", default="CartPole-v1")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ratios: dict[str, list[float]] = {"step": [], "learn": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timed(folder, "envpool", args)  # imports and first builds, left out
        timed(folder, "dummy", args)
        for pair in range(args.pairs):
            order = ("dummy", "envpool") if pair % 2 == 0 else ("envpool", "dummy")
            got = {backend: timed(folder, backend, args) for backend in order}
            (d_step, d_learn), (p_step, p_learn) = got["dummy"], got["envpool"]
            ratios["step"].append(p_step / d_step)
            ratios["learn"].append(p_learn / d_learn)
            print(
                f"pair {pair}: step  dummy {d_step:9,.0f}  envpool {p_step:9,.0f} env-steps/s"
                f" ({p_step / d_step:5.2f}x) | learn  dummy {d_learn:7,.0f}  envpool "
                f"{p_learn:7,.0f} ({p_learn / d_learn:4.2f}x)"
            )
    for name, values in ratios.items():
        print(
            f"{name}: envpool / dummy median {statistics.median(values):.2f}x "
            f"(range {min(values):.2f}-{max(values):.2f}, {len(values)} pairs)"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
