"""Worker records: who is training what, and whether it is still alive.

Each worker writes its record (``rltui:worker:<id>`` on the study) every heartbeat interval.
:func:`find_lost_workers` names the records of lost workers so that their trials can be failed
or retried. A worker counts as lost:

- on this host, at once when its process is gone, or its pid now belongs to another process
  (the record keeps the process's start time to tell); when its process is stopped (SIGSTOP,
  a debugger) and its heartbeat is older than the grace time, since it holds its trial for as
  long as it stays stopped (one that holds the journal's lock as well is ended by the writer
  waiting for it: :mod:`rltui.search.journal_lock`); and when its process runs but its
  heartbeat is older than :data:`HUNG_GRACES` grace times. A running process with an old
  heartbeat is not lost sooner: a busy host can starve its heartbeat thread for a while, and
  the process itself says it is alive; the long bound still frees the trial of a worker whose
  heartbeat thread died.
- on another host, when its heartbeat is older than the grace time.

Heartbeats are judged only by a reaper that was itself awake meanwhile: a process that was
stalled (a suspended VM, a whole host under SIGSTOP, a storage that hung) sees every other
heartbeat as old, though the others were most likely stalled with it. A :class:`StallGuard`
notices the reaper's own stall and gives the others a full grace time from its wake-up before
their silence counts.

A worker that ends says why in its record's ``reason``, so that nothing about its end is
silent. The reason starts with one of four words, which the UI reads as how much the end
matters:

- ``left: …`` — it ran out of work or was asked to go (the study drains, the trial budget is
  reached, ``--max-trials`` is done, a checkpoint is out of its reach);
- ``stopped by …`` — a signal (``stopped by SIGTERM: its trial 3 was paused``);
- ``ended: …`` — its process was ended against its will (training that ignored a prune or
  kill, an error in the loop itself);
- ``lost: …`` — written by whoever declared it lost (``lost: no heartbeat for 23 s (declared
  by worker 1f2e3d4c)``).

A lost worker's record also says what became of the trial it held (``trial_outcome``),
written once the trial has been handled: ``retried …`` or ``marked FAIL …``.
"""

from __future__ import annotations

import enum
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from rltui.search import attrs

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

# The name a worker's record gives its host; RLTUI_HOST overrides it where the system's host
# name says nothing (containers with random names) or is the same on several machines.
HOST = os.environ.get("RLTUI_HOST") or socket.gethostname()

# The first word of a lost worker's ``trial_outcome`` when its trial is to run again.
RETRIED = "retried"
# The host's index of the GPU a launcher placed a worker on; the launcher also makes that GPU
# the only one the worker sees (CUDA_VISIBLE_DEVICES), where it is cuda:0.
GPU_ENV = "RLTUI_GPU"

# How many grace times a worker whose process still runs on this host may go without a
# heartbeat before it counts as lost all the same (its heartbeat thread has died).
HUNG_GRACES = 10


@dataclass(frozen=True)
class WorkerRecord:
    """What the UI shows of a worker; ``state`` is idle, training, draining, exited or lost.

    ``reason`` says why an exited or lost worker ended (see the module docstring);
    ``trial_outcome`` what became of a lost worker's trial (``trial`` keeps its number). Both
    are None in records written before workers said why, which still load.

    ``pid_start`` is when the process started, as its host counts it (Linux: clock ticks after
    boot, field 22 of ``/proc/<pid>/stat``), so that a reused pid is not taken for the worker;
    None where the system does not say, and in older records.
    """

    id: str
    host: str
    pid: int
    device: str
    started: float
    heartbeat: float
    state: str = "idle"
    trial: int | None = None
    trial_id: int | None = None
    log: str | None = None
    index: int = 0
    reason: str | None = None
    trial_outcome: str | None = None
    pid_start: int | None = None
    gpu: int | None = None  # the host's index of the GPU it was placed on (None: not placed)
    job: str | None = None  # the batch system's job id (Slurm: JOBID_TASK), when it runs in one

    @property
    def alive(self) -> bool:
        return self.state not in ("exited", "lost")

    @property
    def trial_retried(self) -> bool:
        """Whether a lost worker's trial was put back to run again (rather than failed)."""
        return (self.trial_outcome or "").startswith(RETRIED)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerRecord:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def new_record(
    worker_id: str, device: str, log: str | None, index: int = 0, gpu: int | None = None
) -> WorkerRecord:
    now = time.time()
    pid = os.getpid()
    return WorkerRecord(
        worker_id,
        HOST,
        pid,
        device,
        now,
        now,
        log=log,
        index=index,
        pid_start=process_start(pid),
        gpu=gpu,
        job=batch_job(),
    )


def batch_job(environ: Mapping[str, str] | None = None) -> str | None:
    """The Slurm job this process runs in (``JOBID_TASK`` for an array task), or None."""
    env = os.environ if environ is None else environ
    array, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return env.get("SLURM_JOB_ID") or None


def placed_gpu(environ: Mapping[str, str] | None = None) -> int | None:
    """The host's index of the GPU a launcher placed this worker on (``RLTUI_GPU``), or None
    when it was not placed (or the variable is not an index)."""
    raw = (os.environ if environ is None else environ).get(GPU_ENV, "").strip()
    return int(raw) if raw.isdigit() else None


def write_record(storage: BaseStorage, study_id: int, record: WorkerRecord) -> WorkerRecord:
    """Store ``record``; a live worker's heartbeat becomes now."""
    record = replace(record, heartbeat=time.time()) if record.alive else record
    storage.set_study_system_attr(study_id, attrs.worker_key(record.id), record.to_json())
    return record


def stored_record(storage: BaseStorage, study_id: int, worker_id: str) -> WorkerRecord | None:
    """The record of worker ``worker_id`` as the storage holds it now."""
    value = storage.get_study_system_attrs(study_id).get(attrs.worker_key(worker_id))
    return WorkerRecord.from_json(value) if isinstance(value, dict) else None


def read_records(system_attrs: dict[str, Any]) -> list[WorkerRecord]:
    """Worker records from a study's system attributes, oldest first."""
    records = [
        WorkerRecord.from_json(value)
        for key, value in system_attrs.items()
        if key.startswith(attrs.WORKER_PREFIX) and isinstance(value, dict)
    ]
    return sorted(records, key=lambda r: r.started)


def drain_key(worker_id: str) -> str:
    return f"{attrs.PREFIX}drain_worker:{worker_id}"


class Process(enum.Enum):
    """What this host can see of a worker record's process."""

    ELSEWHERE = "on another host"
    GONE = "gone"
    REUSED = "gone (its pid now belongs to another process)"
    STOPPED = "stopped"
    RUNNING = "running"


def process_of(record: WorkerRecord) -> Process:
    """The state of ``record``'s process, as seen from this host."""
    if record.host != HOST:
        return Process.ELSEWHERE
    stat = _proc_stat(record.pid)
    if stat is None:  # no /proc: ask psutil, which cannot tell a reused pid
        return _psutil_state(record.pid)
    state, started = stat
    if state in "ZXx":
        return Process.GONE
    if record.pid_start is not None and started != record.pid_start:
        return Process.REUSED
    # T: stopped by a signal; t: stopped by a debugger. Either holds its trial.
    return Process.STOPPED if state in "Tt" else Process.RUNNING


def is_lost(
    record: WorkerRecord, grace: float, now: float | None = None, awake_since: float = 0.0
) -> bool:
    """Whether ``record``'s worker is lost (see the module docstring). ``awake_since`` is the
    wall time since which the caller has run without a stall: silence counts from no earlier."""
    if not record.alive:
        return False
    process = process_of(record)
    if process in (Process.GONE, Process.REUSED):
        return True
    silent = (time.time() if now is None else now) - max(record.heartbeat, awake_since)
    if process is Process.RUNNING:
        return silent > HUNG_GRACES * grace
    return silent > grace


def find_lost_workers(
    system_attrs: dict[str, Any],
    grace: float,
    now: float | None = None,
    awake_since: float = 0.0,
) -> list[WorkerRecord]:
    """The lost workers among a study's records. ``now`` is best taken before the attributes
    were read: a record can then only look younger than it is, never older."""
    now = time.time() if now is None else now
    return [r for r in read_records(system_attrs) if is_lost(r, grace, now, awake_since)]


class StallGuard:
    """Since when this process has run without a stall, for a reaper to judge others fairly.

    Tick it every round of a periodic loop (about ``interval`` seconds apart); a gap between two
    ticks longer than ``interval`` plus half the grace time, measured with the monotonic clock,
    means the process was stalled, and :attr:`awake_since` becomes the wall time it woke up.
    Records are compared with it in wall time, the only clock shared across hosts. The first
    tick only starts the count (starting up is no stall); ticks may come from several threads.
    """

    def __init__(self, interval: float, grace: float | None = None):
        self.interval = interval
        self.grace = grace
        self.awake_since = 0.0  # no stall seen
        self.stalled_for = 0.0  # seconds of the last stall
        self._last: float | None = None
        self._lock = threading.Lock()

    def late(self, seconds: float) -> None:
        """This process ran but could not write its own heartbeat for ``seconds`` (a full
        disk, an unreachable database): to the others it looked as stalled as it would if it
        had not run, and theirs may be as late, so it counts as a stall when long enough."""
        with self._lock:
            if self.grace is not None and seconds > self.grace / 2:
                self.awake_since = time.time()
                self.stalled_for = seconds

    def tick(self, grace: float | None = None) -> float:
        """Note that the process runs now; returns :attr:`awake_since`. ``grace`` replaces the
        grace time (a new version of the study file may change it)."""
        with self._lock:
            if grace is not None:
                self.grace = grace
            now = time.monotonic()
            gap = 0.0 if self._last is None else now - self._last
            if self.grace is not None and gap > self.interval + self.grace / 2:
                self.awake_since = time.time()
                self.stalled_for = gap
            self._last = now
            return self.awake_since


def process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks after boot (Linux); None where the system
    does not say or there is no such process."""
    stat = _proc_stat(pid)
    return stat[1] if stat and stat[0] not in "Xx" else None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """The state letter and start time (clock ticks after boot) of process ``pid`` from
    Linux's ``/proc``; ``("X", 0)`` when there is no such process; None without ``/proc``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return ("X", 0) if Path("/proc/self/stat").exists() else None
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])  # fields 3 and 22


def _psutil_state(pid: int) -> Process:
    try:
        status = psutil.Process(pid).status()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return Process.GONE
    if status in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
        return Process.GONE
    if status in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP):
        return Process.STOPPED
    return Process.RUNNING
