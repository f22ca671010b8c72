"""One claimed trial on one worker: train it, and record how it ended.

How a trial ends is :mod:`rltui.search.endings`' business; this module decides which ending
applies. A full disk (ENOSPC, EDQUOT) is not a trial's failure: the trial goes back to the
queue to resume from its last checkpoint, every write that records an ending waits for space
with back-off instead of failing, and the worker waits for space before it claims again.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import optuna

from rltui.search import attrs, endings, mirror, segments
from rltui.search.folders import progress_log, tensorboard_dir, trial_folder
from rltui.search.lifecycle import StopCause
from rltui.search.optuna_internals import trial_id_of
from rltui.search.recovery import trial_held_by
from rltui.search.sampling import suggest_all
from rltui.search.workers import HOST
from rltui.spec import StudyFile
from rltui.train.evaluations import objective, objective_values
from rltui.train.progress import ProgressLog
from rltui.train.trainer import Outcome, TrialFailed, train_sb3
from rltui.train.trust import CheckpointRefused
from rltui.worker import members, targets
from rltui.worker.device import out_of_gpu_memory, release_gpu_memory
from rltui.worker.heartbeat import RunningTrial
from rltui.worker.space import SPACE_WAIT, disk_full, where
from rltui.worker.time_limit import seconds_run
from rltui.worker.unpruned import UnprunedTrial

if TYPE_CHECKING:
    from rltui.worker.loop import Worker

T = TypeVar("T")


class TrialRun:
    """Train one claimed trial on ``worker`` and record its end."""

    def __init__(self, worker: Worker, trial: optuna.Trial):
        self.worker = worker
        self.trial = trial
        self.id = trial_id_of(trial)
        self.storage = worker.storage
        self.folder = trial_folder(worker.home.checkpoints, trial.number)
        self.segment: segments.Segment | None = None

    def say(self, line: str) -> None:
        print(f"trial {self.trial.number}: {line}", flush=True)

    def run(self) -> None:
        worker, trial = self.worker, self.trial
        frozen = self.storage.get_trial(self.id)
        resume = frozen.system_attrs.get(attrs.RESUME)
        if resume and not Path(resume.get("checkpoint") or "").exists():
            self._cannot_resume(resume)
            return
        if resume and (outside := self._not_its_folder(resume)) is not None:
            self._refused(resume, outside)
            return
        # A PBT segment starts from its own copy of its parent's end checkpoint, made once.
        self.segment = segments.segment_of(frozen)
        first_run = attrs.CHECKPOINT not in frozen.system_attrs
        if self.segment and self.segment.source and not resume and first_run:
            try:
                resume = members.start_from_source(self, self.segment)
            except Exception as exc:  # a full disk puts it back, to copy once space returns
                if (full := disk_full(exc)) is not None:
                    self._put_back(full)
                else:
                    self._fail(exc)
                return
        version = frozen.system_attrs.get(attrs.TRIAL_SPEC_VERSION) if resume else None
        study = worker.current_spec(version)
        # Optuna cannot prune a study with several objectives, nor take its reports.
        kind = UnprunedTrial if len(trial.study.directions) > 1 else RunningTrial
        limit, used = study.spec.train.time_limit, seconds_run(frozen)
        running = kind(trial, study.spec.train.timesteps, limit, used)
        current = int(
            self.storage.get_study_system_attrs(worker.study_id).get(attrs.SPEC_VERSION, 1)
        )
        self.storage.set_trial_system_attr(self.id, attrs.TRIAL_SPEC_VERSION, version or current)
        self.storage.set_trial_system_attr(self.id, attrs.TRIAL_WORKER, worker.id)
        self.storage.set_trial_system_attr(self.id, attrs.CONTROL, None)
        mirror.claimed(self.storage, self.id, worker.id, frozen.user_attrs)
        if resume:
            # The checkpoint it resumes from is its last one until training writes another:
            # a retry after a loss starts there too, and its end removes it.
            last = {"checkpoint": resume["checkpoint"], "timesteps": resume.get("timesteps", 0)}
            self.storage.set_trial_system_attr(self.id, attrs.CHECKPOINT, last)
            self.storage.set_trial_system_attr(self.id, attrs.RESUME, None)
        worker.running = running
        worker.heartbeat.running = running
        worker.heartbeat.update(state="training", trial=trial.number, trial_id=self.id)
        started = time.time()
        self.say("resuming" if resume else "starting")
        try:
            params = frozen.params if resume else suggest_all(trial, study.space)
            outcome = self._train(study, params, running, resume)
            outcome.stopped, outcome.extra["reason"] = running.ending(outcome.stopped)
            if running.abandoned or not self._still_ours():
                self._dropped()
                return
            self._finish(study, outcome, frozen, running.limit.frozen)
            self.say(
                f"{outcome.stopped.value if outcome.stopped else 'complete'} after "
                f"{outcome.timesteps:,} timesteps in {time.time() - started:.1f} s"
            )
        except Exception as exc:
            if running.abandoned or not self._still_ours():
                self._dropped()
                return
            full = disk_full(exc)
            if isinstance(exc, CheckpointRefused) and resume:
                self._refused(resume, exc.reason)
            elif full is not None:
                self._put_back(full)
            else:
                self._fail(exc)
        finally:
            running.close()
            worker.running = None
            worker.heartbeat.running = None
            if not worker.heartbeat.lost:  # a lost worker's record stays as it was declared
                self._quietly(
                    lambda: worker.heartbeat.update(state="idle", trial=None, trial_id=None)
                )
            release_gpu_memory()

    def _train(
        self,
        study: StudyFile,
        params: dict[str, Any],
        running: RunningTrial,
        resume: dict[str, Any] | None,
    ) -> Outcome:
        worker = self.worker
        values = study.hyperparameters_for(params)
        if worker.study_file is not None:
            # A train.function is imported from the study file's folder as this host has it,
            # never from the path another host stored.
            study = replace(study, path=worker.study_file.resolve())
        trials, number = worker.home.trials, self.trial.number
        board = tensorboard_dir(trials, number) if study.spec.train.tensorboard else None
        log = ProgressLog(progress_log(trials, number), tensorboard=board)
        try:
            if study.spec.train.function:
                from rltui.train.function import train_function as train
            else:
                train = train_sb3
            return train(
                study,
                values,
                running,
                device=worker.device(study),
                seed=study.spec.train.seed,
                checkpoint_dir=self.folder,
                resume=Path(resume["checkpoint"]) if resume else None,
                log=log,
                checkpoint_on_eval=study.spec.control.retries > 0,
                **self._segment_options(),
            )
        finally:
            running.close()  # the heartbeat's last progress write must not follow ours
            log.close()

    def _segment_options(self) -> dict[str, Any]:
        """A PBT segment trains to its end, with its own values on the checkpoint it loads."""
        if self.segment is None:
            return {}
        return {"stop_at": self.segment.end, "retune": True}

    def _finish(
        self,
        study: StudyFile,
        outcome: Outcome,
        claimed: optuna.trial.FrozenTrial,
        frozen_for: float,
    ) -> None:
        """Record how the trial ended; ``claimed`` is the trial as this worker claimed it,
        ``frozen_for`` the seconds of this stint the worker's process did not run."""
        progress = {
            "timesteps": outcome.timesteps,
            "total": study.spec.train.timesteps,
            "updated": time.time(),
            "train_seconds": outcome.train_seconds,
            "eval_seconds": outcome.eval_seconds,
            "frozen": frozen_for,
        }
        self._until_written(
            lambda: self.storage.set_trial_system_attr(self.id, attrs.PROGRESS, progress)
        )
        self._until_written(lambda: mirror.timesteps(self.storage, self.id, outcome.timesteps))
        if outcome.extra.get("seed_values"):
            seeds = outcome.extra["seed_values"]
            self._until_written(
                lambda: self.storage.set_trial_system_attr(self.id, attrs.SEED_VALUES, seeds)
            )
        if outcome.stopped is StopCause.PAUSE:
            self._until_written(lambda: self._pause(outcome, claimed, frozen_for))
            return
        value: float | list[float] | None = None
        if outcome.stopped is None:
            if self.segment is not None:  # ranked on what it did itself, not its parents
                outcome.evaluations = members.segment_value(outcome.evaluations, self.segment)
            value = self._values(study, outcome, seconds_run(claimed, frozen_for))
            targets.record(self, study, outcome.extra.get("target"))
        if self.segment is not None and value is not None and not isinstance(value, list):
            segment, ended_at, ranked = self.segment, outcome.checkpoint, value
            self._until_written(lambda: members.end_segment(self, study, segment, ranked, ended_at))
        else:
            self._until_written(
                lambda: endings.end(
                    self.worker.study,
                    self.id,
                    outcome.stopped,
                    value=value,
                    reason=outcome.extra.get("reason"),
                    checkpoints=self.worker.home.checkpoints,
                )
            )
        if self.segment is not None:
            members.collect(self.worker, study)

    def _values(
        self, study: StudyFile, outcome: Outcome, seconds: float
    ) -> float | list[float] | None:
        """What a trial that ran its budget, in ``seconds`` of every stint, is told with: its
        value, or one value per objective in a study with several (see
        :mod:`rltui.spec.objectives`)."""
        spec = study.spec
        reward = objective(
            outcome.evaluations,
            spec.train.objective.type,
            spec.train.objective.k,
            spec.maximize_reward,
        )
        if outcome.extra.get("value") is not None:  # a train.function returned its value
            reward = outcome.extra["value"]
        if [o.name for o in spec.objectives] == ["reward"]:
            return reward
        values = objective_values(
            [(o.name, o.threshold) for o in spec.objectives],
            outcome.evaluations,
            reward=reward,
            budget=spec.train.timesteps,
            seconds=seconds,
        )
        return values[0] if values is not None and len(values) == 1 else values

    def _pause(
        self, outcome: Outcome, claimed: optuna.trial.FrozenTrial, frozen_for: float
    ) -> None:
        stopping = self.worker.stopping
        # Optuna restarts datetime_start at the next claim: the time trained so far is kept,
        # in the pause record (read with it) and for the stints to come.
        seconds = seconds_run(claimed, frozen_for)
        record = {
            "timesteps": outcome.timesteps,
            "checkpoint": str(outcome.checkpoint),
            "reason": "interrupted" if stopping else "user",
            "elapsed": seconds,
        }
        endings.pause(self.storage, self.id, record)
        if stopping:
            self.worker.interrupted = self.trial.number
        if claimed.datetime_start is not None:
            self.storage.set_trial_system_attr(self.id, attrs.ELAPSED, seconds)

    def _fail(self, exc: Exception) -> None:
        tail = "".join(traceback.format_exception(exc)[-6:])
        message = str(exc) if isinstance(exc, TrialFailed) else f"{type(exc).__name__}: {exc}"
        message = out_of_gpu_memory(exc) or message
        self.say(f"FAIL: {message}\n{tail}")
        try:
            self._until_written(
                lambda: endings.fail(
                    self.worker.study,
                    self.id,
                    message,
                    traceback=tail,
                    checkpoints=self.worker.home.checkpoints,
                )
            )
        except Exception as inner:  # the storage itself is failing; the heartbeat will notice
            self.say(f"could not record the failure: {inner}")

    def _put_back(self, error: OSError) -> None:
        """The disk filled up under the training: the trial goes back to the queue, to resume
        from its last checkpoint (or from the start without one), and the worker waits for
        space before it claims again. Not a retry: the trial did nothing wrong."""
        place = where(error, self.worker.home.root)
        saved = self.storage.get_trial(self.id).system_attrs.get(attrs.CHECKPOINT)
        note = f"{endings.DISK_FULL} at {place}"
        resume = {**saved, "note": note} if saved else None
        self._until_written(
            lambda: endings.requeue(self.storage, self.id, resume, changes={attrs.REASON: note})
        )
        frm = f"its checkpoint at {int(saved['timesteps']):,} timesteps" if saved else "the start"
        self.say(f"{note}: put back in the queue to resume from {frm}")
        self.worker.wait_for_space(place)

    def _until_written(self, write: Callable[[], T]) -> T:
        """Run a write that records the trial, waiting with back-off while the disk is full
        (the storage may live on it): the outcome of a finished training is never dropped."""
        delay, longest = SPACE_WAIT
        said = False
        while True:
            try:
                return write()
            except Exception as exc:
                full = disk_full(exc)
                if full is None or self.worker.stopping:
                    raise
                if not said:
                    place = where(full, self.worker.home.root)
                    self.say(f"{endings.DISK_FULL} at {place}: waiting for space to record it")
                    said = True
                time.sleep(delay)
                delay = min(delay * 2, longest)

    def _quietly(self, write: Callable[[], Any]) -> None:
        try:
            write()
        except Exception as exc:
            if disk_full(exc) is None:
                raise

    def _dropped(self) -> None:
        """The trial was handled by another worker, which found this one silent past the
        grace (a stalled host). This worker drops the trial and leaves, as one told it was
        declared lost does. Its own heartbeat may have written over the 'lost' record before
        it could read it, so it says why it leaves in the record it leaves behind."""
        self.say("dropped (handled by another worker)")
        worker = self.worker
        worker.stopping = True
        if not worker.heartbeat.lost:
            worker.stop_reason = (
                f"left: it was silent past the grace and another worker handled its trial "
                f"{self.trial.number}"
            )

    def _still_ours(self) -> bool:
        """Whether the trial is still running on this worker: a worker declared lost may find
        it failed, or claimed again by another worker, and must then leave it alone."""
        try:
            return trial_held_by(self.storage, self.id, self.worker.id) is not None
        except Exception:  # the storage is failing: act as before and let Optuna refuse
            return True

    def _cannot_resume(self, resume: dict[str, Any]) -> None:
        """The checkpoint is not reachable from this host: the trial goes back to PAUSED."""
        note = (
            f"checkpoint {resume.get('checkpoint')} is not reachable from host {HOST}: "
            "set control.checkpoint_dir to a folder all hosts share"
        )
        self.refuse(resume, note)

    def _not_its_folder(self, resume: dict[str, Any]) -> str | None:
        """Why ``resume``'s checkpoint is not in this trial's folder under the root, or None.
        Checked before training: whoever can write the storage can name any folder there."""
        named = Path(resume.get("checkpoint") or "")
        # The trial's folder is judged by its path under the root: a link in its place,
        # resolved, would take whatever it points to for the trial's own.
        real, own = named.resolve(), self.folder.parent.resolve() / self.folder.name
        if real.is_relative_to(own):
            return None
        where = (
            f"trial {self.trial.number}'s folder {own}"
            if real.is_relative_to(own.parent)
            else f"the study's checkpoint folder {own.parent}"
        )
        return (
            f"checkpoint {named} resolves to {real}, outside {where}: a trial resumes only "
            "from its own folder under the study's checkpoint root. Fix: kill the trial and "
            "enqueue its parameters again (or, if the checkpoint folder was moved, move it back)"
        )

    def _refused(self, resume: dict[str, Any], reason: str) -> None:
        """The checkpoint failed the checks before loading (rltui.train.trust): the trial goes
        back to PAUSED with the reason, to resume once it is fixed; the worker goes on (the
        trial is not waiting, so it does not claim it again)."""
        self.say(f"cannot resume: {reason}")
        self._until_written(
            lambda: endings.pause(self.storage, self.id, {**resume, "note": reason})
        )

    def refuse(self, resume: dict[str, Any], note: str) -> None:
        """The trial cannot resume here: it goes back to PAUSED with ``note`` as the reason,
        and the worker leaves (it would only claim it again)."""
        self.say(f"cannot resume: {note}")
        endings.pause(self.storage, self.id, {**resume, "note": note})
        self.worker.stopping = True
        self.worker.stop_reason = f"left: {note}"
