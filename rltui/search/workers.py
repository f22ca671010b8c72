"""Worker records: who is training what, and whether it is still alive.

Each worker writes its record (``rltui:worker:<id>`` on the study) every heartbeat interval.
A record whose heartbeat is older than the grace time, or whose process is gone on this host,
belongs to a lost worker; :func:`find_lost_workers` names them so their trials can be failed or
retried.

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

import os
import socket
import time
from dataclasses import asdict, dataclass, replace
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


@dataclass(frozen=True)
class WorkerRecord:
    """What the UI shows of a worker; ``state`` is idle, training, draining, exited or lost.

    ``reason`` says why an exited or lost worker ended (see the module docstring);
    ``trial_outcome`` what became of a lost worker's trial (``trial`` keeps its number). Both
    are None in records written before workers said why, which still load.
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


def new_record(worker_id: str, device: str, log: str | None, index: int = 0) -> WorkerRecord:
    now = time.time()
    return WorkerRecord(worker_id, HOST, os.getpid(), device, now, now, log=log, index=index)


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


def is_lost(record: WorkerRecord, grace: float, now: float | None = None) -> bool:
    if not record.alive:
        return False
    if record.host == HOST and not _pid_alive(record.pid):
        return True
    return (now or time.time()) - record.heartbeat > grace


def find_lost_workers(system_attrs: dict[str, Any], grace: float) -> list[WorkerRecord]:
    now = time.time()
    return [r for r in read_records(system_attrs) if is_lost(r, grace, now)]


def _pid_alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
