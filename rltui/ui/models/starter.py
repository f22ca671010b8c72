"""The study a new study file starts from: small, valid and commented, so that a first-time
user learns the format by editing it; its lines fit the editor of an 80-column window.
``rltui new.yaml``, for a file that does not exist yet, shows it under that name, and ``rltui``
in a folder with no YAML file as ``study.yaml``; the file is written when the user saves it."""

from __future__ import annotations

import json
import re

# Names that YAML would read as something other than text (a number, a boolean, null).
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_NOT_TEXT = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}

TEMPLATE = """\
# A new study: PPO on CartPole-v1 and a small search space. Edit
# it (problems show as you type); ctrl+s writes this file and opens
# the study, then esc and w start a worker. Every key is in the
# README's "Study files" section.
name: {name}
direction: maximize
n_trials: 20                # the trial budget
workers: 2                  # workers that `rltui run` starts
device: auto                # CUDA when this host has a GPU, else CPU

sampler: {{type: tpe, n_startup_trials: 5, seed: 0}}
pruner: {{type: median, n_startup_trials: 5, n_warmup_steps: 10000}}

train:
  algorithm: ppo            # a2c, dqn, sac, td3, ddpg; rltui[contrib]
  env: CartPole-v1          # any registered Gymnasium id
  n_envs: 8
  timesteps: 50000          # per trial
  eval: {{every: 10000, episodes: 5}}
  objective: last           # the last evaluation's mean reward
  target: {{reward: env}}     # reaching the env's threshold ends it
  seed: 0

hyperparameters:            # the same for every trial
  net_arch: small

search_space:               # what the sampler tries
  learning_rate: tag(log, interval(1e-4, 3e-3))
  n_steps: choice(32, 64, 128, 256)
  gamma: choice(0.95, 0.98, 0.99)
  ent_coef: choice(0.0, 0.01)
"""


def starter(name: str) -> str:
    """The starter study, named ``name`` (quoted when YAML would read it as other than text)."""
    bare = _BARE_NAME.fullmatch(name) and name.lower() not in _NOT_TEXT
    return TEMPLATE.format(name=name if bare else json.dumps(name))
