"""The device a worker trains on, as the study file or the command line names it."""

from __future__ import annotations

import os

from rltui.search.workers import GPU_ENV
from rltui.spec.wording import counted


class DeviceError(Exception):
    """A device this host cannot train on; the message says why and ``hint`` what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(f"{message} ({hint})")


def device_label(device: str, placed: int | None = None) -> str:
    """The device as the workers view shows it (``cuda:0 NVIDIA H100 …``). Raises
    :class:`DeviceError` for a CUDA device this host does not have: SB3 would quietly train
    on the CPU instead.

    ``placed`` is the host's index of the one GPU a launcher let this worker see (where it is
    ``cuda:0``): the label names the GPU by the host's index, as nvidia-smi does."""
    import torch

    if device in ("auto", "cuda") or device.startswith("cuda:"):
        if torch.cuda.is_available():
            index = int(device.split(":")[1]) if ":" in device else 0
            count = torch.cuda.device_count()
            if index >= count:
                raise DeviceError(
                    f"device {device} asked for, but this host has {counted(count, 'GPU')}",
                    f"use cuda:0 to cuda:{count - 1}, or --device cpu",
                )
            shown = placed if placed is not None and index == 0 else index
            return f"cuda:{shown} {torch.cuda.get_device_name(index)}"
        if device == "auto":
            return "cpu"
        raise DeviceError(
            f"device {device} asked for, but torch {torch.__version__} sees no CUDA GPU here",
            "install a CUDA build of torch (README, 'GPU'), or use --device cpu or auto",
        )
    return device


def release_gpu_memory() -> None:
    """Hand the finished or paused trial's GPU memory back to the driver: torch's caching
    allocator would otherwise keep it reserved for this process, out of other workers' reach
    on a shared GPU."""
    import gc

    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        gc.collect()  # the trial's model and buffers, if a reference cycle still holds them
        torch.cuda.empty_cache()


def out_of_gpu_memory(exc: BaseException) -> str | None:
    """The reason a trial ends with when ``exc`` is CUDA running out of memory (torch's
    ``OutOfMemoryError``, or the RuntimeError older builds raise), else None. The worker goes
    on: the trial's memory is handed back to the driver when it ends."""
    text = str(exc)
    if type(exc).__name__ != "OutOfMemoryError" and "CUDA out of memory" not in text:
        return None
    first = text.strip().splitlines()[0] if text.strip() else "CUDA out of memory"
    placed = os.environ.get(GPU_ENV)
    where = f" on GPU {placed}" if placed else ""
    return (
        f"out of GPU memory{where}: {first[:200]} (fewer workers on the GPU, workers_per_gpu, "
        "or a smaller batch_size, n_envs, buffer or network)"
    )
