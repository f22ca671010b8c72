"""Where a study's workers run: the GPUs of this machine, SSH hosts, or a Slurm cluster.

The study file's ``launcher`` block names one launcher and its options; ``gpus`` and
``workers_per_gpu`` say how the local launcher spreads workers over this machine's GPUs::

    gpus: all                 # or [0, 2], or none
    workers_per_gpu: 2
    launcher:
      type: slurm             # local (default), ssh or slurm
      partition: gpu
      time: "4:00:00"
      gpus_per_worker: 1

Only the syntax is checked here (the spec layer knows no host, GPU or cluster); the launchers
in :mod:`rltui.launch` check the rest where they run.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from rltui.spec.gpus import parse_gpus

# A host as SSH configurations name them: never starting with '-', which ssh would read as
# one of its options (``-oProxyCommand=...`` runs a command).
HOST_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@:\[\]-]*$")
# Slurm's --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS.
TIME_RE = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")
MEMORY_RE = re.compile(r"^\d+[KMGT]?$", re.IGNORECASE)
SSH_KEYS = ("hosts", "ssh_config")
SLURM_KEYS = ("partition", "time", "gpus_per_worker", "cpus_per_worker", "memory", "sbatch_args")


def _gpus(value: Any) -> Any:
    if value is None:
        return None
    parsed = parse_gpus(value)
    return "all" if parsed is None else list(parsed)


Gpus = Annotated[str | list[int] | None, BeforeValidator(_gpus)]


class LauncherSpec(BaseModel):
    """The ``launcher`` block: how workers are started (``local`` by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["local", "ssh", "slurm"] = "local"
    # ssh and slurm: the interpreter that has rltui installed where the workers run.
    python: str = "python3"
    log_dir: str = "~/.rltui/logs"
    # ssh
    hosts: tuple[str, ...] = ()
    ssh_config: str | None = None
    # slurm
    partition: str | None = None
    time: str | None = None
    gpus_per_worker: int = Field(default=0, ge=0)
    cpus_per_worker: int = Field(default=1, ge=1)
    memory: str | None = None
    sbatch_args: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _fits_type(self) -> LauncherSpec:
        given = self.model_fields_set
        if self.type != "ssh" and (wrong := [k for k in SSH_KEYS if k in given]):
            raise ValueError(
                f"{', '.join(wrong)}: only for type: ssh (this launcher is {self.type})"
            )
        if self.type != "slurm" and (wrong := [k for k in SLURM_KEYS if k in given]):
            raise ValueError(
                f"{', '.join(wrong)}: only for type: slurm (this launcher is {self.type})"
            )
        if self.type == "ssh" and not self.hosts:
            raise ValueError("type: ssh needs hosts: the names your SSH configuration gives them")
        for host in self.hosts:
            if not HOST_RE.match(host):
                raise ValueError(
                    f"host '{host}' is not a host name: letters, digits, '.', '-', '_', '@' "
                    "and ':' only, not starting with '-'"
                )
        if self.time is not None and not TIME_RE.match(self.time):
            raise ValueError(
                f"time '{self.time}' is not a Slurm time: write minutes, HH:MM:SS or D-HH:MM:SS"
            )
        if self.memory is not None and not MEMORY_RE.match(self.memory):
            raise ValueError(f"memory '{self.memory}' is not a Slurm size: write e.g. 16G or 4000M")
        return self
