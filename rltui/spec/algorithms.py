"""What each supported algorithm accepts, as data.

The study file is validated against these tables without importing torch, Stable-Baselines3
or sb3-contrib, so the UI can check a file as the user types. A test compares the tables with
the libraries' own signatures, so they cannot drift apart silently. What each policy class
accepts is in :mod:`rltui.spec.policy`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rltui.spec.limits import MAX_LAYERS, SIZES

# What SB3's OffPolicyAlgorithm takes, shared by DQN, SAC, TD3 and DDPG.
_OFF_POLICY_ARGS = frozenset(
    [
        "learning_rate",
        "buffer_size",
        "learning_starts",
        "batch_size",
        "tau",
        "gamma",
        "train_freq",
        "gradient_steps",
        "optimize_memory_usage",
        "n_steps",
    ]
)
_PPO_ARGS = frozenset(
    [
        "learning_rate",
        "n_steps",
        "batch_size",
        "n_epochs",
        "gamma",
        "gae_lambda",
        "clip_range",
        "clip_range_vf",
        "normalize_advantage",
        "ent_coef",
        "vf_coef",
        "max_grad_norm",
        "use_sde",
        "sde_sample_freq",
        "target_kl",
    ]
)
_DQN_ARGS = _OFF_POLICY_ARGS | {
    "target_update_interval",
    "exploration_fraction",
    "exploration_initial_eps",
    "exploration_final_eps",
    "max_grad_norm",
}
_SAC_ARGS = _OFF_POLICY_ARGS | {
    "ent_coef",
    "target_update_interval",
    "target_entropy",
    "use_sde",
    "sde_sample_freq",
    "use_sde_at_warmup",
}

# Constructor arguments of each algorithm class that a study may set or search. Arguments that
# need Python objects (policy, env, replay_buffer_class, ...) are left out on purpose.
ALGORITHM_ARGS: dict[str, frozenset[str]] = {
    "ppo": _PPO_ARGS,
    "a2c": frozenset(
        [
            "learning_rate",
            "n_steps",
            "gamma",
            "gae_lambda",
            "ent_coef",
            "vf_coef",
            "max_grad_norm",
            "rms_prop_eps",
            "use_rms_prop",
            "use_sde",
            "sde_sample_freq",
            "normalize_advantage",
        ]
    ),
    "dqn": _DQN_ARGS,
    "sac": _SAC_ARGS,
    "td3": _OFF_POLICY_ARGS | {"policy_delay", "target_policy_noise", "target_noise_clip"},
    "ddpg": _OFF_POLICY_ARGS,
    # sb3-contrib's, installed with the ``contrib`` extra (see CONTRIB)
    "tqc": _SAC_ARGS | {"top_quantiles_to_drop_per_net"},
    "qrdqn": _DQN_ARGS,
    "trpo": frozenset(
        [
            "learning_rate",
            "n_steps",
            "batch_size",
            "gamma",
            "gae_lambda",
            "cg_max_steps",
            "cg_damping",
            "line_search_shrinking_factor",
            "line_search_max_iter",
            "n_critic_updates",
            "use_sde",
            "sde_sample_freq",
            "normalize_advantage",
            "target_kl",
            "sub_sampling_factor",
        ]
    ),
    "ars": frozenset(
        [
            "n_delta",
            "n_top",
            "learning_rate",
            "delta_std",
            "zero_policy",
            "alive_bonus_offset",
            "n_eval_episodes",
        ]
    ),
    "recurrentppo": _PPO_ARGS,
    "crossq": (_SAC_ARGS - {"tau", "target_update_interval"}) | {"policy_delay"},
}

# sb3-contrib's algorithms (the ``contrib`` extra): rltui's name -> the class in sb3_contrib.
CONTRIB: dict[str, str] = {
    "tqc": "TQC",
    "qrdqn": "QRDQN",
    "trpo": "TRPO",
    "ars": "ARS",
    "recurrentppo": "RecurrentPPO",
    "crossq": "CrossQ",
}
CONTRIB_INSTALL = "install rltui[contrib] (pip install 'rltui[contrib]')"

# Arguments that take a schedule (a function of the progress left) as well as a number: the
# ``float | Schedule`` arguments of the signatures, which a test compares. DQN's exploration
# is no such argument: it is a linear schedule already, from exploration_initial_eps to
# exploration_final_eps over exploration_fraction of the budget.
_LR = frozenset({"learning_rate"})
SCHEDULABLE: dict[str, frozenset[str]] = {
    **dict.fromkeys(ALGORITHM_ARGS, _LR),
    "ppo": _LR | {"clip_range", "clip_range_vf"},
    "recurrentppo": _LR | {"clip_range", "clip_range_vf"},
    "ars": _LR | {"delta_std"},
}

# Settings of rltui's own that are not SB3 arguments but are tuned like hyperparameters.
_NOISE = frozenset({"action_noise", "action_noise_sigma"})
EXTRA_ARGS: dict[str, frozenset[str]] = {
    name: frozenset({"learning_rate_schedule"})
    | (_NOISE if name in {"sac", "td3", "ddpg", "tqc", "crossq"} else frozenset())
    for name in ALGORITHM_ARGS
}

# SB3's own off-policy algorithms; sb3-contrib's keep a replay buffer too.
OFF_POLICY = frozenset({"dqn", "sac", "td3", "ddpg"})
CONTRIB_OFF_POLICY = frozenset({"tqc", "qrdqn", "crossq"})

# The Gymnasium action spaces each algorithm can act in (``supported_action_spaces``, compared
# with the libraries by a test), by class name so that no Gymnasium import is needed here.
_ALL_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary")
ACTION_SPACES: dict[str, tuple[str, ...]] = {
    "ppo": _ALL_SPACES,
    "a2c": _ALL_SPACES,
    "dqn": ("Discrete",),
    "sac": ("Box",),
    "td3": ("Box",),
    "ddpg": ("Box",),
    "tqc": ("Box",),
    "qrdqn": ("Discrete",),
    "trpo": _ALL_SPACES,
    "ars": ("Box", "Discrete"),
    "recurrentppo": _ALL_SPACES,
    "crossq": ("Box",),
}
SPACE_WORDS = {"Box": "continuous (Box)", "Discrete": "discrete (Discrete)"}
DISCRETE_ONLY = frozenset(a for a, s in ACTION_SPACES.items() if s == ("Discrete",))
CONTINUOUS_ONLY = frozenset(a for a, s in ACTION_SPACES.items() if s == ("Box",))

# Names accepted for values that stand for Python objects: resolved by name, never evaluated.
# net_arch's names are rl-baselines3-zoo's, with its sizes (its on-policy tiny is
# {pi: [64], vf: [64]}, which SB3 reads [64] as), so that a name means the same here and there;
# wide is rltui's own, a name the zoo does not use.
NET_ARCH_PRESETS: dict[str, list[int]] = {
    "tiny": [64],
    "small": [64, 64],
    "medium": [256, 256],
    "big": [400, 300],
    "large": [256, 256, 256],
    "verybig": [512, 512, 512],
    "wide": [512, 512],
}


def layer_sizes(value: Any) -> Any:
    """Layer sizes from a ``net_arch`` as a study file writes it: a preset name, one size, a
    list, or a mapping of those per network (``{pi: small, qf: [64, 64]}``), as SB3 takes
    them; the zoo's older ``[dict(pi=..., vf=...)]`` (SB3 < 1.8) as its mapping."""
    if isinstance(value, str):
        return list(NET_ARCH_PRESETS[value])
    if isinstance(value, int):
        return [value]
    if isinstance(value, Mapping):
        return {key: layer_sizes(part) for key, part in value.items()}
    if len(value) == 1 and isinstance(value[0], Mapping):
        return layer_sizes(value[0])
    return list(value)


ACTIVATIONS = ("tanh", "relu", "elu", "leaky_relu", "gelu", "silu")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
ACTION_NOISES = ("none", "normal", "ornstein_uhlenbeck")
LR_SCHEDULES = ("constant", "linear")
# The settings whose value is one of these names.
NAMED_VALUES: dict[str, tuple[str, ...]] = {
    "activation_fn": ACTIVATIONS,
    "optimizer_class": OPTIMIZERS,
    "action_noise": ACTION_NOISES,
    "learning_rate_schedule": LR_SCHEDULES,
}


@dataclass(frozen=True)
class ArgKind:
    """The values one argument accepts, so that a bad one is reported before any trial runs.

    ``type`` is ``int`` (whole numbers), ``float`` (any number) or ``bool``; bounds are
    inclusive unless ``above`` excludes ``low`` (a learning rate must be above 0, not 0).
    """

    type: type
    low: float | None = None
    high: float | None = None
    above: bool = False
    example: Any = None
    null: bool = False  # null (Python None) is accepted: SB3's "off"
    words: tuple[str, ...] = ()  # strings accepted besides numbers ('auto')
    word_pattern: str | None = None  # ... and strings matching this regular expression
    word_help: str = ""  # how to write such a string, for the hint
    units: tuple[str, ...] = ()  # [n, unit] is accepted too (train_freq: [4, episode])


def _whole(low: int, example: int) -> ArgKind:
    return ArgKind(int, low=low, example=example)


def _size(name: str, example: int) -> ArgKind:
    """A size with a fixed bound, beyond which a trial cannot run (see rltui.spec.limits)."""
    return ArgKind(int, low=1, high=SIZES[name].most, example=example)


def _share(example: float) -> ArgKind:
    return ArgKind(float, low=0, high=1, example=example)


def _positive(example: float) -> ArgKind:
    return ArgKind(float, low=0, above=True, example=example)


_FLAG = ArgKind(bool, example=True)

# What the numeric and boolean arguments accept, for every algorithm that takes them.
# Arguments that name objects (net_arch, activation_fn, ...) are checked by name instead.
ARG_KINDS: dict[str, ArgKind] = {
    "learning_rate": _positive(3e-4),
    "n_steps": _size("n_steps", 2048),
    "batch_size": _size("batch_size", 64),
    "n_epochs": _size("n_epochs", 10),
    "gamma": _share(0.99),
    "gae_lambda": _share(0.95),
    "clip_range": _positive(0.2),
    "clip_range_vf": ArgKind(float, low=0, above=True, example=0.2, null=True),
    "normalize_advantage": _FLAG,
    "ent_coef": ArgKind(float, low=0, example=0.01),
    "vf_coef": ArgKind(float, low=0, example=0.5),
    "max_grad_norm": _positive(0.5),
    "use_sde": _FLAG,
    "sde_sample_freq": _whole(-1, -1),  # -1: sample the noise once per rollout
    "target_kl": ArgKind(float, low=0, above=True, example=0.02, null=True),
    "rms_prop_eps": _positive(1e-5),
    "use_rms_prop": _FLAG,
    "buffer_size": _size("buffer_size", 100_000),
    "learning_starts": _whole(0, 1000),
    "tau": ArgKind(float, low=0, high=1, above=True, example=0.005),
    "train_freq": ArgKind(int, low=1, example=4, units=("step", "episode")),
    "gradient_steps": ArgKind(
        int, low=-1, high=SIZES["gradient_steps"].most, example=1
    ),  # -1: as many gradient steps as env steps
    "optimize_memory_usage": _FLAG,
    "target_update_interval": _whole(1, 1000),
    "exploration_fraction": _share(0.1),
    "exploration_initial_eps": _share(1.0),
    "exploration_final_eps": _share(0.05),
    "target_entropy": ArgKind(float, example="auto", words=("auto",)),
    "use_sde_at_warmup": _FLAG,
    "policy_delay": _whole(1, 2),
    "target_policy_noise": ArgKind(float, low=0, example=0.2),
    "target_noise_clip": ArgKind(float, low=0, example=0.5),
    "ortho_init": _FLAG,
    "log_std_init": ArgKind(float, example=0.0),
    "full_std": _FLAG,
    "use_expln": _FLAG,
    "squash_output": _FLAG,
    "share_features_extractor": _FLAG,
    "normalize_images": _FLAG,
    "clip_mean": _positive(2.0),
    "n_critics": _size("n_critics", 2),
    "action_noise_sigma": ArgKind(float, low=0, example=0.1),
    # sb3-contrib's algorithms and policies
    "top_quantiles_to_drop_per_net": _whole(0, 2),
    "n_quantiles": _size("n_quantiles", 25),
    "cg_max_steps": _whole(1, 15),
    "cg_damping": _positive(0.1),
    "line_search_shrinking_factor": ArgKind(float, low=0, high=1, above=True, example=0.8),
    "line_search_max_iter": _whole(1, 10),
    "n_critic_updates": _whole(1, 10),
    "sub_sampling_factor": _whole(1, 1),
    "n_delta": _whole(1, 8),
    "n_top": ArgKind(int, low=1, example=4, null=True),  # null: every direction
    "delta_std": _positive(0.05),
    "zero_policy": _FLAG,
    "alive_bonus_offset": ArgKind(float, example=0.0),
    "n_eval_episodes": _whole(1, 1),
    "with_bias": _FLAG,
    "lstm_hidden_size": _size("lstm_hidden_size", 256),
    "n_lstm_layers": ArgKind(int, low=1, high=MAX_LAYERS, example=1),
    "shared_lstm": _FLAG,
    "enable_critic_lstm": _FLAG,
    "batch_norm": _FLAG,
    "batch_norm_momentum": _share(0.01),
    "batch_norm_eps": _positive(1e-3),
    "renorm_warmup_steps": _whole(0, 100_000),
}
# Where one algorithm reads an argument differently from the others.
_LEARNT_ENTROPY = ArgKind(
    float,
    low=0,
    above=True,
    example="auto",
    words=("auto",),
    word_pattern=r"auto_\d*\.?\d+(?:[eE][-+]?\d+)?",
    word_help="'auto_0.1' (learnt, starting at 0.1)",
)
ALGORITHM_ARG_KINDS: dict[str, dict[str, ArgKind]] = {
    "sac": {"ent_coef": _LEARNT_ENTROPY},
    "tqc": {"ent_coef": _LEARNT_ENTROPY},
    "crossq": {"ent_coef": _LEARNT_ENTROPY},
    "trpo": {"target_kl": _positive(0.01)},  # TRPO's trust region: never off
    "qrdqn": {"max_grad_norm": ArgKind(float, low=0, above=True, example=10, null=True)},
}
# Whole-number arguments that the training layer also takes as a whole float (``1e6``).
CAST_TO_INT = frozenset(
    {
        "n_steps",
        "batch_size",
        "buffer_size",
        "learning_starts",
        "gradient_steps",
        "target_update_interval",
        "n_epochs",
    }
)


def arg_kind(algorithm: str, name: str) -> ArgKind | None:
    """What ``algorithm`` accepts for ``name``; None when the value is not a plain number."""
    return ALGORITHM_ARG_KINDS.get(algorithm, {}).get(name) or ARG_KINDS.get(name)


def algorithm_names() -> tuple[str, ...]:
    return tuple(ALGORITHM_ARGS)


def display_name(algorithm: str) -> str:
    """How the library spells ``algorithm``: PPO, TQC, QRDQN, RecurrentPPO, CrossQ."""
    return CONTRIB.get(algorithm) or algorithm.upper()


def contrib_installed() -> bool:
    """Whether sb3-contrib can be imported here (found, not imported: the UI stays light)."""
    return importlib.util.find_spec("sb3_contrib") is not None
