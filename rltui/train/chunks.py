"""Learning in chunks: where a chunk may end, learning up to there, and what stops
``learn()`` within one step when the user prunes or kills the trial.

Chunks end only where SB3 would have finished a rollout (PPO, A2C) or a ``train_freq``
window (off-policy algorithms) anyway, so that a trial stopped between two chunks, and
continued from a checkpoint, goes on with exactly the state it would have had.

A prune or kill needs no such boundary: its model is thrown away. SB3 calls the callback at
each environment step, and nothing between the gradient steps that follow a rollout, which
can take minutes (a batch of 8 over 20 epochs of a 16,384-step rollout is 40,960 of them).
So while a chunk learns, every optimizer step first checks for a prune or kill
(:func:`stops_inside_updates`), and the worker keeps its process instead of being ended
after the grace it gives training to stop.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit

from rltui.search.lifecycle import ControlAction

if TYPE_CHECKING:
    from rltui.train.trainer import Reporter

# The requests that end training at once (a pause first writes a checkpoint).
STOPS = (ControlAction.PRUNE, ControlAction.KILL)


class StopOnRequest(BaseCallback):
    """Ends ``learn()`` within one step when the user prunes or kills the trial, or when
    ``limit`` timesteps are reached (the budget, when train_freq counts episodes)."""

    def __init__(self, reporter: Reporter, report_progress: bool = True):
        super().__init__()
        self.reporter = reporter
        self.report_progress = report_progress
        self.limit: int | None = None

    def _on_step(self) -> bool:
        if self.report_progress:
            self.reporter.progress(self.num_timesteps)
        if self.limit is not None and self.num_timesteps >= self.limit:
            return False
        return self.reporter.requested() not in STOPS


class Stopped(Exception):
    """A prune or kill that arrived during a gradient phase, raised from the optimizer."""

    def __init__(self, request: ControlAction) -> None:
        super().__init__(request.value)
        self.request = request


@contextmanager
def stops_inside_updates(reporter: Reporter) -> Iterator[None]:
    """While inside, each optimizer step of this process (any algorithm's, any optimizer's)
    raises :class:`Stopped` when the user has asked to prune or kill the trial."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    def check(_optimizer: Any, _args: Any, _kwargs: Any) -> None:
        request = reporter.requested()
        if request in STOPS:
            assert request is not None
            raise Stopped(request)

    handle = register_optimizer_step_pre_hook(check)
    try:
        yield
    finally:
        handle.remove()


def boundary(model: BaseAlgorithm) -> int | None:
    """Timesteps between two points where learning can stop without losing state: one
    rollout, or one ``train_freq`` window; None when windows are counted in episodes."""
    n_envs = model.n_envs
    if isinstance(model, OffPolicyAlgorithm):
        # SB3 turns train_freq into a TrainFreq(frequency, unit) when the model is built.
        train_freq: Any = model.train_freq
        if train_freq.unit.value != "step":
            return None
        return max(1, train_freq.frequency) * n_envs
    if not isinstance(model, OnPolicyAlgorithm):
        return None  # ARS: each update plays whole episodes, of no length known in advance
    return int(model.n_steps) * n_envs


def chunk_size(model: BaseAlgorithm) -> int:
    """The longest chunk: one rollout for on-policy algorithms; for off-policy ones, whose
    windows can be a single step, whole windows of about 1,000 steps, so that the cost of a
    ``learn()`` call stays negligible."""
    unit = boundary(model) or model.n_envs
    if isinstance(model, OffPolicyAlgorithm):
        return unit * max(1, math.ceil(1000 / unit))
    return unit


def chunk_end(now: int, next_eval: int, budget: int, chunk: int, unit: int | None) -> int:
    """Where the chunk starting at ``now`` ends: after ``chunk`` timesteps, at the first
    boundary at or after the next planned evaluation, or at the budget, whichever is first.

    Chunks start and end on multiples of ``unit`` (the budget aside), so learning stops only
    where SB3 would have finished a rollout or window anyway.
    """
    at_eval = -(-next_eval // unit) * unit if unit else next_eval
    return min(now + chunk, max(at_eval, now + 1), budget)


def learn_to(
    model: BaseAlgorithm, end: int, budget: int, unit: int | None, callback: StopOnRequest
) -> None:
    """Learn until ``end`` timesteps, and at the budget stop there, not past it.

    SB3 finishes the rollout or train_freq window it is in, so a budget that is no whole
    number of them ends with one shorter window, learned from like the others. A train_freq
    counted in episodes gives no step to aim at: the callback stops at the budget, and the
    episodes under way then are not learned from. n_envs envs step together, so a budget
    that n_envs does not divide ends at the multiple just above it: never short of the
    budget, and timesteps == budget whenever n_envs divides it.
    """
    steps = end - model.num_timesteps
    if steps <= 0:
        return
    tail = steps % unit if unit and end == budget else 0
    callback.limit = budget if unit is None and end == budget else None
    learn = partial(model.learn, callback=callback, reset_num_timesteps=False, progress_bar=False)
    if steps > tail:
        learn(steps - tail)
    if tail and model.num_timesteps < budget:
        with _short_window(model, tail):
            learn(tail)


@contextmanager
def _short_window(model: BaseAlgorithm, steps: int) -> Iterator[None]:
    """``model`` with a rollout or train_freq window of ``steps`` timesteps (whole steps of
    all its envs) instead of its own, for the last one of a budget."""
    per_env = -(-steps // model.n_envs)
    short: dict[str, Any] = {"train_freq": TrainFreq(per_env, TrainFrequencyUnit.STEP)}
    if not isinstance(model, OffPolicyAlgorithm):
        # A shorter copy of the model's own buffer, whatever its class (RecurrentPPO's too)
        buffer: Any = copy.copy(model.rollout_buffer)  # type: ignore[attr-defined]
        buffer.buffer_size = per_env
        if hasattr(buffer, "hidden_state_shape"):
            buffer.hidden_state_shape = (per_env, *buffer.hidden_state_shape[1:])
        buffer.reset()
        short = {"n_steps": per_env, "rollout_buffer": buffer}
    saved = {name: getattr(model, name) for name in short}
    for name, value in short.items():
        setattr(model, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(model, name, value)
