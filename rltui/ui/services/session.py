"""The study the UI is attached to, and every storage write the UI makes.

Plain Python without Textual: the screens call these methods from thread workers, so no
storage I/O happens on the event loop. Each method returns the line the UI acknowledges with.

The session also looks after the worker processes it starts
(:class:`rltui.ui.services.launches.StartedWorkers`).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from rltui.launch.local import LocalPool, pid_running, signal_worker
from rltui.launch.placement import GpuChoice, PlacementError, busy_gpus
from rltui.search import attrs, journal_lock, segments
from rltui.search.control import ControlError, Controller
from rltui.search.folders import study_home
from rltui.search.journal import JournalWriteError, journal_notes
from rltui.search.lifecycle import ControlAction, TrialStatus, status_of
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.queue import describe_place, place_of
from rltui.search.reader import Snapshot, StudyReader
from rltui.search.storage import (
    StorageError,
    StudyHome,
    journal_path,
    mask_url,
    study_names,
)
from rltui.search.study import in_force, join_by_name, open_study, open_to_read, publish_spec
from rltui.search.workers import HOST, WorkerRecord, drain_key, is_lost, read_records
from rltui.spec import Problem, SpecError, StudyFile, check_text, incompatible_changes
from rltui.spec.reading import read_study, why_unreadable
from rltui.ui.models.worker_places import SLURM, SSH, Place, places
from rltui.ui.services.launches import StartedWorkers, WorkerLaunch
from rltui.ui.services.memory import bulk_load
from rltui.ui.services.remote import start_remote

optuna.logging.set_verbosity(optuna.logging.WARNING)

NO_WORKER = "no worker is running: w starts one"


class SessionError(Exception):
    """Opening a study failed; the message is for the user."""


@dataclass
class Session:
    """One open study: the Optuna study, its latest study file, and where it lives."""

    ostudy: optuna.Study
    study: StudyFile
    url: str
    study_file: Path | None = None
    # Why the study was opened to read only (its storage cannot be written), or None.
    read_only: str | None = None
    # The version in force when the study file on disk differs from it (it is not applied).
    file_differs: int | None = None
    controller: Controller = field(init=False)
    reader: StudyReader = field(init=False)
    _first_poll: bool = field(init=False, default=True)
    _indices: list[int] = field(init=False, default_factory=list)  # of workers started here
    started: StartedWorkers = field(init=False, default_factory=StartedWorkers)
    _pool: LocalPool | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.controller = Controller(self.ostudy, self.checkpoints_dir)
        self.reader = StudyReader(self.ostudy)
        # The window's writes wait out a worker stopped with the journal's lock for as long
        # as the study gives a silent worker (rltui.search.journal_lock).
        journal_lock.set_stall_grace(self.study.spec.control.heartbeat_grace)

    @classmethod
    def open(
        cls, study_file: Path | None, storage_url: str | None = None, study_name: str | None = None
    ) -> Session:
        """Create or join the study of ``study_file``, or join ``study_name`` in ``storage_url``."""
        with bulk_load():
            return cls._open(study_file, storage_url, study_name)

    @classmethod
    def _open(
        cls, study_file: Path | None, storage_url: str | None, study_name: str | None
    ) -> Session:
        try:
            if study_file is not None:
                try:
                    text = read_study(study_file)
                except (OSError, UnicodeDecodeError) as exc:
                    raise SessionError(f"cannot read {study_file}: {why_unreadable(exc)}") from None
                study, problems = check_text(text, str(study_file), check_env=False)
                if study is None:
                    first = next((p for p in problems if p.severity == "error"), problems[0])
                    raise SessionError(
                        f"the study file has problems: {first.format(study_file.name)}"
                    )
                study = StudyFile(
                    study.spec, study.space, text, study_file.resolve(), study.warnings
                )
                try:
                    ostudy, url = open_study(study, storage_url, publish=False)
                except JournalWriteError as exc:
                    # A study in a folder this user cannot write (a read-only mount, another
                    # user's study) is still worth looking at: opened to read, controls refuse.
                    ostudy, url = open_to_read(study, storage_url)
                    session = cls(ostudy, study, url, study_file.resolve())
                    session.read_only = str(exc)
                    return session
                # A file edited on disk is applied through the editor's preview only.
                study, version = in_force(ostudy, study)
                return cls(ostudy, study, url, study_file.resolve(), file_differs=version)
            if storage_url and study_name:
                ostudy, study = join_by_name(storage_url, study_name)
                return cls(ostudy, study, storage_url, study.path)
        except (StorageError, OSError, SpecError) as exc:
            raise SessionError(str(exc)) from None
        raise SessionError("no study: open a study file from the explorer")

    # Reading ---------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.ostudy.study_name

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def short_url(self) -> str:
        """The storage for the status bar: a journal's last two path parts, a masked URL."""
        path = journal_path(self.url)
        if path is not None:
            return "journal:" + "/".join(path.parts[-2:])
        return self.masked_url

    def study_names(self) -> list[str]:
        """The studies in this storage, asked of the storage already open (opening it again
        would read a journal a second time)."""
        return study_names(storage_of(self.ostudy))

    def poll(self) -> Snapshot:
        """Read the study (see :class:`StudyReader`), and keep :attr:`launches` up to date."""
        self.started.reap()  # first: see StartedWorkers.match
        if self._first_poll:
            self._first_poll = False
            with bulk_load():
                snapshot = self.reader.poll()
        else:
            snapshot = self.reader.poll()
        self.started.match(snapshot.workers)
        return snapshot

    @property
    def launches(self) -> tuple[WorkerLaunch, ...]:
        """Workers started from here whose records have not appeared (as of the last poll):
        the workers view shows them as starting, or failed to start."""
        return self.started.launches

    @property
    def log_dir(self) -> Path:
        if self.study_file is not None:
            return StudyHome.beside(self.study_file).logs
        return Path.cwd() / f"{self.name}.rltui" / "logs"

    @property
    def checkpoints_dir(self) -> Path:
        """The study's checkpoint folder, the only place an ending here removes from."""
        return study_home(self.study, self.url, self.study.path).checkpoints

    @property
    def trials_dir(self) -> Path:
        """Where the workers write each trial's ``trial-N/progress.jsonl`` training log."""
        return study_home(self.study, self.url, self.study.path).trials

    def journal_notes(self) -> list[str]:
        """What opening the journal found and mended (lines torn by failed writes), once."""
        return journal_notes(storage_of(self.ostudy))

    # Trial control ---------------------------------------------------------

    def request(self, number: int, action: ControlAction) -> str:
        """Carry out ``action`` on trial ``number``. A resumed trial's acknowledgement says
        where it waits, and when no worker is there to take it."""
        if self.read_only:
            return f"not done: {self.read_only}"
        try:
            message = self.controller.request(number, action)
        except ControlError as exc:
            return f"not done: {exc}"
        if action == ControlAction.RESUME:
            storage, study_id = storage_of(self.ostudy), study_id_of(self.ostudy)
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
            if status_of(storage.get_trial(trial_id)) == TrialStatus.WAITING:
                message += self._waiting_note(trial_id)
        return message

    def enqueue(
        self, params: dict[str, Any], clone_of: int | None = None, *, run_next: bool = False
    ) -> str:
        """Queue a trial with ``params`` (a clone of trial ``clone_of`` when given): at the
        end of the queue, or with ``run_next`` ahead of every enqueued trial. The
        acknowledgement says where it stands."""
        from rltui.search.study import enqueue

        if self.read_only:
            return f"not done: {self.read_only}"
        extra = {"rltui_clone_of": clone_of} if clone_of is not None else None
        number = enqueue(self.ostudy, params, run_next=run_next, user_attrs=extra)
        source = f" (clone of trial {clone_of})" if clone_of is not None else ""
        trial_id = storage_of(self.ostudy).get_trial_id_from_study_id_trial_number(
            study_id_of(self.ostudy), number
        )
        return f"enqueued trial {number}{source}" + self._waiting_note(trial_id)

    def _waiting_note(self, trial_id: int) -> str:
        """``: runs next`` or ``: 3rd in the queue (…)``, and what keeps it waiting, if
        anything does: no worker, or a study-wide drain."""
        storage, study_id = storage_of(self.ostudy), study_id_of(self.ostudy)
        place = place_of(storage, study_id, trial_id)
        note = ": a worker has taken it" if place is None else f": {describe_place(place[0])}"
        if place is None:
            return note
        system = storage.get_study_system_attrs(study_id)
        if system.get(attrs.DRAIN):
            return f"{note}; the study is draining: d turns drain off so that workers take it"
        if not self.worker_running(system):
            return f"{note}; {NO_WORKER}"
        return note

    def worker_running(self, system: dict[str, Any] | None = None) -> bool:
        """Whether a worker is there to take a waiting trial: one whose record is alive and
        not leaving (draining, or its heartbeat silent past the grace time), or one started
        here that has not registered yet. ``system`` is the study's system attributes when
        the caller has read them."""
        if system is None:
            system = storage_of(self.ostudy).get_study_system_attrs(study_id_of(self.ostudy))
        grace = self.study.spec.control.heartbeat_grace
        now = time.time()
        for record in read_records(system):
            leaving = record.state == "draining" or system.get(drain_key(record.id))
            if record.alive and not leaving and not is_lost(record, grace, now):
                return True
        self.started.reap()
        return self.started.starting()

    def set_drain(self, on: bool) -> str:
        if self.read_only:
            return f"not done: {self.read_only}"
        self.controller.set_drain(on)
        return (
            "draining: workers finish their trials and start no new ones"
            if on
            else ("drain off: workers take new trials again")
        )

    # Workers -----------------------------------------------------------------

    def pool(self) -> LocalPool:
        """The pool this window starts workers with: one for the session, so that the
        workers it started count when it places the next on a GPU."""
        if self._pool is None:
            gpus = GpuChoice.of_study(self.study.spec)
            if self.study_file is not None:
                self._pool = LocalPool(
                    self.log_dir, study_file=self.study_file, storage_url=self.url, gpus=gpus
                )
            else:
                self._pool = LocalPool(
                    self.log_dir, storage_url=self.url, study_name=self.name, gpus=gpus
                )
        return self._pool

    def next_worker_index(self, records: Iterable[WorkerRecord]) -> int:
        """An index for a new worker (its sampler seed is the study's seed plus the index)
        that no known worker has: one more than the highest among the study's worker
        records and the workers started from here, which may not have registered yet.

        Reserved at once, on the caller's thread: pressing ``w`` twice quickly gives two
        indices even though neither worker is in the storage yet.
        """
        index = max([r.index for r in records] + self._indices, default=-1) + 1
        self._indices.append(index)
        return index

    def worker_places(self, records: Iterable[WorkerRecord]) -> list[Place]:
        """Where ``w`` may start a worker (empty: only here, so it asks nothing). Reads the
        host's GPUs (nvidia-smi or NVML): call it off the event loop."""
        usable: list[int] = []
        try:
            choice = GpuChoice.of_study(self.study.spec)
            if choice is not None:
                usable = choice.usable(self.pool().host_gpus())
        except PlacementError:
            usable = []  # said when a worker is started there
        return places(self.study.spec, usable, busy_gpus(self._gpus_in_use(records)))

    def _gpus_in_use(self, records: Iterable[WorkerRecord]) -> list[int | None]:
        pool = self.pool()
        mine = {w.worker_id for w in pool.started}
        theirs = [r.gpu for r in records if r.alive and r.host == HOST and r.id not in mine]
        return [*(w.gpu for w in pool.started if pid_running(w.pid)), *theirs]

    def start_workers(
        self,
        count: int = 1,
        first_index: int = 0,
        records: Iterable[WorkerRecord] = (),
        place: Place | None = None,
    ) -> str:
        """Start ``count`` workers where ``place`` says (default: here, each on the GPU with
        the fewest workers); local ones show in :attr:`launches` until they register.
        ``records`` are the study's workers: those live on this host and not started here
        count when a new worker is placed on a GPU. Raises PermissionError for a study
        opened to read only (its workers could not write), PlacementError when the GPUs
        have no room (``workers_per_gpu``), LaunchError when ssh or sbatch fail."""
        if self.read_only:
            raise PermissionError(self.read_only)
        if place is not None and place.key in (SSH, SLURM):
            return start_remote(self.study.spec, self.url, self.name, count)
        pool = self.pool()
        mine = {w.worker_id for w in pool.started}
        busy = [r.gpu for r in records if r.alive and r.host == HOST and r.id not in mine]
        gpu = place.gpu if place is not None else None
        launched = pool.start(count, first_index=first_index, busy=busy, gpu=gpu)
        self.started.add(launched, first_index)
        pids = ", ".join(str(w.pid) for w in launched)
        where = sorted({w.gpu for w in launched if w.gpu is not None})
        on = f" on GPU {', '.join(map(str, where))}" if where else ""
        return f"started {len(launched)} worker{'s' if len(launched) != 1 else ''}{on} (pid {pids})"

    def drain_worker(self, record: WorkerRecord) -> str:
        if self.read_only:
            return f"not done: {self.read_only}"
        storage = storage_of(self.ostudy)
        storage.set_study_system_attr(study_id_of(self.ostudy), drain_key(record.id), True)
        doing = f" after trial {record.trial}" if record.trial is not None else ""
        return f"worker {record.id} stops{doing}"

    def stop_local_workers(self, records: list[WorkerRecord]) -> str:
        """SIGTERM to live workers on this host: each pauses its trial and exits."""
        stopped = [
            r
            for r in records
            if r.alive
            and r.host == HOST
            and r.pid != os.getpid()
            and signal_worker(r.pid, signal.SIGTERM)
        ]
        return f"asked {len(stopped)} local worker{'s' if len(stopped) != 1 else ''} to stop"

    # The study file ------------------------------------------------------------

    def check_publish(self, study: StudyFile) -> list[Problem]:
        """Why Optuna would refuse ``study`` for this running study (empty when it would not)."""
        return incompatible_changes(self.study.space, study.space, study.spec.name)

    def publish(self, study: StudyFile) -> int:
        """Store ``study`` as the next spec version; raises SpecError when Optuna refuses."""
        if self.read_only:
            raise PermissionError(self.read_only)
        version = publish_spec(self.ostudy, study)
        self.study = study
        self.controller.checkpoints = self.checkpoints_dir  # checkpoint_dir may have changed
        return version

    # A PBT study's population: workers read these settings at each segment end -----------

    def freeze_member(self, member: int, frozen: bool) -> str:
        """Freeze ``member`` (never replaced nor perturbed), or let PBT decide for it again."""
        said = "frozen: never replaced nor perturbed" if frozen else "unfrozen: PBT decides again"
        return self._population(segments.set_frozen, member, frozen) or f"m{member} {said}"

    def force_exploit(self, member: int, donor: int | None) -> str:
        """Make ``member`` copy ``donor`` at its next segment end (None: no longer)."""
        said = f"copies m{donor} at its next segment end" if donor is not None else "copies no one"
        return self._population(segments.force_exploit, member, donor) or f"m{member} {said}"

    def set_population(self, size: int) -> str:
        done = f"population: {size} members from the next segment end"
        return self._population(segments.set_population, size) or done

    def set_perturb(self, factors: tuple[float, ...]) -> str:
        shown = ", ".join(f"x{f:g}" for f in factors)
        return self._population(segments.set_perturb, factors) or f"perturbation factors: {shown}"

    def _population(self, write: Callable[..., None], *args: Any) -> str | None:
        """``write(storage, study_id, *args)``; why it was not done, or None when it was."""
        if self.read_only:
            return f"not done: {self.read_only}"
        write(storage_of(self.ostudy), study_id_of(self.ostudy), *args)
        return None
