"""Workers started from the window where the study's ``launcher`` block says: on its SSH
hosts, or as a Slurm job. They join through the storage and show in the workers view once
they register (a remote worker imports torch first, as a local one does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rltui.launch.remote import launcher_of
from rltui.launch.ssh import SshLauncher
from rltui.spec.wording import counted

if TYPE_CHECKING:
    from rltui.spec.model import StudySpec


def start_remote(spec: StudySpec, url: str, name: str, count: int) -> str:
    """Start ``count`` workers with the study's SSH or Slurm launcher; returns what was
    started. Raises LaunchError with what ssh or sbatch said."""
    note = "; the hosts must share the journal's folder" if url.startswith("journal:") else ""
    launcher = launcher_of(spec, url, name)
    if isinstance(launcher, SshLauncher):
        started = launcher.start(count)
        where = ", ".join(f"{w.host} (pid {w.pid})" for w in started)
        return f"started {counted(len(started), 'worker')} over ssh: {where}{note}"
    job = launcher.submit(count)
    return (
        f"submitted Slurm job {job.job_id}: {counted(job.tasks, 'worker')}; "
        f"`rltui launch --cancel {job.job_id}` drains it{note}"
    )
