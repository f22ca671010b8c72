"""What the keys of a composed Hydra config mean to a study: the names projects give the env
id, the algorithm, the budget and the env's setup, and the walk over a config's values.

Projects name these things in many ways; the tables hold the common ones (``env.id``,
``env_id``, ``algorithm: ppo``, ``agent._target_: stable_baselines3.PPO``,
``total_timesteps``, ``n_envs``). A key found in none is the algorithm's hyperparameter when
its last part names one, and is otherwise left out with a hint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rltui.convert.zoo_import import ZOO_ALGORITHMS
from rltui.spec import algorithms as algos
from rltui.spec import policy as pol
from rltui.spec.zoo import ZOO_ACTIVATIONS, ZOO_OPTIMIZERS

ConfigPath = tuple[Any, ...]
"""Where a value stands in a config: its keys, and list indices, from the top."""
_ENV_KEYS = frozenset({"env_id", "env_name", "gym_id", "environment_id", "env", "environment"})
_ENV_PARENTS = frozenset({"env", "environment", "task"})
_ALGORITHM_KEYS = frozenset({"algo", "algorithm", "algo_name", "algorithm_name", "agent"})
_ALGORITHM_PARENTS = frozenset({"agent", "algo", "algorithm", "model"})
_TIMESTEPS = frozenset(
    {"total_timesteps", "n_timesteps", "timesteps", "num_timesteps", "total_steps"}
)
_TRAIN_KEYS = {
    "n_envs": "n_envs",
    "num_envs": "n_envs",
    "seed": "seed",
    "policy": "policy",
    "env_kwargs": "env_kwargs",
    "normalize": "normalize",
    "frame_stack": "frame_stack",
    "vec_env": "vec_env",
    "env_wrapper": "env_wrapper",
}
_EVAL_KEYS = {"eval_freq": "every", "n_eval_episodes": "episodes", "eval_episodes": "episodes"}
_CLASS_NAMES = {"activation_fn": ZOO_ACTIVATIONS, "optimizer_class": ZOO_OPTIMIZERS}


def leaves(
    node: dict[str, Any], whole: frozenset[str], path: ConfigPath = ()
) -> Iterator[tuple[ConfigPath, Any]]:
    """Each value of a composed config with its path; a mapping under a key in ``whole`` is one
    value (a hyperparameter's, such as policy_kwargs)."""
    for key, value in node.items():
        here = (*path, key)
        if isinstance(value, dict) and value and str(key) not in whole:
            yield from leaves(value, whole, here)
        else:
            yield here, value


def dotted(path: ConfigPath) -> str:
    """``path`` as Hydra's overrides write it: ``agent.policy_kwargs.net_arch``."""
    return ".".join(str(part) for part in path)


def algorithm_named(path: ConfigPath, value: Any) -> str | None:
    """The algorithm a value names: ``algorithm: ppo``, ``agent.name: sac``, or an
    instantiation target ``stable_baselines3.PPO``."""
    if not isinstance(value, str):
        return None
    key, parent = str(path[-1]), str(path[-2]) if len(path) > 1 else ""
    word = value.rpartition(".")[2] if key == "_target_" else value
    names = {algos.display_name(a).lower(): a for a in algos.ALGORITHM_ARGS}
    names.update(ZOO_ALGORITHMS)
    named = (
        key == "_target_"
        or key in _ALGORITHM_KEYS
        or (key == "name" and parent in _ALGORITHM_PARENTS)
    )
    return names.get(word.lower()) if named else None


def setting_of(path: ConfigPath, value: Any) -> str | None:
    """The study setting a config key names (``timesteps``, ``train.n_envs``, ``eval.every``),
    or None."""
    key, parent = str(path[-1]), str(path[-2]) if len(path) > 1 else ""
    if algorithm_named(path, value) is not None:
        return "algorithm"
    if isinstance(value, str) and (
        key in _ENV_KEYS or (key in ("id", "name") and parent in _ENV_PARENTS)
    ):
        return "env"
    if key in _TIMESTEPS:
        return "timesteps"
    if key in _TRAIN_KEYS:
        return f"train.{_TRAIN_KEYS[key]}"
    if key in _EVAL_KEYS:
        return f"eval.{_EVAL_KEYS[key]}"
    if key == "device":
        return "device"
    return None


def class_names(key: str, value: Any) -> Any:
    """Class names as Hydra projects write them (``torch.nn.ReLU``, ``{_target_:
    hydra.utils.get_class, path: torch.nn.ReLU}``) as the names a study uses (``relu``)."""
    if isinstance(value, dict) and key == pol.POLICY_KWARGS:
        return {k: class_names(k, v) for k, v in value.items()}
    table = _CLASS_NAMES.get(key)
    if table is None:
        return value
    written = value.get("path") or value.get("_target_") if isinstance(value, dict) else value
    return table.get(str(written).rpartition(".")[2], value) if written else value


def drop_fixed(fixed: dict[str, Any], parts: list[str]) -> None:
    """Remove what a searched name sets from the fixed values: a value is set in one place."""
    node: Any = fixed
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(parts[-1], None)
    if len(parts) > 1 and fixed.get(parts[0]) == {}:
        del fixed[parts[0]]
