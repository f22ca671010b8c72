"""The launcher a study's ``launcher`` block describes, ready to start workers that join the
study through ``url``: SSH hosts or a Slurm array job (``type: local`` has none here: the
local pool starts those)."""

from __future__ import annotations

from rltui.launch.slurm import SlurmLauncher
from rltui.launch.ssh import SshLauncher
from rltui.spec.model import StudySpec


def launcher_of(spec: StudySpec, url: str, name: str) -> SshLauncher | SlurmLauncher:
    """The study's SSH or Slurm launcher; ValueError for ``type: local``."""
    block = spec.launcher
    device = None if spec.device == "auto" else spec.device
    if block.type == "ssh":
        return SshLauncher(
            block.hosts,
            url,
            name,
            python=block.python,
            config=block.ssh_config,
            device=device,
            log_dir=block.log_dir,
        )
    if block.type == "slurm":
        return SlurmLauncher(
            url,
            name,
            partition=block.partition,
            time_limit=block.time,
            gpus_per_worker=block.gpus_per_worker,
            cpus_per_worker=block.cpus_per_worker,
            memory=block.memory,
            python=block.python,
            device=device,
            log_dir=block.log_dir,
            sbatch_args=block.sbatch_args,
        )
    raise ValueError("the study's launcher is local: the local pool starts its workers")
