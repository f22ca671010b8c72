"""Training one trial with SB3: learn in rollout-sized chunks, evaluate, report, obey control.

Learning runs in chunks aligned to the algorithm's natural boundary (a full rollout for PPO
and A2C, a multiple of ``train_freq`` for off-policy algorithms). Between chunks the trainer
evaluates, reports to Optuna and carries out a pause with a checkpoint: a trial paused there
continues with exactly the state it would have had, so its result equals an unpaused run.
A chunk also ends at the first boundary at or after each planned evaluation, so evaluations
are as frequent as the study asks, and the last one stops at the budget. Kill and prune act
within one environment step through a callback, and within one gradient step through the
optimizer (:mod:`rltui.train.chunks`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import sync_envs_normalization

from rltui.search.lifecycle import ControlAction, StopCause
from rltui.spec import StudyFile, target
from rltui.spec.policy import policy_of
from rltui.train import checkpoint
from rltui.train.chunks import (
    STOPS,
    StopOnRequest,
    Stopped,
    boundary,
    chunk_end,
    chunk_size,
    learn_to,
    stops_inside_updates,
)
from rltui.train.envs import TrialEnvs, make_envs
from rltui.train.evaluations import planned_step
from rltui.train.hyperparams import ALGORITHMS as ALGORITHMS  # callers look these two up here
from rltui.train.hyperparams import ModelRefused, new_model, trial_class
from rltui.train.hyperparams import budget_aware as budget_aware
from rltui.train.progress import ProgressLog


class TrialFailed(Exception):
    """The trial cannot go on (NaN reward, bad hyperparameter value, ...)."""


class Reporter(Protocol):
    """What the trainer needs from the worker running its trial (a worker's running trial,
    :class:`rltui.worker.heartbeat.RunningTrial`; tests script their own)."""

    def report(self, step: int, value: float) -> bool:
        """Record an evaluation; True when the pruner says the trial should stop."""

    def requested(self) -> ControlAction | None:
        """A pending user request for this trial (pause, prune, kill), or None."""

    def progress(self, timesteps: int) -> None:
        """Called often with the timesteps done; must be cheap."""

    def checkpointed(self, path: Path, timesteps: int) -> None:
        """A checkpoint to retry from was written (only when the study allows retries)."""


@dataclass
class Outcome:
    """How a trial's training ended."""

    evaluations: list[tuple[int, float]]
    timesteps: int
    stopped: StopCause | None = None  # None: it ran its budget
    checkpoint: Path | None = None
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Run:
    """One seed's model, envs and trainer state, and the state of the process-wide random
    generators (Python's, NumPy's, torch's) as this seed left them."""

    seed: int | None
    model: BaseAlgorithm
    envs: TrialEnvs
    state: checkpoint.TrainerState
    rng: Any = field(default_factory=checkpoint.capture_rng)

    @contextmanager
    def own_rng(self) -> Iterator[None]:
        """Run with this seed's random generators. SB3 explores and samples its replay buffer
        from NumPy's global generator (DQN: np.random.rand, randint), so seeds trained in
        turn in one process would otherwise draw from one stream: a seed's result would
        depend on which seeds train beside it, and seed 0 among three would not be seed 0
        alone."""
        checkpoint.restore_rng(self.rng)
        try:
            yield
        finally:
            self.rng = checkpoint.capture_rng()


def train_sb3(
    study: StudyFile,
    params: dict[str, Any],
    reporter: Reporter,
    *,
    device: str,
    seed: int | None,
    checkpoint_dir: Path,
    resume: Path | None = None,
    log: ProgressLog | None = None,
    checkpoint_on_eval: bool = False,
    stop_at: int | None = None,
    retune: bool = False,
) -> Outcome:
    """Train one configuration until its budget, a pruning decision, or a user request.

    ``stop_at`` ends training earlier, at the first boundary at or after that many timesteps
    (a PBT segment's end), with an evaluation and a checkpoint there (``Outcome.checkpoint``);
    the budget still sets the schedules and the final evaluation. An evaluation that reaches
    ``train.target`` ends the trial there (``Outcome.extra["target"]``: its step). ``retune``
    applies the hyperparameters that may change during training (:mod:`rltui.train.retune`)
    to a model loaded from ``resume``: a PBT segment goes on from a checkpoint with values of
    its own.

    With ``train.seeds`` the configuration trains once per seed, in lockstep, and each
    evaluation reported to Optuna is the mean over the seeds.

    ``checkpoint_dir`` is the trial's folder (``<checkpoint root>/trial-N``); ``resume`` is
    loaded only from there, once trusted (:class:`checkpoint.CheckpointRefused` otherwise,
    before training starts). The log then keeps no rows past the step training resumes at.
    """
    seeds = study.spec.train.seed_list if study.spec.train.seeds else [seed]
    runs: list[_Run] = []
    try:
        for index, run_seed in enumerate(seeds):
            saved = checkpoint.latest(resume / f"seed-{index}") if resume is not None else None
            runs.append(_start(study, params, run_seed, device, saved, checkpoint_dir))
            if retune and saved is not None:
                from rltui.train.retune import retune as apply

                assert study.spec.train.algorithm is not None
                apply(runs[-1].model, study.spec.train.algorithm, params)
        if log is not None:  # rows a lost run wrote past its last checkpoint are gone
            log.truncate_after(runs[0].model.num_timesteps)
        # Every model gets a logger of ours: without one, SB3 makes a new SB3-<date> folder
        # in the temp dir at each learn() call, and training learns in many chunks.
        for index, run in enumerate(runs):
            logged = log is not None and index == 0
            run.model.set_logger(log.sb3_logger() if logged and log else Logger(None, []))
        return _loop(study, runs, reporter, checkpoint_dir, log, checkpoint_on_eval, stop_at)
    except ModelRefused as exc:  # the algorithm's library is missing on this machine
        raise TrialFailed(str(exc)) from exc
    finally:
        for run in runs:
            run.envs.close()


def _start(
    study: StudyFile,
    params: dict[str, Any],
    seed: int | None,
    device: str,
    saved: Path | None,
    trial_dir: Path,
) -> _Run:
    spec = study.spec.train
    assert spec.algorithm is not None
    cls = trial_class(spec.algorithm)
    envs = make_envs(study, seed)
    if saved is not None:
        try:
            model, envs, state = checkpoint.load(
                saved, trial_dir.parent, cls, envs, device, trial=trial_dir.name
            )
        except BaseException:
            envs.close()
            raise
        return _Run(seed, model, envs, state)
    model = build_model(study, params, envs, seed=seed, device=device)
    return _Run(seed, model, envs, checkpoint.TrainerState(next_eval=spec.eval_every))


def build_model(
    study: StudyFile, params: dict[str, Any], envs: TrialEnvs, *, seed: int | None, device: str
) -> BaseAlgorithm:
    """A new model for ``params`` (fixed and sampled) on ``envs.train``; closes the envs and
    raises :class:`TrialFailed` when SB3 refuses the values (or its library is missing)."""
    spec = study.spec.train
    assert spec.algorithm is not None
    try:
        return new_model(
            spec.algorithm, policy_of(spec), params, envs.train, seed, device, spec.timesteps
        )
    except ModelRefused as exc:
        envs.close()
        raise TrialFailed(str(exc)) from exc


def _save_all(runs: list[_Run], folder: Path) -> Path:
    for index, run in enumerate(runs):
        with run.own_rng():  # the checkpoint keeps this seed's generators
            checkpoint.save(folder / f"seed-{index}", run.model, run.envs, run.state)
    return folder


def _loop(
    study: StudyFile,
    runs: list[_Run],
    reporter: Reporter,
    checkpoint_dir: Path,
    log: ProgressLog | None,
    checkpoint_on_eval: bool,
    stop_at: int | None = None,
) -> Outcome:
    spec = study.spec.train
    stop_cb = StopOnRequest(reporter, report_progress=len(runs) == 1)
    lead = runs[0]
    unit, chunk = boundary(lead.model), chunk_size(lead.model)
    out = Outcome(_mean_curve(runs), lead.model.num_timesteps)
    goal = min(stop_at, spec.timesteps) if stop_at is not None else spec.timesteps
    wanted = target.reward_of(spec.target, spec.env)  # a reward that ends the trial solved
    while lead.model.num_timesteps < goal:
        request = reporter.requested()
        if request is ControlAction.PAUSE:
            out.checkpoint = _save_all(runs, checkpoint_dir)
            out.stopped = StopCause.PAUSE
            break
        if request in STOPS:
            out.stopped = StopCause.asked(request)
            break
        end = chunk_end(lead.model.num_timesteps, lead.state.next_eval, goal, chunk, unit)
        started = time.perf_counter()
        try:
            with stops_inside_updates(reporter):
                for run in runs:
                    with run.own_rng():
                        learn_to(run.model, end, spec.timesteps, unit, stop_cb)
        except Stopped as stop:  # inside a gradient phase: the model is thrown away
            out.stopped = StopCause.asked(stop.request)
            break
        finally:
            out.train_seconds += time.perf_counter() - started
        now = lead.model.num_timesteps
        reporter.progress(now)
        if (request := reporter.requested()) in STOPS:
            out.stopped = StopCause.asked(request)
            break
        if now >= lead.state.next_eval or now >= goal:
            point = planned_step(now, lead.state.next_eval, spec.eval_every, spec.timesteps)
            started = time.perf_counter()
            values = []
            for run in runs:
                with run.own_rng():
                    values.append(evaluate(study, run.model, run.envs, final=now >= spec.timesteps))
            out.eval_seconds += time.perf_counter() - started
            for run, value in zip(runs, values, strict=True):
                run.state.evaluations.append((point, value))
                while run.state.next_eval <= run.model.num_timesteps:
                    run.state.next_eval += spec.eval_every
            value = sum(values) / len(values)
            # The log keeps the timesteps trained, beside SB3's own rows, so that they never
            # go backwards; Optuna gets the planned point (see planned_step).
            if log is not None:
                log.evaluation(now, value, values if len(values) > 1 else None, point)
            # The final evaluation is reported but never pruned: a trial that spent its whole
            # budget is complete, whatever the median says; nor is one that reached the target.
            pruned = reporter.report(point, value)
            if wanted is not None and target.reached(value, wanted, study.spec.maximize_reward):
                out.extra["target"] = point
                break
            if pruned and point < spec.timesteps:
                out.stopped = StopCause.PRUNER
                break
            if now < spec.timesteps and (checkpoint_on_eval or now >= goal):
                saved = _save_all(runs, checkpoint_dir)
                reporter.checkpointed(saved, now)
                if now >= goal:
                    out.checkpoint = saved
    now = lead.model.num_timesteps
    # A retry of a segment whose worker was lost after its last save has nothing left to
    # train: its end checkpoint (the one it resumed from) is saved for the next segment.
    unsaved = out.stopped is None and out.checkpoint is None and now < spec.timesteps
    if stop_at is not None and unsaved:
        out.checkpoint = _save_all(runs, checkpoint_dir)
    out.timesteps = now
    out.evaluations = _mean_curve(runs)
    if len(runs) > 1:
        out.extra["seed_values"] = {
            str(run.seed): [v for _, v in run.state.evaluations] for run in runs
        }
    return out


def _mean_curve(runs: list[_Run]) -> list[tuple[int, float]]:
    curves = [run.state.evaluations for run in runs]
    return [
        (curves[0][i][0], sum(c[i][1] for c in curves) / len(curves))
        for i in range(min(map(len, curves)))
    ]


def evaluate(
    study: StudyFile, model: BaseAlgorithm, envs: TrialEnvs, *, final: bool = False
) -> float:
    """The mean return of ``model`` over the study's evaluation episodes (``final``: the last
    evaluation, which plays ``eval.final_episodes`` when the study sets it)."""
    spec = study.spec.train.eval
    episodes = spec.final_episodes if final and spec.final_episodes else spec.episodes
    sync_envs_normalization(envs.train, envs.eval)
    mean, _std = evaluate_policy(
        model,
        envs.eval,
        n_eval_episodes=episodes,
        deterministic=spec.deterministic,
        warn=False,
    )
    mean = float(mean)  # type: ignore[arg-type]  # a float unless return_episode_rewards=True
    if not math.isfinite(mean):
        raise TrialFailed(
            f"the evaluation's mean reward is {mean} at {model.num_timesteps} timesteps"
        )
    return mean
