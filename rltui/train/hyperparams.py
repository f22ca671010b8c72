"""From a trial's parameters to the algorithm class and its constructor arguments, by name
only (never ``eval``).

Dotted names (``policy_kwargs.ortho_init``, ``clip_range.start``) are folded into the values
they are parts of first (:func:`rltui.spec.policy.nest`); policy options, flat or in
``policy_kwargs``, become the policy's keyword arguments; schedules become callables of the
progress left, over the whole trial budget (:func:`budget_aware`).
"""

from __future__ import annotations

import copy
import importlib
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
from stable_baselines3.common.vec_env import VecEnv

from rltui.spec import algorithms as algos
from rltui.spec import policy as pol
from rltui.spec import schedules

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
"""SB3's own algorithms; sb3-contrib's are imported on first use (:func:`algorithm_class`)."""


class ModelRefused(Exception):
    """A model that cannot be built here: its library is not installed, or it refuses the
    values; the message says which, and what to do."""


def algorithm_class(algorithm: str) -> type[BaseAlgorithm]:
    """The class of ``algorithm`` (a lower-case name the spec layer knows), from SB3 or, for
    those in :data:`rltui.spec.algorithms.CONTRIB`, from sb3-contrib; raises
    :class:`ModelRefused` when sb3-contrib is not installed."""
    if algorithm in ALGORITHMS:
        return ALGORITHMS[algorithm]
    name = algos.CONTRIB[algorithm]
    try:
        contrib = importlib.import_module("sb3_contrib")
    except ImportError as exc:
        raise ModelRefused(
            f"{name} comes from sb3-contrib, which is not installed on this machine: "
            f"{algos.CONTRIB_INSTALL}"
        ) from exc
    cls: type[BaseAlgorithm] = getattr(contrib, name)
    return cls


def trial_class(algorithm: str) -> type[BaseAlgorithm]:
    """The class a trial of ``algorithm`` trains and resumes: :func:`budget_aware`."""
    return budget_aware(algorithm_class(algorithm))


def new_model(
    algorithm: str,
    policy: str,
    params: dict[str, Any],
    env: VecEnv,
    seed: int | None,
    device: str,
    budget: int,
) -> BaseAlgorithm:
    """A model of ``algorithm`` with ``policy`` for ``params`` on ``env``, whose schedules run
    over ``budget`` timesteps; :class:`ModelRefused` when it cannot be built."""
    cls = trial_class(algorithm)
    kwargs = model_kwargs(algorithm, params, env.action_space, policy)
    try:
        model = cls(policy, env, seed=seed, device=device, verbose=0, **kwargs)
    except (TypeError, ValueError, AssertionError) as exc:
        raise ModelRefused(f"SB3 rejected the hyperparameters: {exc}") from exc
    model.rltui_budget = budget  # type: ignore[attr-defined]
    return model


@cache
def budget_aware(cls: type[BaseAlgorithm]) -> type[BaseAlgorithm]:
    """``cls`` that trains in chunks, paused or not, as it would in one ``learn()`` call: its
    schedules (learning rate, clip range, DQN exploration) run over the whole trial budget,
    its exploration noise keeps its state from one chunk to the next, and RecurrentPPO's LSTM
    states are saved with the model and restored with it."""

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

    def save(self: Any, *args: Any, **kwargs: Any) -> None:
        # RecurrentPPO leaves its LSTM states out of what it saves, so a resumed trial would go
        # on with the episode under way but a blank memory of it; a CPU copy is saved instead.
        states = getattr(self, "_last_lstm_states", None)
        if states is not None:
            self.rltui_lstm_states = tuple(tuple(t.detach().cpu() for t in net) for net in states)
        try:
            cls.save(self, *args, **kwargs)
        finally:
            self.__dict__.pop("rltui_lstm_states", None)

    def _setup_model(self: Any) -> None:
        saved = self.__dict__.pop("rltui_lstm_states", None)  # set by load() from what save() kept
        cls._setup_model(self)
        states = getattr(self, "_last_lstm_states", None)
        if saved is not None and states is not None:
            nets = (tuple(t.to(self.device) for t in net) for net in saved)
            self._last_lstm_states = type(states)(*nets)

    def set_random_seed(self: Any, seed: int | None = None) -> None:
        # Loading a model seeds its envs again, for their next reset(); envs restored from a
        # checkpoint go on with their own random state instead. (ARS resets its env for every
        # episode it plays, and would replay the episodes it played before the pause.)
        if self.num_timesteps == 0 or self.env is None:
            cls.set_random_seed(self, seed)
            return
        env, self.env = self.env, None
        try:
            cls.set_random_seed(self, seed)
        finally:
            self.env = env

    return type(
        cls.__name__,
        (cls,),
        {
            "_update_current_progress_remaining": _update_current_progress_remaining,
            "_setup_learn": _setup_learn,
            "save": save,
            "_setup_model": _setup_model,
            "set_random_seed": set_random_seed,
        },
    )


def model_kwargs(
    algorithm: str,
    params: dict[str, Any],
    action_space: spaces.Space,
    policy: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``algorithm`` trained with ``policy`` (its default when None) from
    flat parameters (fixed and sampled, dotted names included)."""
    values = pol.nest(params)
    options = pol.policy_args(algorithm, policy)
    kwargs: dict[str, Any] = {}
    policy_kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if name in options:
            policy_kwargs[name] = _policy_value(name, value)
        elif name in algos.ALGORITHM_ARGS[algorithm]:
            kwargs[name] = _algorithm_value(algorithm, name, value)
    for name, value in (values.get(pol.POLICY_KWARGS) or {}).items():
        policy_kwargs[name] = _policy_value(name, value)
    if values.get("learning_rate_schedule", "constant") == "linear":
        # Without a learning_rate of its own, the schedule starts at the library's default for
        # the algorithm rather than being dropped silently.
        initial = kwargs.get("learning_rate", _default_learning_rate(algorithm))
        kwargs["learning_rate"] = LinearSchedule(float(initial))
    noise = values.get("action_noise", "none")
    if noise != "none" and noise is not None and isinstance(action_space, spaces.Box):
        sigma = float(values.get("action_noise_sigma", 0.1))
        dim = int(np.prod(action_space.shape))
        cls = NormalActionNoise if noise == "normal" else OrnsteinUhlenbeckActionNoise
        kwargs["action_noise"] = cls(mean=np.zeros(dim), sigma=sigma * np.ones(dim))
    if policy_kwargs:
        kwargs["policy_kwargs"] = policy_kwargs
    return kwargs


class LinearSchedule:
    """Learning rate falling linearly to 0 over the trial (``learning_rate_schedule: linear``);
    a class so checkpoints pickle it. Schedules written in the study file are
    :class:`rltui.spec.schedules.Schedule`."""

    def __init__(self, initial: float):
        self.initial = initial

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.initial


def _default_learning_rate(algorithm: str) -> float:
    cls = algorithm_class(algorithm)
    return float(inspect.signature(cls).parameters["learning_rate"].default)


def _policy_value(name: str, value: Any) -> Any:
    if name == "net_arch":
        return algos.layer_sizes(value)
    if name == "activation_fn":
        return ACTIVATIONS[value]
    if name == "optimizer_class":
        return OPTIMIZERS[value]
    if name in pol.KWARGS_MAPPINGS:
        return {key: tuple(v) if isinstance(v, list) else v for key, v in value.items()}
    return value


def _algorithm_value(algorithm: str, name: str, value: Any) -> Any:
    schedule = schedules.read(value) if name in algos.SCHEDULABLE[algorithm] else None
    if schedule is not None:
        return schedule.start if schedule.kind == "constant" else schedule
    if name == "train_freq" and isinstance(value, list):
        return (int(value[0]), str(value[1]))
    if name in algos.CAST_TO_INT and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
