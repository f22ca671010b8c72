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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from rltui.search import attrs, endings, journal_lock
from rltui.search.endings import DISK_FULL
from rltui.search.folders import study_home
from rltui.search.lifecycle import ControlAction, StopCause, TrialStatus, status_of
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of
from rltui.search.queue import claim_next
from rltui.search.recovery import reap_lost_workers
from rltui.search.storage import StudyHome
from rltui.search.study import stored_spec
from rltui.search.workers import drain_key, new_record, placed_gpu, stored_record
from rltui.spec import StudyFile
from rltui.spec.wording import counted
from rltui.worker import members
from rltui.worker.device import DeviceError, device_label
from rltui.worker.heartbeat import STOP_GRACE, Heartbeat, RunningTrial
from rltui.worker.space import SPACE_WAIT, disk_full
from rltui.worker.trial import TrialRun

__all__ = ["DeviceError", "Worker"]

optuna.logging.set_verbosity(optuna.logging.WARNING)

IDLE_POLL = 1.0  # seconds between looks for work while other workers' trials still train


# Why a worker declared lost while it was silent leaves once it runs again.
WOKE_UP = "left: it woke up after it was declared lost, and dropped its trial"


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
        self.running: RunningTrial | None = None
        # Why the worker is told to stop (a signal, an unreachable checkpoint); its record
        # says so when it leaves. ``interrupted`` is the trial a signal paused, if any.
        self.stop_reason: str | None = None
        self.interrupted: int | None = None
        spec = self.current_spec()
        self.home = self._home(spec)
        label = self.device_label(spec)
        # Placed on a GPU by its launcher, and training there (not on a CPU the study names).
        gpu = placed_gpu() if label.startswith("cuda") else None
        self.heartbeat = Heartbeat(
            self.storage,
            self.study_id,
            new_record(worker_id, label, log, index, gpu),
            spec.spec.control.heartbeat_interval,
            on_beat=self._on_beat,
            grace=spec.spec.control.heartbeat_grace,
            on_overdue=self._end_stuck_trial,
            on_lost=self._on_lost,
        )

    # -- setup ---------------------------------------------------------------------------
    def current_spec(self, version: int | None = None) -> StudyFile:
        """The study file in force (or ``version``), parsed once per version: the heartbeat
        asks every beat, and parsing YAML there would compete with training for the GIL."""
        latest = version is None
        if version is None:
            system = self.storage.get_study_system_attrs(self.study_id)
            version = int(system.get(attrs.SPEC_VERSION, 0))
        if version not in self._specs:
            self._specs[version] = spec = stored_spec(self.storage, self.study_id, version)
            if latest:
                # A writer here waiting on the journal ends a worker stopped with its lock
                # after the grace that declares a worker lost (rltui.search.journal_lock).
                journal_lock.set_stall_grace(spec.spec.control.heartbeat_grace)
        return self._specs[version]

    def _home(self, study: StudyFile) -> StudyHome:
        # The stored study file's path is another host's path for a remote worker: only a
        # file given on this command line, the configured folder, or the journal's folder count.
        return study_home(study, self.storage_url, self.study_file).make()

    def device(self, study: StudyFile) -> str:
        return self.device_override or study.spec.device

    def device_label(self, study: StudyFile) -> str:
        return device_label(self.device(study), placed_gpu())

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> int:
        import torch

        torch.set_num_threads(1)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        # Ctrl-Z on a worker in a terminal: a stopped worker may hold the journal's lock and
        # would hold up every other process of the study (until a writer ends it after the
        # heartbeat grace: rltui.search.journal_lock).
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
        print(
            f"worker {self.id} finished after {counted(self.trials_done, 'trial')}: {reason}",
            flush=True,
        )
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
            return f"left: it ran the {counted(self.max_trials, 'trial')} --max-trials allowed"
        return None

    def _budget_reached(self) -> str:
        if members.is_population(self.current_spec()):
            return "left: every member of the population has ended"
        budget = (
            self.storage.get_study_system_attrs(self.study_id).get(attrs.BUDGET)
            or self.current_spec().n_trials
        )
        return f"left: the trial budget is reached ({budget} trial{'' if budget == 1 else 's'})"

    def _leave(self, reason: str) -> None:
        """Write the record of a worker that leaves, with why. A worker declared lost keeps
        what the one who declared it wrote (why, what became of its trial), and says that it
        woke up and left: its process is gone from then on."""
        if self.heartbeat.lost:
            record = self.heartbeat.record
            why = f"{WOKE_UP} ({record.reason})" if record.reason else WOKE_UP
            self.heartbeat.update(state="exited", trial=None, trial_id=None, reason=why)
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
        if self.running is not None:
            self.running.ask(ControlAction.PAUSE)

    def _on_lost(self) -> None:
        """Called from the heartbeat thread when this worker finds it was declared lost: its
        trial was failed or given to another worker. It drops the trial and leaves; a worker
        that was frozen that long (a suspended laptop, a stalled VM) is best started again."""
        self.stopping = True
        self.stop_reason = WOKE_UP
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

    def _end_stuck_trial(self, running: RunningTrial, action: ControlAction) -> None:
        """Called from the heartbeat thread when the training has ignored a prune or kill for
        :data:`~rltui.worker.heartbeat.STOP_GRACE` seconds: record the trial's end as asked,
        then end this process, the only way to stop code that does not return."""
        trial = running.trial
        note = "its training did not stop when asked, so its worker process was ended"
        print(f"trial {trial.number}: {action.value}: {note}", flush=True)
        try:
            endings.end(
                self.study,
                trial_id_of(trial),
                StopCause.asked(action),
                reason=note,
                checkpoints=self.home.checkpoints,
            )
            self.heartbeat.update(
                state="exited",
                trial=None,
                trial_id=None,
                reason=(
                    f"ended: its trial {trial.number}'s training did not stop within "
                    f"{STOP_GRACE:g} s of a {action.value}, so its process was ended"
                ),
            )
        finally:
            os._exit(3)

    def wait_for_space(self, place: str) -> None:
        """Wait, with back-off, until the study's folder takes writes again (the disk filled
        up): the study goes on by itself once space returns, and no trial is claimed only to
        fail for want of it meanwhile."""
        delay, longest = SPACE_WAIT
        self._note(f"waiting: {DISK_FULL} at {place}")
        began = time.monotonic()
        probe = self.home.root / f".space-{self.id}"
        while not self.stopping:
            try:
                with open(probe, "wb") as out:
                    out.write(b"\0" * 65536)
                    out.flush()
                    os.fsync(out.fileno())
                break
            except OSError as exc:
                if disk_full(exc) is None:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, longest)
            finally:
                with suppress(OSError):
                    probe.unlink()
        waited = time.monotonic() - began
        print(f"worker {self.id}: space is back at {self.home.root}; going on", flush=True)
        # Said once space is back too: a storage on the full disk took nothing meanwhile.
        self._note(f"{DISK_FULL} at {place} for {waited:.0f} s: its trial went back to the queue")

    def _note(self, reason: str | None) -> None:
        """Say ``reason`` in the worker's record now, or not at all: a storage on the full
        disk takes nothing, and a wait told after it ended would be news of the past (the
        note written once space is back says it then)."""
        record = self.heartbeat.record
        self.heartbeat.record = replace(record, reason=reason)
        try:
            self.heartbeat.update()
        except Exception:
            self.heartbeat.record = record

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
            stall=self.heartbeat.stall,
            checkpoints=self.home.checkpoints,
        ):
            print(line, flush=True)
        if self._draining() and self.heartbeat.record.state == "idle":
            self.heartbeat.record = replace(self.heartbeat.record, state="draining")

    @contextmanager
    def study_lock(self) -> Iterator[None]:
        """Held, among the workers of this study folder, by each step that reads the study and
        acts on what it read: claiming (counting trials and asking for a new one must not
        interleave, or the study would overshoot its budget), and a PBT segment's end (the
        plan, its enqueue and the ending, against another worker removing the checkpoints no
        member needs). Databases shared by hosts rely on Optuna for claims."""
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
        for line in reap_lost_workers(
            self.study,
            control.heartbeat_grace,
            control.retries,
            declared_by=f"worker {self.id}",
            stall=self.heartbeat.stall,
            checkpoints=self.home.checkpoints,
        ):
            print(line, flush=True)
        with self.study_lock():
            trials = self.storage.get_all_trials(self.study_id, deepcopy=False)
            waiting = any(t.state == TrialState.WAITING for t in trials)
            budget = (
                self.storage.get_study_system_attrs(self.study_id).get(attrs.BUDGET)
                or self.current_spec().n_trials
            )
            # A worker on another host may take the last waiting trial first: then the
            # budget decides, as it does when none waits.
            if members.is_population(self.current_spec()):
                # The population trains together: a new member first, then the segment
                # furthest behind (rltui.search.pbt.enqueue gives each its place).
                return members.start_member(self, trials) or claim_next(self.study)
            claimed = claim_next(self.study) if waiting else None
            if claimed is not None:
                return claimed
            if len(trials) >= budget:
                return None
            return self.study.ask()

    # -- one trial -------------------------------------------------------------------------
    def run_trial(self, trial: optuna.Trial) -> None:
        TrialRun(self, trial).run()
