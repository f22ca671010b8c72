"""New values for the hyperparameters a loaded model may change between two segments of
training (:data:`rltui.spec.pbt.MUTABLE`), written where the algorithm reads them.

Setting the attribute of the same name is not always enough: SB3 turns some values into
schedules when the model is built (learning rate, PPO's clip range, ARS's exploration noise,
DQN's exploration), and buffers keep their own copies (the rollout buffer's ``gamma`` and
``gae_lambda``, the n-step replay buffer's ``gamma``). :func:`retune` writes every place the
next update reads, and only values that pickle, since the model is saved again.

Retune a model after its replay buffer is loaded: loading one brings back the buffer's own
``gamma``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import FloatSchedule, LinearSchedule

from rltui.spec.pbt import MUTABLE
from rltui.train.hyperparams import LinearSchedule as LinearLearningRate
from rltui.train.hyperparams import ModelRefused

__all__ = ["HANDLED", "retune"]

Setter = Callable[[Any, Any, Mapping[str, Any]], None]


def retune(model: BaseAlgorithm, algorithm: str, values: Mapping[str, Any]) -> list[str]:
    """Apply to ``model`` (of ``algorithm``, a lower-case name of :data:`MUTABLE`) each value
    of ``values`` whose name ``algorithm`` may change during training, so that its next update
    uses it; returns the names applied, in the order of ``values``.

    Other names are ignored: ``values`` may hold all of a trial's parameters. Whole numbers may
    come as floats (``8.0``, or ``9.6`` once perturbed): they are rounded. Raises
    :class:`ModelRefused` for a value the algorithm cannot train with (a PPO minibatch of one,
    more TQC quantiles dropped than there are), before anything is changed."""
    allowed = MUTABLE.get(algorithm, frozenset())
    missing = sorted(allowed - HANDLED.keys())
    if missing:  # a name added to the table without a way to apply it
        raise NotImplementedError(f"no way to apply {', '.join(missing)} to a loaded model")
    names = [name for name in values if name in allowed]
    for name in names:
        _CHECKS.get(name, _no_check)(model, values[name])
    for name in names:
        HANDLED[name](model, values[name], values)
    return names


# --- numbers as SB3 needs them ---------------------------------------------------------------


def _float(value: Any) -> float:
    return float(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _whole(value: Any) -> int:
    """An int setting: Optuna stores ``8.0``, and a perturbed one can be ``9.6``."""
    return round(float(value))


def _refuse(name: str, value: Any, why: str, hint: str) -> ModelRefused:
    return ModelRefused(f"{name} = {value!r} cannot be applied: {why}; {hint}")


# --- checks made before anything changes -----------------------------------------------------


def _no_check(model: Any, value: Any) -> None:
    return None


def _check_batch_size(model: Any, value: Any) -> None:
    size = _whole(value)
    # PPO (and RecurrentPPO: the algorithms with a clip range) normalises advantages within
    # each minibatch and refuses minibatches of one; TRPO normalises them over the rollout.
    per_minibatch = hasattr(model, "clip_range") and getattr(model, "normalize_advantage", False)
    if size < 2 and per_minibatch:
        raise _refuse(
            "batch_size",
            value,
            "advantages of one sample cannot be normalised",
            "search batch sizes of 2 or more",
        )
    if size < 1:
        raise _refuse("batch_size", value, "a batch needs a sample", "search sizes of 1 or more")


def _at_least_one(name: str) -> Callable[[Any, Any], None]:
    def check(model: Any, value: Any) -> None:
        if _whole(value) < 1:
            raise _refuse(name, value, "it must be 1 or more", f"search {name} from 1 up")

    return check


def _check_quantiles(model: Any, value: Any) -> None:
    # TQC keeps quantiles_total - drop * n_critics quantiles for its target at every update.
    critic = model.critic
    drop = _whole(value)
    if drop < 0 or drop * critic.n_critics >= critic.quantiles_total:
        most = (critic.quantiles_total - 1) // critic.n_critics
        raise _refuse(
            "top_quantiles_to_drop_per_net",
            value,
            f"each of the {critic.n_critics} critics has {critic.n_quantiles} quantiles and "
            "at least one must be left for the target",
            f"search values from 0 to {most}",
        )


def _check_unit(name: str) -> Callable[[Any, Any], None]:
    def check(model: Any, value: Any) -> None:
        if not 0.0 <= float(value) <= 1.0:
            raise _refuse(name, value, "it must lie between 0 and 1", "search within [0, 1]")

    return check


def _check_ent_coef(model: Any, value: Any) -> None:
    # SAC-like algorithms weigh the entropy by a tensor of their own (ent_coef_tensor, or a
    # learned one), so setting the attribute would change nothing.
    if not isinstance(model, OnPolicyAlgorithm):
        raise NotImplementedError(f"{type(model).__name__} does not read ent_coef that way")


_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "ent_coef": _check_ent_coef,
    "batch_size": _check_batch_size,
    "n_epochs": _at_least_one("n_epochs"),
    "target_update_interval": _at_least_one("target_update_interval"),
    "policy_delay": _at_least_one("policy_delay"),
    "top_quantiles_to_drop_per_net": _check_quantiles,
    "exploration_final_eps": _check_unit("exploration_final_eps"),
}


# --- where each value goes -------------------------------------------------------------------


def _learning_rate(model: Any, value: Any, values: Mapping[str, Any]) -> None:
    # Every train() sets the optimizers' rate from lr_schedule (ARS reads it directly); the
    # learning_rate attribute is what load() builds lr_schedule from again.
    kind = values.get("learning_rate_schedule")
    if kind is None:
        kind = "linear" if isinstance(model.learning_rate, LinearLearningRate) else "constant"
    rate = float(value)
    model.learning_rate = LinearLearningRate(rate) if kind == "linear" else rate
    model.lr_schedule = FloatSchedule(model.learning_rate)


def _clip_range(model: Any, value: Any, values: Mapping[str, Any]) -> None:
    model.clip_range = FloatSchedule(float(value))


def _delta_std(model: Any, value: Any, values: Mapping[str, Any]) -> None:
    model.delta_std_schedule = FloatSchedule(float(value))


def _gamma(model: Any, value: Any, values: Mapping[str, Any]) -> None:
    gamma = float(value)
    model.gamma = gamma
    if isinstance(model, OnPolicyAlgorithm):
        model.rollout_buffer.gamma = gamma  # the returns and advantages are computed there
    if isinstance(model, OffPolicyAlgorithm):
        # An n-step replay buffer discounts its sampled returns itself, and is built again
        # from replay_buffer_kwargs when the model is loaded without its buffer.
        if model.replay_buffer is not None and hasattr(model.replay_buffer, "gamma"):
            model.replay_buffer.gamma = gamma
        if "gamma" in model.replay_buffer_kwargs:
            model.replay_buffer_kwargs["gamma"] = gamma


def _gae_lambda(model: Any, value: Any, values: Mapping[str, Any]) -> None:
    model.gae_lambda = float(value)
    model.rollout_buffer.gae_lambda = model.gae_lambda


def _exploration_final_eps(model: Any, value: Any, values: Mapping[str, Any]) -> None:
    # As DQN's _setup_model builds it; the rate itself is set again at every env step, but the
    # first action after loading is drawn with the rate saved with the model.
    model.exploration_final_eps = float(value)
    model.exploration_schedule = LinearSchedule(
        model.exploration_initial_eps, model.exploration_final_eps, model.exploration_fraction
    )
    model.exploration_rate = model.exploration_schedule(model._current_progress_remaining)


def _attribute(name: str, cast: Callable[[Any], Any]) -> Setter:
    """A value read from the attribute of the same name at every update."""

    def apply(model: Any, value: Any, values: Mapping[str, Any]) -> None:
        setattr(model, name, cast(value))

    return apply


HANDLED: dict[str, Setter] = {
    "learning_rate": _learning_rate,
    "clip_range": _clip_range,
    "delta_std": _delta_std,
    "gamma": _gamma,
    "gae_lambda": _gae_lambda,
    "exploration_final_eps": _exploration_final_eps,
    "ent_coef": _attribute("ent_coef", _float),
    "vf_coef": _attribute("vf_coef", _float),
    "max_grad_norm": _attribute("max_grad_norm", _optional_float),
    "n_epochs": _attribute("n_epochs", _whole),
    "batch_size": _attribute("batch_size", _whole),
    "target_kl": _attribute("target_kl", _optional_float),
    "tau": _attribute("tau", _float),
    "gradient_steps": _attribute("gradient_steps", _whole),
    # DQN divides it by n_envs where it reads it (_on_step), not when the model is built.
    "target_update_interval": _attribute("target_update_interval", _whole),
    "policy_delay": _attribute("policy_delay", _whole),
    "target_policy_noise": _attribute("target_policy_noise", _float),
    "target_noise_clip": _attribute("target_noise_clip", _float),
    # TQC derives the quantiles its target keeps from it at every update.
    "top_quantiles_to_drop_per_net": _attribute("top_quantiles_to_drop_per_net", _whole),
}
"""How each name of :data:`MUTABLE` is applied to a loaded model."""
