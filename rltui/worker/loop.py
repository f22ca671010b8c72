"""The worker loop: claim a trial, train it, report, tell; until the budget is spent.

A worker is one process with one torch thread. It claims waiting trials in rltui's queue
order (:mod:`rltui.search.queue`: resumes and retries first, then "run next" clones, then the
rest as enqueued), each through the storage's atomic WAITING -> RUNNING change, and new ones
through Optuna's own ``ask()``, so any number of workers on any number of hosts can share one
storage. SIGTERM or SIGINT pause the running trial with a checkpoint and end the
worker; a second signal ends it at once.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

from rltui.search import attrs
from rltui.search.lifecycle import ControlAction, TrialStatus, status_of
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of
from rltui.search.queue import claim_next
from rltui.search.recovery import reap_lost_workers, trial_held_by
from rltui.search.storage import StudyHome, journal_path
from rltui.search.study import stored_spec
from rltui.search.workers import drain_key, new_record, stored_record
from rltui.spec import StudyFile
from rltui.train import checkpoint as ckpt
from rltui.train.progress import ProgressLog
from rltui.train.trainer import Outcome, TrialFailed, objective, train_sb3
from rltui.worker.session import STOP_GRACE, Heartbeat, TrialSession

optuna.logging.set_verbosity(optuna.logging.WARNING)

IDLE_POLL = 1.0  # seconds between looks for work while other workers' trials still train


class DeviceError(Exception):
    """A device this host cannot train on; the message says why and ``hint`` what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(f"{message} ({hint})")


class Worker:
    """One worker process's loop over trials of one study."""

    def __init__(
        self,
        ostudy: optuna.Study,
        storage_url: str,
        worker_id: str,
        *,
        index: int = 0,
        device: str | None = None,
        max_trials: int | None = None,
        log: str | None = None,
        study_file: Path | None = None,
    ):
        self.study = ostudy
        self.storage = storage_of(ostudy)
        self.study_id = study_id_of(ostudy)
        self.storage_url = storage_url
        self.id = worker_id
        self.index = index
        self.device_override = device
        self.max_trials = max_trials
        self.log = log
        self.study_file = study_file
        self._specs: dict[int, StudyFile] = {}
        self.stopping = False
        self.trials_done = 0
        self.session: TrialSession | None = None
        # Why the worker is told to stop (a signal, an unreachable checkpoint); its record
        # says so when it leaves. ``interrupted`` is the trial a signal paused, if any.
        self.stop_reason: str | None = None
        self.interrupted: int | None = None
        spec = self.current_spec()
        self.home = self._home(spec)
        self.heartbeat = Heartbeat(
            self.storage,
            self.study_id,
            new_record(worker_id, self.device_label(spec), log, index),
            spec.spec.control.heartbeat_interval,
            on_beat=self._on_beat,
            on_overdue=self._end_stuck_trial,
            on_lost=self._on_lost,
        )

    # -- setup ---------------------------------------------------------------------------
    def current_spec(self, version: int | None = None) -> StudyFile:
        """The study file in force (or ``version``), parsed once per version: the heartbeat
        asks every beat, and parsing YAML there would compete with training for the GIL."""
        if version is None:
            system = self.storage.get_study_system_attrs(self.study_id)
            version = int(system.get(attrs.SPEC_VERSION, 0))
        if version not in self._specs:
            self._specs[version] = stored_spec(self.storage, self.study_id, version)
        return self._specs[version]

    def _home(self, study: StudyFile) -> StudyHome:
        # The stored study file's path is another host's path for a remote worker: only a
        # file given on this command line, the configured folder, or the journal's folder count.
        folder = study.spec.control.checkpoint_dir
        journal = journal_path(self.storage_url)
        if folder:
            return StudyHome(Path(folder).expanduser() / study.spec.name).make()
        if self.study_file is not None:
            return StudyHome.beside(self.study_file).make()
        if journal is not None:
            return StudyHome(journal.parent).make()
        return StudyHome(Path.cwd() / f"{study.spec.name}.rltui").make()

    def device(self, study: StudyFile) -> str:
        return self.device_override or study.spec.device

    def device_label(self, study: StudyFile) -> str:
        """The device this worker trains on, as the workers view shows it (``cuda:0 NVIDIA
        H100 …``). Raises :class:`DeviceError` for a CUDA device this host does not have:
        SB3 would quietly train on the CPU instead."""
        import torch

        device = self.device(study)
        if device in ("auto", "cuda") or device.startswith("cuda:"):
            if torch.cuda.is_available():
                index = int(device.split(":")[1]) if ":" in device else 0
                count = torch.cuda.device_count()
                if index >= count:
                    raise DeviceError(
                        f"device {device} asked for, but this host has {count} GPU(s)",
                        f"use cuda:0 to cuda:{count - 1}, or --device cpu",
                    )
                return f"cuda:{index} {torch.cuda.get_device_name(index)}"
            if device == "auto":
                return "cpu"
            raise DeviceError(
                f"device {device} asked for, but torch {torch.__version__} sees no CUDA GPU here",
                "install a CUDA build of torch (README, 'GPU'), or use --device cpu or auto",
            )
        return device

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> int:
        import torch

        torch.set_num_threads(1)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        # Ctrl-Z on a worker in a terminal: a stopped worker may hold the journal's lock and
        # would hold up every other process of the study until it is continued.
        signal.signal(signal.SIGTSTP, self._on_suspend)
        self.heartbeat.update()
        self.heartbeat.start()
        print(
            f"worker {self.id} (pid {os.getpid()}) joined study '{self.study.study_name}'",
            flush=True,
        )
        reason = "ended: its loop stopped unexpectedly"
        try:
            while (leave := self._reason_to_leave()) is None:
                trial = self.claim()
                if trial is None:
                    if self._wait_for_work():
                        continue
                    leave = self._reason_to_leave() or self._budget_reached()
                    break
                self.run_trial(trial)
                self.trials_done += 1
            reason = leave
        except Exception as exc:
            reason = f"ended: {type(exc).__name__}: {exc}"
            raise
        finally:
            self.heartbeat.stop()
            self._leave(reason)
        print(f"worker {self.id} finished after {self.trials_done} trial(s): {reason}", flush=True)
        return 0

    def _reason_to_leave(self) -> str | None:
        """Why the worker should leave before claiming another trial; None while it stays."""
        if self.stopping:
            return self.stop_reason or "left: asked to stop"
        system = self.storage.get_study_system_attrs(self.study_id)
        if system.get(drain_key(self.id)):
            return "left: asked to stop (drain of this worker)"
        if system.get(attrs.DRAIN):
            return "left: the study is draining"
        if self.max_trials is not None and self.trials_done >= self.max_trials:
            return f"left: it ran the {self.max_trials} trial(s) --max-trials allowed"
        return None

    def _budget_reached(self) -> str:
        budget = (
            self.storage.get_study_system_attrs(self.study_id).get(attrs.BUDGET)
            or self.current_spec().n_trials
        )
        return f"left: the trial budget is reached ({budget} trial{'' if budget == 1 else 's'})"

    def _leave(self, reason: str) -> None:
        """Write the record of a worker that leaves, with why. A worker declared lost leaves
        its record as the one who declared it wrote it: lost, with what became of its trial."""
        if self.heartbeat.lost:
            return
        if self.interrupted is not None and reason.startswith("stopped by"):
            reason = f"{reason}: its trial {self.interrupted} was paused"
        self.heartbeat.update(state="exited", trial=None, trial_id=None, reason=reason)

    def _wait_for_work(self) -> bool:
        """With nothing to claim, stay while trials still train elsewhere: the heartbeat then
        settles them if their worker is lost, and a retry needs someone to run it. True when
        a trial waits to be claimed; False when nothing trains any more (or the worker is
        told to stop). Reads only live trials, never the whole study, while it waits."""
        while not self.stopping and not self._draining():
            live = self.storage.get_all_trials(
                self.study_id, deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)
            )
            if any(t.state == TrialState.WAITING for t in live):
                return True
            if not any(status_of(t) == TrialStatus.RUNNING for t in live):
                return False
            time.sleep(IDLE_POLL)
        return False

    def _on_suspend(self, _signum: int, _frame: Any) -> None:
        print(
            f"worker {self.id}: not suspended (a stopped worker would hold up the study); "
            "pause its trial with `rltui ctl pause N`, or stop the worker with Ctrl-C",
            flush=True,
        )

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self.stopping:  # a second signal: stop now, the heartbeat handles the trial
            os._exit(128 + signum)
        self.stopping = True
        self.stop_reason = f"stopped by {signal.Signals(signum).name}"
        if self.session is not None:
            self.session.ask(ControlAction.PAUSE.value)

    def _on_lost(self) -> None:
        """Called from the heartbeat thread when this worker finds it was declared lost: its
        trial was failed or given to another worker. It drops the trial and leaves; a worker
        that was frozen that long (a suspended laptop, a stalled VM) is best started again."""
        self.stopping = True
        # From now on the heartbeat rewrites the record as the declaring process left it
        # (lost, why, what became of the trial) instead of bringing this worker back to life.
        declared = stored_record(self.storage, self.study_id, self.id)
        if declared is not None:
            self.heartbeat.record = declared
        print(
            f"worker {self.id}: declared lost while it was silent for more than "
            f"{self.current_spec().spec.control.heartbeat_grace:g} s; another worker has "
            "handled its trial, so it drops the trial and leaves",
            flush=True,
        )

    def _end_stuck_trial(self, session: TrialSession, action: str) -> None:
        """Called from the heartbeat thread when the training has ignored a prune or kill for
        :data:`~rltui.worker.session.STOP_GRACE` seconds: record the trial's end as asked,
        then end this process, the only way to stop training code that does not return."""
        trial = session.trial
        note = "its training did not stop when asked, so its worker process was ended"
        print(f"trial {trial.number}: {action}: {note}", flush=True)
        try:
            if action == "kill":
                self.storage.set_trial_system_attr(
                    trial_id_of(trial), attrs.REASON, f"stopped by user ({note})"
                )
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                self.study.tell(trial, state=TrialState.PRUNED)
            self.heartbeat.update(
                state="exited",
                trial=None,
                trial_id=None,
                reason=(
                    f"ended: its trial {trial.number}'s training did not stop within "
                    f"{STOP_GRACE:g} s of a {action}, so its process was ended"
                ),
            )
            if not self.current_spec().spec.control.keep_checkpoints:
                ckpt.remove(self.home.checkpoints / f"trial-{trial.number}")
        finally:
            os._exit(3)

    def _draining(self) -> bool:
        system = self.storage.get_study_system_attrs(self.study_id)
        return bool(system.get(attrs.DRAIN) or system.get(drain_key(self.id)))

    def _on_beat(self) -> None:
        spec = self.current_spec()
        for line in reap_lost_workers(
            self.study,
            spec.spec.control.heartbeat_grace,
            spec.spec.control.retries,
            declared_by=f"worker {self.id}",
        ):
            print(line, flush=True)
        if self._draining() and self.heartbeat.record.state == "idle":
            self.heartbeat.record = replace(self.heartbeat.record, state="draining")

    @contextmanager
    def _claim_lock(self) -> Iterator[None]:
        # Counting trials and asking for a new one must not interleave between local workers,
        # or the study would overshoot its budget. Databases shared by hosts rely on Optuna.
        with open(self.home.root / "claim.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def claim(self) -> optuna.Trial | None:
        """The next trial to run: a waiting one in queue order (resumes and retries first,
        then enqueued trials, "run next" ones ahead: :mod:`rltui.search.queue`), else a new
        one while the budget lasts; None when there is nothing left to do."""
        # Settle lost workers first: their trials may be waiting for a retry, and a worker
        # that finds the budget spent would otherwise leave a dead worker's trial RUNNING.
        control = self.current_spec().spec.control
        for line in reap_lost_workers(self.study, control.heartbeat_grace, control.retries):
            print(line, flush=True)
        with self._claim_lock():
            trials = self.storage.get_all_trials(self.study_id, deepcopy=False)
            waiting = any(t.state == TrialState.WAITING for t in trials)
            budget = (
                self.storage.get_study_system_attrs(self.study_id).get(attrs.BUDGET)
                or self.current_spec().n_trials
            )
            # A worker on another host may take the last waiting trial first: then the
            # budget decides, as it does when none waits.
            claimed = claim_next(self.study) if waiting else None
            if claimed is not None:
                return claimed
            if len(trials) >= budget:
                return None
            return self.study.ask()

    # -- one trial -------------------------------------------------------------------------
    def run_trial(self, trial: optuna.Trial) -> None:
        frozen = self.storage.get_trial(trial_id_of(trial))
        resume = frozen.system_attrs.get(attrs.RESUME)
        if resume and not Path(resume.get("checkpoint") or "").exists():
            self._cannot_resume(trial, resume)
            return
        version = frozen.system_attrs.get(attrs.TRIAL_SPEC_VERSION) if resume else None
        study = self.current_spec(version)
        total = study.spec.train.timesteps
        session = TrialSession(trial, total)
        set_attr = self.storage.set_trial_system_attr
        set_attr(
            trial_id_of(trial),
            attrs.TRIAL_SPEC_VERSION,
            version
            or int(self.storage.get_study_system_attrs(self.study_id).get(attrs.SPEC_VERSION, 1)),
        )
        set_attr(trial_id_of(trial), attrs.TRIAL_WORKER, self.id)
        set_attr(trial_id_of(trial), attrs.CONTROL, None)
        if resume:
            set_attr(trial_id_of(trial), attrs.RESUME, None)
        self.session = session
        self.heartbeat.session = session
        self.heartbeat.update(state="training", trial=trial.number, trial_id=trial_id_of(trial))
        folder = self.home.checkpoints / f"trial-{trial.number}"
        started = time.time()
        print(f"trial {trial.number}: {'resuming' if resume else 'starting'}", flush=True)
        try:
            params = frozen.params if resume else suggest_all(trial, study.space.distributions)
            values = {**study.spec.hyperparameters, **study.space.fixed, **params}
            log = ProgressLog(self.home.trials / f"trial-{trial.number}" / "progress.jsonl")
            try:
                if study.spec.train.function:
                    from rltui.train.function import train_function as train
                else:
                    train = train_sb3
                outcome = train(
                    study,
                    values,
                    session,
                    device=self.device(study),
                    seed=study.spec.train.seed,
                    checkpoint_dir=folder,
                    resume=Path(resume["checkpoint"]) if resume else None,
                    log=log,
                    checkpoint_on_eval=study.spec.control.retries > 0,
                )
            finally:
                log.close()
                self.heartbeat.session = None  # its last progress write must not follow ours
            if session.abandoned or not self._still_ours(trial):
                self._dropped(trial)
                return
            self._finish(trial, study, outcome, folder, frozen)
            print(
                f"trial {trial.number}: {outcome.stopped or 'complete'} after "
                f"{outcome.timesteps:,} timesteps in {time.time() - started:.1f} s",
                flush=True,
            )
        except Exception as exc:
            if session.abandoned or not self._still_ours(trial):
                self._dropped(trial)
                return
            self._fail(trial, exc, folder, study)
        finally:
            self.session = None
            self.heartbeat.session = None
            if not self.heartbeat.lost:  # a lost worker's record stays as it was declared
                self.heartbeat.update(state="idle", trial=None, trial_id=None)
            _release_gpu_memory()

    def _dropped(self, trial: optuna.Trial) -> None:
        """The trial was handled by another worker, which found this one silent past the grace
        (a stalled host). This worker drops the trial and leaves, as one told it was declared
        lost does. Its own heartbeat may have written over the 'lost' record before it could
        read it, so it says why it leaves in the record it leaves behind."""
        print(f"trial {trial.number}: dropped (handled by another worker)", flush=True)
        self.stopping = True
        if not self.heartbeat.lost:
            self.stop_reason = (
                f"left: it was silent past the grace and another worker handled its trial "
                f"{trial.number}"
            )

    def _still_ours(self, trial: optuna.Trial) -> bool:
        """Whether the trial is still running on this worker: a worker declared lost may find
        it failed, or claimed again by another worker, and must then leave it alone."""
        try:
            return trial_held_by(self.storage, trial_id_of(trial), self.id) is not None
        except Exception:  # the storage is failing: act as before and let Optuna refuse
            return True

    def _cannot_resume(self, trial: optuna.Trial, resume: dict[str, Any]) -> None:
        """The checkpoint is not reachable from this host: the trial goes back to PAUSED."""
        from rltui.search.workers import HOST

        note = (
            f"checkpoint {resume.get('checkpoint')} is not reachable from host {HOST}: "
            "set control.checkpoint_dir to a folder all hosts share"
        )
        print(f"trial {trial.number}: cannot resume: {note}", flush=True)
        self.storage.set_trial_system_attr(trial_id_of(trial), attrs.RESUME, None)
        self.storage.set_trial_system_attr(
            trial_id_of(trial), attrs.PAUSED, {**resume, "note": note}
        )
        self.stopping = True  # a worker that cannot see checkpoints would only claim it again
        self.stop_reason = f"left: {note}"

    def _finish(
        self,
        trial: optuna.Trial,
        study: StudyFile,
        outcome: Outcome,
        folder: Path,
        claimed: optuna.trial.FrozenTrial,
    ) -> None:
        """Record how the trial ended; ``claimed`` is the trial as this worker claimed it."""
        set_attr = self.storage.set_trial_system_attr
        set_attr(
            trial_id_of(trial),
            attrs.PROGRESS,
            {
                "timesteps": outcome.timesteps,
                "total": study.spec.train.timesteps,
                "updated": time.time(),
                "train_seconds": outcome.train_seconds,
                "eval_seconds": outcome.eval_seconds,
            },
        )
        set_attr(trial_id_of(trial), attrs.CONTROL, None)
        if outcome.extra.get("seed_values"):
            set_attr(trial_id_of(trial), attrs.SEED_VALUES, outcome.extra["seed_values"])
        if outcome.stopped == "pause":
            set_attr(
                trial_id_of(trial),
                attrs.PAUSED,
                {
                    "at": time.time(),
                    "timesteps": outcome.timesteps,
                    "checkpoint": str(outcome.checkpoint),
                    "reason": "interrupted" if self.stopping else "user",
                },
            )
            if self.stopping:
                self.interrupted = trial.number
            # Optuna restarts datetime_start when the trial is claimed again: keep the
            # training time so far, so that the trial's duration leaves out time paused.
            if claimed.datetime_start is not None:
                stint = max(0.0, (datetime.now() - claimed.datetime_start).total_seconds())
                earlier = float(claimed.system_attrs.get(attrs.ELAPSED) or 0.0)
                set_attr(trial_id_of(trial), attrs.ELAPSED, earlier + stint)
            return
        if outcome.stopped in ("pruned", "prune"):
            self.study.tell(trial, state=TrialState.PRUNED)
        elif outcome.stopped == "kill":
            set_attr(trial_id_of(trial), attrs.REASON, "stopped by user")
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            spec = study.spec
            value = objective(
                outcome.evaluations,
                spec.train.objective.type,
                spec.train.objective.k,
                spec.direction == "maximize",
            )
            if outcome.extra.get("value") is not None:  # a train.function returned its own value
                value = outcome.extra["value"]
            self.study.tell(trial, value)
        if not study.spec.control.keep_checkpoints:
            ckpt.remove(folder)

    def _fail(self, trial: optuna.Trial, exc: Exception, folder: Path, study: StudyFile) -> None:
        tail = "".join(traceback.format_exception(exc)[-6:])
        message = str(exc) if isinstance(exc, TrialFailed) else f"{type(exc).__name__}: {exc}"
        print(f"trial {trial.number}: FAIL: {message}\n{tail}", flush=True)
        try:
            self.storage.set_trial_system_attr(
                trial_id_of(trial), attrs.ERROR, {"message": message, "traceback": tail}
            )
            self.study.tell(trial, state=TrialState.FAIL)
        except Exception as inner:  # the storage itself is failing; the heartbeat will notice
            print(f"trial {trial.number}: could not record the failure: {inner}", flush=True)
        if not study.spec.control.keep_checkpoints:
            ckpt.remove(folder)


def _release_gpu_memory() -> None:
    """Hand the finished or paused trial's GPU memory back to the driver: torch's caching
    allocator would otherwise keep it reserved for this process, out of other workers' reach
    on a shared GPU."""
    import gc

    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        gc.collect()  # the trial's model and buffers, if a reference cycle still holds them
        torch.cuda.empty_cache()


def suggest_all(trial: optuna.Trial, distributions: dict[str, BaseDistribution]) -> dict[str, Any]:
    """Ask the sampler for every searched parameter (fixed values of enqueued trials win)."""
    params: dict[str, Any] = {}
    for name, dist in distributions.items():
        if isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
    return params
