"""From a trial's parameters to the SB3 class and its constructor arguments, by name only
(never ``eval``)."""

from __future__ import annotations

import copy
import inspect
from functools import cache
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, DDPG, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

from rltui.spec import algorithms as algos

ACTIVATIONS: dict[str, type[torch.nn.Module]] = {
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "elu": torch.nn.ELU,
    "leaky_relu": torch.nn.LeakyReLU,
    "gelu": torch.nn.GELU,
    "silu": torch.nn.SiLU,
}
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    "ppo": PPO,
    "a2c": A2C,
    "dqn": DQN,
    "sac": SAC,
    "td3": TD3,
    "ddpg": DDPG,
}


@cache
def budget_aware(cls: type[BaseAlgorithm]) -> type[BaseAlgorithm]:
    """``cls`` that trains in chunks as it would in one ``learn()`` call: its schedules
    (learning rate, DQN exploration) run over the whole trial budget, and its exploration
    noise keeps its state from one chunk to the next."""

    def _update_current_progress_remaining(
        self: Any, num_timesteps: int, total_timesteps: int
    ) -> None:
        budget = getattr(self, "rltui_budget", None) or total_timesteps
        cls._update_current_progress_remaining(self, num_timesteps, budget)

    def _setup_learn(
        self: Any,
        total_timesteps: int,
        callback: Any = None,
        reset_num_timesteps: bool = True,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, BaseCallback]:
        # SB3 resets the action noise at every learn() call; a chunk boundary falls anywhere in
        # an episode, and an Ornstein-Uhlenbeck process restarted there would make results
        # depend on how often the study evaluates.
        keep = not reset_num_timesteps and self.num_timesteps > 0 and self.action_noise is not None
        noise = copy.deepcopy(self.action_noise) if keep else None
        result = cls._setup_learn(
            self, total_timesteps, callback, reset_num_timesteps, *args, **kwargs
        )
        if noise is not None:
            self.action_noise = noise
        return result

    return type(
        cls.__name__,
        (cls,),
        {
            "_update_current_progress_remaining": _update_current_progress_remaining,
            "_setup_learn": _setup_learn,
        },
    )


def model_kwargs(
    algorithm: str, params: dict[str, Any], action_space: spaces.Space
) -> dict[str, Any]:
    """SB3 keyword arguments for ``algorithm`` from flat parameters (fixed and sampled)."""
    policy_names = algos.POLICY_ARGS[algorithm]
    kwargs: dict[str, Any] = {}
    policy_kwargs: dict[str, Any] = {}
    for name, value in params.items():
        if name in policy_names:
            policy_kwargs[name] = _policy_value(name, value)
        elif name in algos.ALGORITHM_ARGS[algorithm]:
            kwargs[name] = _algorithm_value(name, value)
    schedule = params.get("learning_rate_schedule", "constant")
    if schedule == "linear":
        # Without a learning_rate of its own, the schedule starts at SB3's default for the
        # algorithm rather than being dropped silently.
        initial = kwargs.get("learning_rate", _default_learning_rate(algorithm))
        kwargs["learning_rate"] = LinearSchedule(float(initial))
    noise = params.get("action_noise", "none")
    if noise != "none" and noise is not None and isinstance(action_space, spaces.Box):
        sigma = float(params.get("action_noise_sigma", 0.1))
        dim = int(np.prod(action_space.shape))
        cls = NormalActionNoise if noise == "normal" else OrnsteinUhlenbeckActionNoise
        kwargs["action_noise"] = cls(mean=np.zeros(dim), sigma=sigma * np.ones(dim))
    if policy_kwargs:
        kwargs["policy_kwargs"] = policy_kwargs
    return kwargs


class LinearSchedule:
    """Learning rate falling linearly to 0 over the trial; a class so checkpoints pickle it."""

    def __init__(self, initial: float):
        self.initial = initial

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.initial


def _default_learning_rate(algorithm: str) -> float:
    return float(inspect.signature(ALGORITHMS[algorithm]).parameters["learning_rate"].default)


def _net_arch(value: Any) -> Any:
    """Layer sizes from a preset name, one size, a list, or a mapping of those per network
    (``{pi: small, qf: [64, 64]}``), as SB3's ``net_arch`` takes them."""
    if isinstance(value, str):
        return list(algos.NET_ARCH_PRESETS[value])
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return {key: _net_arch(part) for key, part in value.items()}
    return list(value)


def _policy_value(name: str, value: Any) -> Any:
    if name == "net_arch":
        return _net_arch(value)
    if name == "activation_fn":
        return ACTIVATIONS[value]
    if name == "optimizer_class":
        return OPTIMIZERS[value]
    return value


def _algorithm_value(name: str, value: Any) -> Any:
    if name == "train_freq" and isinstance(value, list):
        return (int(value[0]), str(value[1]))
    if name in algos.CAST_TO_INT and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
