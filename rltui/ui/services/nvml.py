"""The local NVIDIA GPUs through NVIDIA's management library (nvidia-ml-py), when present.

Cheaper and richer than running ``nvidia-smi``: one call per figure, no process, and each
process's GPU memory (:attr:`Gpu.processes`, which the workers view shows per worker).
``nvmlInit`` can take seconds on a box without persistence mode (the
driver wakes up), so it runs once on a thread of its own; until it is done, and wherever the
library or the driver is missing, :meth:`Nvml.read` answers None and the caller reads
``nvidia-smi`` instead (:mod:`rltui.ui.services.gpu`).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from typing import Any

from rltui.ui.services.gpu import Gpu

MIB = 1024 * 1024
# The module to load (nvidia-ml-py's); tests name one that does not exist, to hide this
# machine's GPUs as they hide its nvidia-smi.
LIBRARY = "pynvml"


class Nvml:
    """NVML, initialised on first use on a thread; thread-safe reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lib: Any = None
        self._state = "new"  # new -> starting -> ready | absent

    @property
    def absent(self) -> bool:
        """Whether the library or a driver is missing (NVML will not be tried again)."""
        return self._state == "absent"

    def read(self) -> list[Gpu] | None:
        """The GPUs, or None while NVML starts, or where it cannot answer."""
        with self._lock:
            if self._state == "new":
                self._state = "starting"
                threading.Thread(target=self._init, name="nvml-init", daemon=True).start()
            if self._state != "ready":
                return None
            lib = self._lib
            try:
                return [_gpu(lib, i) for i in range(lib.nvmlDeviceGetCount())]
            except lib.NVMLError:
                return None  # a GPU fell off the bus, a driver reload: nvidia-smi says more

    def close(self) -> None:
        with self._lock:
            if self._state == "ready":
                with contextlib.suppress(self._lib.NVMLError):
                    self._lib.nvmlShutdown()
            self._state = "absent"

    def _init(self) -> None:
        try:
            pynvml = importlib.import_module(LIBRARY)
            pynvml.nvmlInit()
        except Exception:  # not installed, no driver, a library that does not match it
            with self._lock:
                self._state = "absent"
            return
        with self._lock:
            if self._state == "starting":
                self._lib, self._state = pynvml, "ready"
            else:  # closed meanwhile
                pynvml.nvmlShutdown()


def _gpu(lib: Any, index: int) -> Gpu:
    handle = lib.nvmlDeviceGetHandleByIndex(index)
    name = lib.nvmlDeviceGetName(handle)
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    try:
        processes = tuple(
            (int(p.pid), int(p.usedGpuMemory // MIB))
            for p in lib.nvmlDeviceGetComputeRunningProcesses(handle)
            if p.usedGpuMemory is not None
        )
    except lib.NVMLError:
        processes = ()
    try:
        utilization = int(lib.nvmlDeviceGetUtilizationRates(handle).gpu)
    except lib.NVMLError:
        utilization = None
    used: int | None
    total: int | None
    try:
        memory = lib.nvmlDeviceGetMemoryInfo(handle)
        used, total = int(memory.used // MIB), int(memory.total // MIB)
    except lib.NVMLError:
        used = total = None
    return Gpu(index, name, utilization, used, total, processes)
