"""From a trial's parameters to SB3 constructor arguments, by name only (never ``eval``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
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
    if schedule == "linear" and "learning_rate" in kwargs:
        kwargs["learning_rate"] = LinearSchedule(float(kwargs["learning_rate"]))
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


def _policy_value(name: str, value: Any) -> Any:
    if name == "net_arch":
        if isinstance(value, str):
            return list(algos.NET_ARCH_PRESETS[value])
        if isinstance(value, int):
            return [value]
        return value
    if name == "activation_fn":
        return ACTIVATIONS[value]
    if name == "optimizer_class":
        return OPTIMIZERS[value]
    return value


def _algorithm_value(name: str, value: Any) -> Any:
    if name == "train_freq" and isinstance(value, list):
        return (int(value[0]), str(value[1]))
    if (
        name
        in (
            "n_steps",
            "batch_size",
            "buffer_size",
            "learning_starts",
            "gradient_steps",
            "target_update_interval",
            "n_epochs",
        )
        and isinstance(value, float)
        and value.is_integer()
    ):
        return int(value)
    return value
