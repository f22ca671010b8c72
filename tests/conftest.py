"""Shared fixtures: tiny study files written into a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

TINY_PPO = """
name: {name}
direction: maximize
n_trials: {n_trials}
device: cpu
sampler: {{type: random, seed: 0}}
pruner: {{type: {pruner}}}
train:
  algorithm: ppo
  env: CartPole-v1
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 2}}
  seed: 0
hyperparameters:
  n_steps: 64
  batch_size: 32
  n_epochs: 1
  net_arch: [8]
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-2))
  gamma: choice(0.95, 0.99)
control:
  heartbeat_interval: 0.5
  heartbeat_grace: 4
{extra}
"""


@pytest.fixture
def study_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a tiny PPO study; keyword arguments fill the template's fields."""

    def write(
        name: str = "tiny",
        n_trials: int = 2,
        timesteps: int = 256,
        every: int = 128,
        pruner: str = "none",
        extra: str = "",
        text: str | None = None,
    ) -> Path:
        path = tmp_path / f"{name}.yaml"
        body = (
            text
            if text is not None
            else TINY_PPO.format(
                name=name,
                n_trials=n_trials,
                timesteps=timesteps,
                every=every,
                pruner=pruner,
                extra=extra,
            )
        )
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return path

    return write
