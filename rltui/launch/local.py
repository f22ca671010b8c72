"""The local launcher: worker processes on this machine, detached from the terminal.

Each worker is ``python -m rltui worker ...`` in a new session (``start_new_session``), so
closing the UI, killing it, or a SIGHUP from a dropped SSH link stops no training. Workers run
at a lower scheduling priority than the UI, so training never steals the keyboard
(``RLTUI_WORKER_NICE`` sets another nice value: 0 for workers that must keep pace on a busy
machine, as in the test suite, which waits on them). Each
writes its stdout and stderr into ``worker-ID.log`` in the pool's log folder, and is told that
file's name (``--log``) so that its worker record names it for the UI's log view.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from rltui.launch.placement import GpuChoice, busy_gpus, host_gpus, place, worker_env
from rltui.search.folders import worker_log

# The variable a started worker reads its storage URL from when the URL holds a password.
STORAGE_ENV = "RLTUI_STORAGE_URL"

NICE = 10
# The nice value of the workers a pool starts when its caller names none.
NICE_ENV = "RLTUI_WORKER_NICE"


def default_nice() -> int:
    """The workers' nice value: :data:`NICE_ENV` when set, else :data:`NICE`.

    Raises :class:`ValueError`, saying what to set, when the variable is not a nice value
    a process may take for itself (0 to 19).
    """
    raw = os.environ.get(NICE_ENV, "").strip()
    if not raw:
        return NICE
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 19:
        raise ValueError(
            f"{NICE_ENV}={raw!r} is not a nice value: set it to a whole number from 0 "
            f"(normal priority) to 19 (the lowest), or unset it for {NICE}"
        )
    return value


@dataclass(frozen=True)
class LaunchedWorker:
    worker_id: str
    pid: int
    log: Path
    gpu: int | None = None  # the host's index of the GPU it was placed on


class LocalPool:
    """Starts workers for one study on this machine.

    ``target`` is either a study file (``study_file``) or a storage URL plus study name.
    ``nice`` is the workers' nice value (default: :func:`default_nice`); 0 leaves them at the
    caller's priority.
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        study_file: Path | None = None,
        storage_url: str | None = None,
        study_name: str | None = None,
        device: str | None = None,
        nice: int | None = None,
        gpus: GpuChoice | None = None,
        host_gpus: Callable[[], list[int]] = host_gpus,
    ):
        if study_file is None and (storage_url is None or study_name is None):
            raise ValueError("give a study file, or a storage URL and a study name")
        self.log_dir = Path(log_dir)
        self.study_file = study_file
        self.storage_url = storage_url
        self.study_name = study_name
        self.device = device
        self.nice = default_nice() if nice is None else nice
        # GPU placement: only where the workers may train on a GPU (not on an explicit cpu,
        # nor on a device the user pinned, such as cuda:1).
        self.gpus = gpus if device in (None, "auto", "cuda") else None
        self.host_gpus = host_gpus
        self.started: list[LaunchedWorker] = []

    def command(
        self,
        worker_id: str,
        index: int,
        max_trials: int | None = None,
        log: Path | None = None,
    ) -> list[str]:
        """The worker's command line; ``log`` is the file its output is redirected to."""
        cmd = [sys.executable, "-m", "rltui", "worker"]
        if self.study_file is not None:
            cmd.append(str(self.study_file))
        if self.storage_url is not None:
            from rltui.search.storage import mask_url  # loads Optuna: not at the UI's start

            # A password would show in every `ps` listing; the environment of a process is
            # readable by its own user only.
            if mask_url(self.storage_url) != self.storage_url:
                cmd += ["--storage-from-env"]
            else:
                cmd += ["--storage", self.storage_url]
        if self.study_name is not None and self.study_file is None:
            cmd += ["--study", self.study_name]
        cmd += ["--worker-id", worker_id, "--index", str(index)]
        if self.device:
            cmd += ["--device", self.device]
        if max_trials is not None:
            cmd += ["--max-trials", str(max_trials)]
        if log is not None:
            cmd += ["--log", str(log)]
        return cmd

    def start(
        self,
        count: int = 1,
        *,
        first_index: int = 0,
        max_trials: int | None = None,
        extra_env: dict[str, str] | None = None,
        busy: Iterable[int | None] = (),
        gpu: int | None = None,
    ) -> list[LaunchedWorker]:
        """Start ``count`` detached workers; returns them at once (they register themselves in
        the storage within a second or two).

        With GPU placement, each goes to the GPU with the fewest workers, counting this pool's
        live workers and ``busy`` (the GPUs of the study's other live workers, from their
        records), or on ``gpu`` when given; raises :class:`PlacementError` when
        ``workers_per_gpu`` leaves no room."""
        placed: list[int | None] = [None] * count
        if self.gpus is not None:
            mine = [w.gpu for w in self.started if pid_running(w.pid)]
            placed = place(count, self.gpus, self.host_gpus(), busy_gpus([*mine, *busy]), gpu)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        launched = []
        for offset, gpu in enumerate(placed):
            worker_id = uuid.uuid4().hex[:8]
            log = worker_log(self.log_dir, worker_id)
            # PYTHONSAFEPATH: the folder the window was started from is not put first on the
            # worker's sys.path, so no module there shadows one the study names.
            env = {
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "PYTHONSAFEPATH": "1",
                **(extra_env or {}),
                **worker_env(gpu),
            }
            if self.storage_url is not None:
                env[STORAGE_ENV] = self.storage_url
            with open(log, "ab") as out:
                proc = subprocess.Popen(
                    self.command(worker_id, first_index + offset, max_trials, log.resolve()),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=env,
                    preexec_fn=self._lower_priority if self.nice else None,
                )
            launched.append(LaunchedWorker(worker_id, proc.pid, log, gpu))
        self.started.extend(launched)
        return launched

    def _lower_priority(self) -> None:  # runs in the child, after setsid, before exec
        os.nice(self.nice)
        # With autogroup scheduling (on in most Linux kernels), each session is a scheduling
        # group of its own and a nice value only counts inside its group: a worker in its new
        # session would take as much CPU as the UI's whole session. Lower the group too.
        # (Not Linux, or no autogroup: os.nice alone is enough.)
        with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as group:
            group.write(str(self.nice))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the workers this pool started; True when all have exited."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for worker in self.started:
            while pid_running(worker.pid):
                if deadline is not None and time.monotonic() > deadline:
                    return False
                time.sleep(0.1)
        return True


def pid_running(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):  # reap our own children: no zombies
        os.waitpid(pid, os.WNOHANG)
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def signal_worker(pid: int, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig`` to a local worker. SIGTERM asks it to pause its trial and exit; SIGKILL
    ends it at once (its trial is then handled by the heartbeat)."""
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False
