"""Training one trial with SB3: learn in rollout-sized chunks, evaluate, report, obey control.

Learning runs in chunks aligned to the algorithm's natural boundary (a full rollout for PPO
and A2C, a multiple of ``train_freq`` for off-policy algorithms). Between chunks the trainer
evaluates, reports to Optuna and carries out a pause with a checkpoint: a trial paused there
continues with exactly the state it would have had, so its result equals an unpaused run.
Kill and prune act within one environment step through a callback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from stable_baselines3 import A2C, DDPG, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import sync_envs_normalization

from rltui.spec import Study
from rltui.train import checkpoint
from rltui.train.envs import TrialEnvs, make_envs
from rltui.train.hyperparams import model_kwargs
from rltui.train.progress import ProgressLog

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    "ppo": PPO, "a2c": A2C, "dqn": DQN, "sac": SAC, "td3": TD3, "ddpg": DDPG,
}


class TrialFailed(Exception):
    """The trial cannot go on (NaN reward, bad hyperparameter value, ...)."""


class Reporter(Protocol):
    """What the trainer needs from its worker."""

    def report(self, step: int, value: float) -> bool:
        """Record an evaluation; True when the pruner says the trial should stop."""

    def requested(self) -> str | None:
        """A pending user request for this trial: 'pause', 'prune', 'kill', or None."""

    def progress(self, timesteps: int) -> None:
        """Called often with the timesteps done; must be cheap."""

    def checkpointed(self, path: Path, timesteps: int) -> None:
        """A checkpoint to retry from was written (only when the study allows retries)."""


@dataclass
class Outcome:
    """How a trial's training ended."""

    evaluations: list[tuple[int, float]]
    timesteps: int
    stopped: str | None = None  # None: budget reached; else 'pruned', 'prune', 'pause', 'kill'
    checkpoint: Path | None = None
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def budget_aware(cls: type[BaseAlgorithm]) -> type[BaseAlgorithm]:
    """``cls`` whose schedules (learning rate, DQN exploration) run over the whole trial budget
    even though learning happens in chunks."""

    def _update_current_progress_remaining(self: Any, num_timesteps: int, total_timesteps: int) -> None:
        budget = getattr(self, "rltui_budget", None) or total_timesteps
        cls._update_current_progress_remaining(self, num_timesteps, budget)

    return type(cls.__name__, (cls,), {"_update_current_progress_remaining": _update_current_progress_remaining})


class _StopOnRequest(BaseCallback):
    """Ends ``learn()`` within one step when the user prunes or kills the trial."""

    def __init__(self, reporter: Reporter):
        super().__init__()
        self.reporter = reporter

    def _on_step(self) -> bool:
        self.reporter.progress(self.num_timesteps)
        return self.reporter.requested() not in ("prune", "kill")


def chunk_size(model: BaseAlgorithm) -> int:
    """Timesteps between two points where learning can stop without losing state."""
    n_envs = model.n_envs
    if isinstance(model, OffPolicyAlgorithm):
        freq = model.train_freq.frequency if model.train_freq.unit.value == "step" else 1
        unit = max(1, freq) * n_envs
        return unit * max(1, math.ceil(1000 / unit))
    return int(getattr(model, "n_steps", 1)) * n_envs


def train_sb3(
    study: Study,
    params: dict[str, Any],
    reporter: Reporter,
    *,
    device: str,
    seed: int | None,
    checkpoint_dir: Path,
    resume: Path | None = None,
    log: ProgressLog | None = None,
    checkpoint_on_eval: bool = False,
) -> Outcome:
    """Train one configuration until its budget, a pruning decision, or a user request."""
    spec = study.spec.train
    assert spec.algorithm is not None
    cls = budget_aware(ALGORITHMS[spec.algorithm])
    envs = make_envs(study, seed)
    try:
        if resume is not None:
            model, envs, state = checkpoint.load(resume, cls, envs, device)
        else:
            kwargs = model_kwargs(spec.algorithm, params, envs.train.action_space)
            try:
                model = cls(spec.policy, envs.train, seed=seed, device=device, verbose=0, **kwargs)
            except (TypeError, ValueError, AssertionError) as exc:
                raise TrialFailed(f"SB3 rejected the hyperparameters: {exc}") from exc
            model.rltui_budget = spec.timesteps  # type: ignore[attr-defined]
            state = checkpoint.TrainerState(next_eval=spec.eval_every)
        if log is not None:
            model.set_logger(log.sb3_logger())
        return _loop(study, model, envs, state, reporter, checkpoint_dir, log, checkpoint_on_eval)
    finally:
        envs.close()


def _loop(
    study: Study,
    model: BaseAlgorithm,
    envs: TrialEnvs,
    state: checkpoint.TrainerState,
    reporter: Reporter,
    checkpoint_dir: Path,
    log: ProgressLog | None,
    checkpoint_on_eval: bool,
) -> Outcome:
    spec = study.spec.train
    stop_cb = _StopOnRequest(reporter)
    step = chunk_size(model)
    out = Outcome(state.evaluations, model.num_timesteps)
    while model.num_timesteps < spec.timesteps:
        request = reporter.requested()
        if request == "pause":
            out.checkpoint = checkpoint.save(checkpoint_dir, model, envs, state)
            out.stopped = "pause"
            break
        if request in ("prune", "kill"):
            out.stopped = request
            break
        started = time.perf_counter()
        model.learn(min(step, spec.timesteps - model.num_timesteps), callback=stop_cb,
                    reset_num_timesteps=False, progress_bar=False)
        out.train_seconds += time.perf_counter() - started
        reporter.progress(model.num_timesteps)
        if reporter.requested() in ("prune", "kill"):
            out.stopped = reporter.requested()
            break
        if model.num_timesteps >= state.next_eval or model.num_timesteps >= spec.timesteps:
            started = time.perf_counter()
            value = evaluate(study, model, envs)
            out.eval_seconds += time.perf_counter() - started
            state.evaluations.append((model.num_timesteps, value))
            while state.next_eval <= model.num_timesteps:
                state.next_eval += spec.eval_every
            if log is not None:
                log.evaluation(model.num_timesteps, value)
            if reporter.report(model.num_timesteps, value):
                out.stopped = "pruned"
                break
            if checkpoint_on_eval and model.num_timesteps < spec.timesteps:
                path = checkpoint.save(checkpoint_dir, model, envs, state)
                reporter.checkpointed(path, model.num_timesteps)
    out.timesteps = model.num_timesteps
    out.evaluations = state.evaluations
    return out


def evaluate(study: Study, model: BaseAlgorithm, envs: TrialEnvs) -> float:
    spec = study.spec.train.eval
    sync_envs_normalization(envs.train, envs.eval)
    mean, _std = evaluate_policy(model, envs.eval, n_eval_episodes=spec.episodes,
                                 deterministic=spec.deterministic, warn=False)
    mean = float(mean)
    if not math.isfinite(mean):
        raise TrialFailed(f"the evaluation's mean reward is {mean} at {model.num_timesteps} timesteps")
    return mean


def objective(evaluations: list[tuple[int, float]], kind: str, k: int, maximize: bool) -> float | None:
    """The trial's value from its evaluations: last, best, or mean of the last k."""
    values = [v for _, v in evaluations]
    if not values:
        return None
    if kind == "best":
        return max(values) if maximize else min(values)
    if kind == "mean_last":
        tail = values[-k:]
        return sum(tail) / len(tail)
    return values[-1]


ObjectiveFn = Callable[[list[tuple[int, float]]], float | None]
