"""Which GPU each new worker trains on.

A study (or ``rltui run`` / the window) names the GPUs to use (``all``, or indices such as
``[0, 2]``) and how many workers may share one (``workers_per_gpu``). Each worker is started
seeing only its own GPU (``CUDA_VISIBLE_DEVICES``), so inside the worker it is ``cuda:0``
whatever its index on the host; ``RLTUI_GPU`` tells the worker the host's index, so that the
workers view can name it. New workers go to the GPU with the fewest workers (the lowest index
among equals), and never beyond ``workers_per_gpu`` on any: asking for more is refused with
the count that fits.

Pure logic, without CUDA: the GPUs a host has come from :func:`host_gpus`, which reads
NVIDIA's management library (nvidia-ml-py) when it is installed, else ``nvidia-smi``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rltui.search.workers import GPU_ENV
from rltui.spec.gpus import parse_gpus
from rltui.spec.wording import counted

if TYPE_CHECKING:  # pydantic: not on the window's first paint, which imports the launcher
    from rltui.spec.model import StudySpec

VISIBLE_ENV = "CUDA_VISIBLE_DEVICES"


class PlacementError(ValueError):
    """GPUs asked for that this host cannot give; the message says what fits."""


@dataclass(frozen=True)
class GpuChoice:
    """Which GPUs to use and how many workers each may hold (None: no limit)."""

    gpus: tuple[int, ...] | None  # None: every GPU the host has
    workers_per_gpu: int | None = None
    # Named on a command line: a host without those GPUs is an error. From a study file
    # (device auto): a host without any GPU trains on its CPU, as auto means.
    required: bool = True

    @classmethod
    def parse(
        cls, gpus: str | Sequence[int] | None, workers_per_gpu: int | None = None
    ) -> GpuChoice:
        """``all``, ``none``, ``"0,2"`` or a list of indices (as a study file's ``gpus``);
        raises PlacementError with the accepted forms."""
        if workers_per_gpu is not None and workers_per_gpu < 1:
            raise PlacementError(
                f"workers_per_gpu is {workers_per_gpu}: it must be 1 or more (or left out)"
            )
        try:
            return cls(parse_gpus(gpus), workers_per_gpu)
        except ValueError as exc:
            raise PlacementError(str(exc)) from None

    @classmethod
    def of_study(
        cls, spec: StudySpec, gpus: str | None = None, workers_per_gpu: int | None = None
    ) -> GpuChoice | None:
        """The choice a study file makes (``gpus``, ``workers_per_gpu``), ``gpus`` and
        ``workers_per_gpu`` given on a command line overriding it; None when the study trains
        on a device that is not "any CUDA GPU" (cpu, mps, or one it pins such as cuda:1).
        Raises PlacementError for a bad value, or for GPUs asked for on such a device."""
        chosen = spec.gpus if gpus is None else gpus
        per_gpu = spec.workers_per_gpu if workers_per_gpu is None else workers_per_gpu
        choice = cls.parse(chosen, per_gpu)
        if spec.device in ("auto", "cuda"):
            given = gpus is not None or spec.device == "cuda"
            return cls(choice.gpus, choice.workers_per_gpu, required=given)
        if gpus is not None or workers_per_gpu is not None:
            raise PlacementError(
                f"the study trains on device '{spec.device}', so its workers are not placed on "
                "GPUs: set device: auto (or cuda) in the study file to place them"
            )
        return None

    def usable(self, host: Sequence[int]) -> list[int]:
        """The GPUs of ``host`` this choice uses; raises when it names one the host lacks."""
        if self.gpus is None or (not host and not self.required):
            return list(host)
        missing = [g for g in self.gpus if g not in host]
        if missing:
            have = ", ".join(map(str, host)) if host else "none"
            raise PlacementError(
                f"GPU {', '.join(map(str, missing))} asked for, but this host has GPUs: {have}"
            )
        return list(self.gpus)


def place(
    count: int,
    choice: GpuChoice,
    host: Sequence[int],
    busy: Mapping[int, int] | None = None,
    pinned: int | None = None,
) -> list[int | None]:
    """The GPU for each of ``count`` new workers (None: the CPU, when no GPU is used).

    ``busy`` counts the workers already on each GPU (live workers of this study and those
    just started); ``pinned`` puts them all on that GPU (the user's pick). Raises
    PlacementError when ``workers_per_gpu`` leaves room for fewer than ``count``, saying how
    many fit.
    """
    gpus = choice.usable(host)
    if not gpus:
        return [None] * count
    load = Counter({g: 0 for g in gpus})
    for gpu, n in (busy or {}).items():
        if gpu in load:
            load[gpu] += n
    cap = choice.workers_per_gpu
    room = None if cap is None else sum(max(0, cap - load[g]) for g in gpus)
    if room is not None and count > room:
        raise PlacementError(
            f"{counted(count, 'more worker')} asked for, but {counted(len(gpus), 'GPU')} × {cap} "
            "per GPU leave "
            f"room for {room} (now: {_describe(load)}); raise workers_per_gpu or name more GPUs"
        )
    if pinned is not None:  # the user picked the GPU
        if pinned not in gpus:
            listed = ", ".join(map(str, gpus))
            raise PlacementError(f"GPU {pinned} is not one this study may use ({listed})")
        if cap is not None and load[pinned] + count > cap:
            raise PlacementError(
                f"GPU {pinned} holds {counted(load[pinned], 'worker')} and workers_per_gpu is "
                f"{cap}: pick another GPU, or raise workers_per_gpu"
            )
        return [pinned] * count
    out: list[int | None] = []
    for _ in range(count):
        gpu = min(gpus, key=lambda g: (load[g], g))
        load[gpu] += 1
        out.append(gpu)
    return out


def _describe(load: Counter[int]) -> str:
    return ", ".join(f"GPU {g}: {n}" for g, n in sorted(load.items()))


def worker_env(gpu: int | None) -> dict[str, str]:
    """The environment that pins a worker to ``gpu`` (empty for the CPU: the worker's device
    setting decides, as before)."""
    if gpu is None:
        return {}
    # CUDA numbers GPUs fastest first unless told otherwise; nvidia-smi and NVML number them
    # by PCI bus. The bus order makes an index mean the same GPU to all three.
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", VISIBLE_ENV: str(gpu), GPU_ENV: str(gpu)}


def busy_gpus(gpus_of_live_workers: Iterable[int | None]) -> dict[int, int]:
    """Workers per GPU, from the GPU each live worker recorded (None: not on a GPU)."""
    return dict(Counter(g for g in gpus_of_live_workers if g is not None))


def host_gpus(environ: Mapping[str, str] | None = None) -> list[int]:
    """The indices of this host's NVIDIA GPUs, as its processes may use them: within the
    parent's own ``CUDA_VISIBLE_DEVICES`` when that is set to indices. Empty without GPUs."""
    environ = os.environ if environ is None else environ
    found = _nvml_count()
    if found is None:
        found = _smi_count()
    indices = list(range(found or 0))
    visible = environ.get(VISIBLE_ENV)
    if visible is not None:
        allowed = []
        for part in visible.split(","):
            part = part.strip()
            if part.isdigit() and int(part) in indices:
                allowed.append(int(part))
        # UUIDs or MIG names: the launcher cannot map them to indices; leave placement off.
        indices = allowed
    return indices


def _nvml_count() -> int | None:
    try:
        import pynvml  # nvidia-ml-py
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        try:
            return int(pynvml.nvmlDeviceGetCount())
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no driver, or a library that does not match it
        return None


def _smi_count() -> int | None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return sum(1 for line in done.stdout.splitlines() if line.startswith("GPU "))
