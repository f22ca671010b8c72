"""The Slurm launcher: an array job of N workers, submitted with ``sbatch``.

Each array task runs one ``rltui worker`` that joins the study through its storage (the
cluster's nodes must reach it: PostgreSQL, or a journal on a shared folder), so the launcher
adds no server and the workers need no path back to the window. The job script is plain
``sh``; the storage URL, which may hold a password, goes into the job's environment (sbatch
exports the submitting environment), never onto a command line or into the script file.

Cancelling drains: :meth:`SlurmLauncher.cancel` sends SIGTERM to each task's worker, which
pauses its trial with a checkpoint (any worker resumes it later) and leaves; the job then ends
by itself. ``force=True`` is Slurm's own cancel (SIGTERM, then SIGKILL after ``KillWait``).

Each task's worker records its job id (``JOBID_TASK``) from Slurm's environment, so the
workers view shows it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rltui.launch.local import STORAGE_ENV
from rltui.launch.ssh import LaunchError

TIMEOUT = 60  # seconds a Slurm command may take


@dataclass(frozen=True)
class SlurmJob:
    """An array job of ``tasks`` workers."""

    job_id: str
    tasks: int
    log_dir: Path


class SlurmLauncher:
    """Submits array jobs of workers for one study."""

    def __init__(
        self,
        storage_url: str,
        study_name: str,
        *,
        partition: str | None = None,
        time_limit: str | None = None,
        gpus_per_worker: int = 0,
        cpus_per_worker: int = 1,
        memory: str | None = None,
        python: str = "python3",
        device: str | None = None,
        log_dir: Path | str = "~/.rltui/logs",
        sbatch_args: tuple[str, ...] = (),
    ):
        self.storage_url = storage_url
        self.study_name = study_name
        self.partition = partition
        self.time_limit = time_limit
        self.gpus_per_worker = gpus_per_worker
        self.cpus_per_worker = cpus_per_worker
        self.memory = memory
        self.python = python
        self.device = device
        self.log_dir = Path(log_dir).expanduser()
        self.sbatch_args = tuple(sbatch_args)
        self.jobs: list[SlurmJob] = []

    def script(self) -> str:
        """The job script: one worker per array task, its id from the job's."""
        worker = [*shlex.split(self.python), "-m", "rltui", "worker", "--storage-from-env"]
        worker += ["--study", self.study_name]
        if self.device:
            worker += ["--device", self.device]
        command = " ".join(shlex.quote(part) for part in worker)
        log = shlex.quote(str(self.log_dir)) + '/worker-"$id".log'
        return (
            "#!/bin/sh\n"
            "# An rltui worker per array task; the storage URL is in the environment.\n"
            'id="s${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}-${SLURM_ARRAY_TASK_ID:-0}"\n'
            "export PYTHONUNBUFFERED=1\n"
            f'exec {command} --worker-id "$id" --index "${{SLURM_ARRAY_TASK_ID:-0}}" '
            f"--log {log}\n"
        )

    def sbatch_command(self, count: int, script: Path) -> list[str]:
        cmd = ["sbatch", "--parsable", f"--array=0-{count - 1}", "--job-name", "rltui-worker"]
        # The worker's own log file, named as the script names the worker (s<job>-<task>).
        cmd += [f"--output={self.log_dir}/worker-s%A-%a.log"]
        cmd += [f"--cpus-per-task={self.cpus_per_worker}"]
        if self.partition:
            cmd.append(f"--partition={self.partition}")
        if self.time_limit:
            cmd.append(f"--time={self.time_limit}")
        if self.gpus_per_worker:
            cmd.append(f"--gpus-per-task={self.gpus_per_worker}")
        if self.memory:
            cmd.append(f"--mem={self.memory}")
        return [*cmd, *self.sbatch_args, str(script)]

    def submit(self, count: int) -> SlurmJob:
        """Submit an array of ``count`` workers; returns the job. Raises
        :class:`LaunchError` with what sbatch said."""
        if count < 1:
            raise ValueError("submit at least one worker")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", suffix=".sh", prefix="rltui-worker-", dir=self.log_dir, delete=False
        ) as handle:
            handle.write(self.script())
            script = Path(handle.name)
        try:
            env = {**os.environ, STORAGE_ENV: self.storage_url}
            done = _run(self.sbatch_command(count, script), env=env)
        finally:
            script.unlink(missing_ok=True)  # sbatch keeps its own copy of the script
        job_id = done.stdout.strip().split(";")[0]
        if not job_id.isdigit():
            raise LaunchError(f"sbatch gave no job id: {done.stdout.strip() or 'nothing'}")
        job = SlurmJob(job_id, count, self.log_dir)
        self.jobs.append(job)
        return job

    def states(self, job: SlurmJob) -> dict[str, str]:
        """Each queued or running task's state as Slurm says it (``PENDING``, ``RUNNING``,
        ``COMPLETING``...), by ``JOBID_TASK``; tasks that have ended are absent."""
        done = _run(["squeue", "-h", "-r", "-j", job.job_id, "-o", "%i %T"], check=False)
        out = {}
        for line in done.stdout.splitlines():
            task, _, state = line.strip().partition(" ")
            if task:
                out[task] = state.strip()
        return out

    def cancel(self, job: SlurmJob, *, force: bool = False) -> None:
        """Drain the job's workers (SIGTERM to each task's worker: it pauses its trial and
        leaves); ``force`` cancels at once, as Slurm does."""
        if force:
            _run(["scancel", job.job_id])
        else:
            _run(["scancel", "--batch", "--signal=TERM", job.job_id])


def _run(
    cmd: list[str], *, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except FileNotFoundError:
        raise LaunchError(f"'{cmd[0]}' is not installed here: run on a Slurm login node") from None
    except subprocess.TimeoutExpired:
        raise LaunchError(f"'{cmd[0]}' did not answer within {TIMEOUT} s") from None
    if check and done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).split()) or "nothing"
        raise LaunchError(f"{cmd[0]} failed with exit code {done.returncode}: {said}")
    return done
