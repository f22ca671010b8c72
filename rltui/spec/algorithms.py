"""What each supported algorithm accepts, as data.

The study file is validated against these tables without importing torch or
Stable-Baselines3, so the UI can check a file as the user types. A test compares the tables
with SB3's own signatures, so they cannot drift apart silently.
"""

from __future__ import annotations

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

# Constructor arguments of each SB3 class that a study may set or search. Arguments that
# need Python objects (policy, env, replay_buffer_class, ...) are left out on purpose.
ALGORITHM_ARGS: dict[str, frozenset[str]] = {
    "ppo": frozenset(
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
    ),
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
    "dqn": _OFF_POLICY_ARGS
    | {
        "target_update_interval",
        "exploration_fraction",
        "exploration_initial_eps",
        "exploration_final_eps",
        "max_grad_norm",
    },
    "sac": _OFF_POLICY_ARGS
    | {
        "ent_coef",
        "target_update_interval",
        "target_entropy",
        "use_sde",
        "sde_sample_freq",
        "use_sde_at_warmup",
    },
    "td3": _OFF_POLICY_ARGS | {"policy_delay", "target_policy_noise", "target_noise_clip"},
    "ddpg": _OFF_POLICY_ARGS,
}

# Policy keyword arguments, given flat in the study file (``net_arch: medium``) and moved into
# ``policy_kwargs`` by the training layer.
POLICY_ARGS: dict[str, frozenset[str]] = {
    "ppo": frozenset(
        [
            "net_arch",
            "activation_fn",
            "ortho_init",
            "log_std_init",
            "full_std",
            "use_expln",
            "squash_output",
            "share_features_extractor",
            "normalize_images",
            "optimizer_class",
            "optimizer_kwargs",
        ]
    ),
    "sac": frozenset(
        [
            "net_arch",
            "activation_fn",
            "log_std_init",
            "use_expln",
            "clip_mean",
            "n_critics",
            "share_features_extractor",
            "normalize_images",
            "optimizer_class",
            "optimizer_kwargs",
        ]
    ),
    "td3": frozenset(
        [
            "net_arch",
            "activation_fn",
            "n_critics",
            "share_features_extractor",
            "normalize_images",
            "optimizer_class",
            "optimizer_kwargs",
        ]
    ),
    "dqn": frozenset(
        ["net_arch", "activation_fn", "normalize_images", "optimizer_class", "optimizer_kwargs"]
    ),
}
POLICY_ARGS["a2c"] = POLICY_ARGS["ppo"]
POLICY_ARGS["ddpg"] = POLICY_ARGS["td3"]

# Settings of rltui's own that are not SB3 arguments but are tuned like hyperparameters.
EXTRA_ARGS: dict[str, frozenset[str]] = {
    "ppo": frozenset({"learning_rate_schedule"}),
    "a2c": frozenset({"learning_rate_schedule"}),
    "dqn": frozenset({"learning_rate_schedule"}),
    "sac": frozenset({"learning_rate_schedule", "action_noise", "action_noise_sigma"}),
    "td3": frozenset({"learning_rate_schedule", "action_noise", "action_noise_sigma"}),
    "ddpg": frozenset({"learning_rate_schedule", "action_noise", "action_noise_sigma"}),
}

OFF_POLICY = frozenset({"dqn", "sac", "td3", "ddpg"})
DISCRETE_ONLY = frozenset({"dqn"})
CONTINUOUS_ONLY = frozenset({"sac", "td3", "ddpg"})

# Names accepted for values that stand for Python objects: resolved by name, never evaluated.
NET_ARCH_PRESETS: dict[str, list[int]] = {
    "tiny": [8],
    "small": [64, 64],
    "medium": [256, 256],
    "large": [400, 300],
    "wide": [512, 512],
}
ACTIVATIONS = ("tanh", "relu", "elu", "leaky_relu", "gelu", "silu")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
ACTION_NOISES = ("none", "normal", "ornstein_uhlenbeck")
LR_SCHEDULES = ("constant", "linear")


def algorithm_names() -> tuple[str, ...]:
    return tuple(ALGORITHM_ARGS)


def accepted_hyperparameters(algorithm: str) -> frozenset[str]:
    """Every key a study may set or search for ``algorithm`` (lower-case SB3 name)."""
    return ALGORITHM_ARGS[algorithm] | POLICY_ARGS[algorithm] | EXTRA_ARGS[algorithm]
