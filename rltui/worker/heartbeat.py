"""The running trial as its worker sees it, and the thread that keeps it in touch.

The training loop holds the GIL almost all the time, so liveness and control live in a
background thread: it writes the worker's heartbeat, publishes progress, and polls the trial's
control record about twice a second. The trainer only reads plain attributes set here.

Prune and kill do not depend on the training's good will: when a trial has not stopped
:data:`STOP_GRACE` seconds after either was asked for (an environment stuck in a step, a user
training function that never looks at ``should_stop()``), this thread ends the trial itself
and then the whole worker process, the only way to stop code that does not return.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import optuna

from rltui.search import attrs, mirror
from rltui.search.lifecycle import ControlAction, StopCause
from rltui.search.optuna_internals import trial_id_of
from rltui.search.workers import StallGuard, WorkerRecord, write_record
from rltui.worker.time_limit import TimeLimit

POLL_SECONDS = 0.5
STOP_GRACE = 10.0  # seconds a prune or kill waits for the training to stop by itself


class RunningTrial:
    """One trial as the worker running it sees it: the trainer's
    :class:`rltui.train.trainer.Reporter`, and what the heartbeat polls and publishes."""

    def __init__(
        self,
        trial: optuna.Trial,
        total: int,
        limit: float | str | None = None,
        used: float = 0.0,
    ):
        self.trial = trial
        self.total = total
        self.timesteps = 0
        self._request: ControlAction | None = None
        self._requested_at = 0.0
        # train.time_limit as written, ``used`` seconds of it spent in earlier stints.
        self.limit = TimeLimit(limit, used, total)
        self.timed_out = False
        self._published = -1
        # When the timesteps were last mirrored (monotonic): the first copy comes a mirror
        # interval into the stint, so that a short stint adds only its end's.
        self._mirrored_at = time.monotonic()
        # Held while the heartbeat thread writes progress, so that once the worker has
        # closed this (and goes on to tell the trial) no late write can follow.
        self._writing = threading.Lock()
        self.closed = False
        # Set when this worker learns it was declared lost (it was frozen or cut off longer
        # than the grace time): the trial has been failed or handed to another worker, and
        # nothing this worker does may touch it any more.
        self.abandoned = False

    # -- Reporter -----------------------------------------------------------------------
    def report(self, step: int, value: float) -> bool:
        if self.abandoned:
            return True
        self.trial.report(value, step)
        return self.trial.should_prune()

    def requested(self) -> ControlAction | None:
        # Asked at every environment and gradient step: past the time limit, a prune.
        if self._request is None and self.limit.passed():
            self.timed_out = True
            self.ask(ControlAction.PRUNE)
        return self._request

    def progress(self, timesteps: int) -> None:
        self.timesteps = timesteps

    def checkpointed(self, path: Path, timesteps: int) -> None:
        if self.abandoned:
            return
        self.trial.storage.set_trial_system_attr(
            trial_id_of(self.trial),
            attrs.CHECKPOINT,
            {"checkpoint": str(path), "timesteps": timesteps},
        )

    # -- for the worker ---------------------------------------------------------------
    def ask(self, action: ControlAction) -> None:
        """A request from inside this process (SIGTERM, drain)."""
        if self._request is None:
            self._request = action
            self._requested_at = time.monotonic()

    def poll_control(self, storage: optuna.storages.BaseStorage) -> None:
        record = storage.get_trial_system_attrs(trial_id_of(self.trial)).get(attrs.CONTROL)
        if record and self._request is None:
            # A request this version does not know is nothing it can carry out.
            with contextlib.suppress(ValueError):
                self.ask(ControlAction(record.get("action")))

    def overdue_stop(self, grace: float = STOP_GRACE) -> ControlAction | None:
        """The prune or kill asked for more than ``grace`` seconds ago, if any."""
        if self.abandoned:
            return None
        stops = (ControlAction.PRUNE, ControlAction.KILL)
        if self._request in stops and time.monotonic() - self._requested_at > grace:
            return self._request
        return None

    def ending(self, stopped: StopCause | None) -> tuple[StopCause | None, str | None]:
        """How a training that stopped for ``stopped`` is recorded, and why: a prune this
        trial asked for at its time limit is the study's own pruning, not the user's."""
        if stopped is StopCause.PRUNE and self.timed_out:
            return StopCause.PRUNER, f"time limit reached ({self.limit.said()})"
        return stopped, None

    def abandon(self) -> None:
        """Stop training at once (as a kill does) and write nothing more to the trial."""
        self.abandoned = True
        self._request = ControlAction.KILL
        self._requested_at = time.monotonic()

    def close(self) -> None:
        """The training returned: from now on the heartbeat writes nothing to the trial (the
        worker is about to tell it, and Optuna refuses writes to a finished trial)."""
        with self._writing:
            self.closed = True

    def publish_progress(self, storage: optuna.storages.BaseStorage) -> None:
        with self._writing:
            if self.timesteps == self._published or self.abandoned or self.closed:
                return
            self._published = self.timesteps
            trial_id = trial_id_of(self.trial)
            storage.set_trial_system_attr(
                trial_id,
                attrs.PROGRESS,
                {
                    "timesteps": self.timesteps,
                    "total": self.total,
                    "updated": time.time(),
                    "frozen": self.limit.frozen,
                },
            )
            # The copy other tools read lags a little, so as to add few lines to a journal.
            if time.monotonic() - self._mirrored_at >= mirror.TIMESTEPS_SECONDS:
                mirror.timesteps(storage, trial_id, self.timesteps)
                self._mirrored_at = time.monotonic()


class Heartbeat(threading.Thread):
    """Writes the worker record every ``interval`` seconds and polls the current trial.

    Its :attr:`stall` guard notes every round of the thread (the monotonic gap between them),
    so that a worker which was stalled, and so saw every other heartbeat grow old, declares no
    one lost on waking: the reaping calls take it as their ``stall``. ``grace`` is the study's
    heartbeat grace time; when not given, the first reaping call gives it.
    """

    def __init__(
        self,
        storage: optuna.storages.BaseStorage,
        study_id: int,
        record: WorkerRecord,
        interval: float,
        on_beat: Callable[[], None] | None = None,
        on_overdue: Callable[[RunningTrial, ControlAction], None] | None = None,
        on_lost: Callable[[], None] | None = None,
        grace: float | None = None,
    ):
        super().__init__(name="rltui-heartbeat", daemon=True)
        self.storage = storage
        self.study_id = study_id
        self.record = record
        self.interval = interval
        self.on_beat = on_beat
        self.on_overdue = on_overdue
        self.on_lost = on_lost
        self.lost = False
        self.running: RunningTrial | None = None
        self._stop_event = threading.Event()
        self.errors = 0
        self._failing: str | None = None  # the error last printed, while beats keep failing
        self._failing_since: float | None = None
        # The thread ticks every POLL_SECONDS and beats every interval, whichever is longer.
        self.stall = StallGuard(max(interval, POLL_SECONDS), grace)

    def update(self, **changes: object) -> None:
        self.record = replace(self.record, **changes)  # type: ignore[arg-type]
        self.record = write_record(self.storage, self.study_id, self.record)

    def run(self) -> None:
        last_beat = 0.0
        self.stall.tick()  # counts from here: the worker's start is no stall
        while not self._stop_event.wait(POLL_SECONDS):
            self._tick()
            try:
                running = self.running
                if running is not None:
                    running.limit.beat()
                    running.poll_control(self.storage)
                    running.limit.refresh(self.storage, self.study_id)
                    overdue = running.overdue_stop()
                    if overdue and self.on_overdue is not None:
                        self.on_overdue(running, overdue)
                if time.monotonic() - last_beat >= self.interval:
                    last_beat = time.monotonic()
                    if not self.lost and self._declared_lost():
                        self.lost = True
                        if running is not None:
                            running.abandon()
                        if self.on_lost is not None:
                            self.on_lost()
                    if running is not None:
                        running.publish_progress(self.storage)
                    self.record = write_record(self.storage, self.study_id, self.record)
                    self._wrote()
                    if self.on_beat is not None:
                        self.on_beat()
            except Exception as exc:  # a storage hiccup must not kill the worker's liveness
                self.errors += 1
                said = f"heartbeat: {type(exc).__name__}: {exc}"
                if said != self._failing:  # once, not every beat while the cause lasts
                    print(said, flush=True)
                    self._failing = said
                if self._failing_since is None:
                    self._failing_since = time.monotonic()

    def _wrote(self) -> None:
        """A beat reached the storage: after a run of failed writes, say so, and count the
        time this worker's record could not be written as a stall of its own."""
        if self._failing_since is None:
            return
        silent = time.monotonic() - self._failing_since
        self._failing, self._failing_since = None, None
        self.stall.late(silent)
        print(f"heartbeat: writing again after {silent:.0f} s", flush=True)

    def _tick(self) -> None:
        woke = self.stall.awake_since
        if self.stall.tick() != woke:
            print(
                f"heartbeat: this worker did not run for {self.stall.stalled_for:.0f} s (a "
                "stalled host or process); it declares no other worker lost until they have "
                f"had {self.stall.grace:g} s to beat again",
                flush=True,
            )

    def _declared_lost(self) -> bool:
        """Whether another worker has marked this one lost while it was silent."""
        system = self.storage.get_study_system_attrs(self.study_id)
        stored = system.get(attrs.worker_key(self.record.id)) or {}
        return stored.get("state") == "lost"

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
