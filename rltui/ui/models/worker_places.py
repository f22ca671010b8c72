"""Where ``w`` may start a worker: this machine (on the GPU with the fewest workers, or one
the user picks), the study's SSH hosts, or a Slurm job. When there is only one place (no GPU
to choose, a local launcher), ``w`` starts there at once and asks nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rltui.spec.wording import counted

if TYPE_CHECKING:
    from rltui.spec.model import StudySpec

HERE = "here"
AUTO = "auto"
SSH = "ssh"
SLURM = "slurm"


@dataclass(frozen=True)
class Place:
    """A place to start a worker: ``key`` (``here``, ``auto``, ``gpu:N``, ``ssh``,
    ``slurm``) and what the picker shows."""

    key: str
    label: str

    @property
    def gpu(self) -> int | None:
        """The GPU picked, for ``gpu:N``."""
        return int(self.key[4:]) if self.key.startswith("gpu:") else None


def places(spec: StudySpec, usable: Sequence[int], workers: Mapping[int, int]) -> list[Place]:
    """The places ``w`` offers for a study (``usable``: this host's GPUs the study may use;
    ``workers``: how many live workers each holds). Empty when there is no choice."""
    out: list[Place] = []
    if len(usable) >= 2:
        out.append(Place(AUTO, "here, on the GPU with the fewest workers"))
        for gpu in usable:
            count = workers.get(gpu, 0)
            out.append(Place(f"gpu:{gpu}", f"here, on GPU {gpu} ({counted(count, 'worker')} now)"))
    else:
        where = f" (GPU {usable[0]})" if usable else ""
        out.append(Place(HERE, f"here, on this machine{where}"))
    launcher = spec.launcher
    if launcher.type == "ssh":
        hosts = ", ".join(launcher.hosts)
        out.append(Place(SSH, f"over ssh, on the host with the fewest: {hosts}"))
    elif launcher.type == "slurm":
        partition = f" on partition {launcher.partition}" if launcher.partition else ""
        out.append(Place(SLURM, f"as a Slurm job{partition}"))
    return out if len(out) > 1 else []
