"""The local NVIDIA GPUs' use for the status bar, read from ``nvidia-smi`` (never from torch),
or from NVIDIA's management library where nvidia-ml-py is installed (:mod:`.nvml`).

The UI must not load torch, so it asks ``nvidia-smi`` instead: one CSV line per GPU. Anything
that goes wrong — no ``nvidia-smi``, no driver, a hang, output we cannot read — reads as "no
GPU", never as an error: the status bar then shows the study's configured device as before.

``GpuProbe.read`` never waits for ``nvidia-smi``: it starts the command in the background and
picks its answer up on a later call, so a slow ``nvidia-smi`` (seconds, on a box without
persistence mode) does not hold up the storage poll that calls it. A run that takes longer
than its timeout is killed.

What the probe sees is this machine's GPUs. Workers on other hosts (a shared PostgreSQL
storage) or on non-NVIDIA devices are not seen; the workers view shows each worker's device.
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rltui.ui.services.nvml import Nvml

# The command, found on PATH; a path works too (tests point it at a fake one).
COMMAND = "nvidia-smi"
QUERY = "index,name,utilization.gpu,memory.used,memory.total"
ARGS = ("--query-gpu=" + QUERY, "--format=csv,noheader,nounits")
MEMORY_WARNING = 0.9  # a GPU's memory use above which the status bar warns

# Words of a GPU's marketing name that say nothing on a status bar: the vendor and product
# lines in front, then memory sizes and form factors ("NVIDIA H100 80GB HBM3" -> "H100").
_PREFIXES = {"nvidia", "geforce", "tesla", "quadro"}
_SUFFIX = re.compile(r"\d+GB|PCIE|SXM\d*|HBM\d*e?|NVL|MIG", re.IGNORECASE)


@dataclass(frozen=True)
class Gpu:
    """One GPU as ``nvidia-smi`` reports it; a field it cannot report is ``None``."""

    index: int
    name: str
    utilization: int | None  # percent of the last sample period a kernel ran
    memory_used: int | None  # MiB
    memory_total: int | None  # MiB
    # (pid, MiB) of each process holding memory on it, where NVML says (not nvidia-smi's
    # CSV line): the workers view shows each worker's share.
    processes: tuple[tuple[int, int], ...] = ()

    @property
    def memory_fraction(self) -> float | None:
        if self.memory_used is None or not self.memory_total:
            return None
        return self.memory_used / self.memory_total


# Parsing -------------------------------------------------------------------------------


def _number(field: str) -> int | None:
    """A count, or ``None`` for ``[N/A]``, ``[Not Supported]`` and the like; else ValueError."""
    field = field.strip()
    if not field or field.startswith("[") or field.upper() == "N/A":
        return None
    value = float(field)
    if not math.isfinite(value) or value < 0:
        raise ValueError(field)
    return round(value)


def parse(output: str) -> list[Gpu]:
    """The GPUs in ``nvidia-smi``'s CSV ``output``; lines that are not one GPU are skipped.

    Skipping (rather than giving up) keeps the GPUs when ``nvidia-smi`` prints a warning
    among them (``WARNING: infoROM is corrupted at gpu ...``); an error message alone, such
    as "No devices were found", gives no line to read and so no GPU.
    """
    gpus = []
    for line in output.splitlines():
        fields = line.split(",")
        if len(fields) != 5:
            continue
        try:
            gpu = Gpu(
                index=int(fields[0]),
                name=fields[1].strip(),
                utilization=_number(fields[2]),
                memory_used=_number(fields[3]),
                memory_total=_number(fields[4]),
            )
        except ValueError:
            continue
        gpus.append(gpu)
    return gpus


# Formatting ----------------------------------------------------------------------------


def short_name(name: str) -> str:
    """The model in a GPU's name: ``NVIDIA GeForce RTX 4090`` -> ``RTX 4090``."""
    words = [w for w in re.split(r"[\s\-]+", name) if w]
    while len(words) > 1 and words[0].lower() in _PREFIXES:
        words.pop(0)
    kept: list[str] = []
    for word in words:
        if kept and _SUFFIX.fullmatch(word):
            break
        kept.append(word)
    return " ".join(kept[:3]) or "GPU"


def _gib(mib: float) -> str:
    """MiB as GiB, one decimal below 10 (``5.0``), whole above (``80``)."""
    gib = mib / 1024
    return f"{gib:.1f}" if gib < 10 else f"{gib:.0f}"


def describe(gpus: Sequence[Gpu], *, names: bool = False) -> str:
    """The GPUs' use in a few characters; ``""`` when there is none.

    One GPU: ``GPU 37% 5.0/80G`` (utilisation, memory used/total in GiB). Several: the mean
    utilisation and the summed memory, ``4 GPUs 41% 20/320G``. With ``names`` (wide
    terminals) the model replaces the word GPU when all are the same: ``H100 37% 5.0/80G``,
    ``4×H100 41% 20/320G``. A figure ``nvidia-smi`` cannot give is left out, not guessed.
    """
    if not gpus:
        return ""
    models = {short_name(g.name) for g in gpus}
    model = models.pop() if names and len(models) == 1 else None
    if len(gpus) == 1:
        parts = [model or "GPU"]
    else:
        parts = [f"{len(gpus)}×{model}" if model else f"{len(gpus)} GPUs"]
    utils = [g.utilization for g in gpus if g.utilization is not None]
    if utils:
        parts.append(f"{round(sum(utils) / len(utils))}%")
    known = [g for g in gpus if g.memory_used is not None and g.memory_total]
    if known:
        used = sum(g.memory_used or 0 for g in known)
        total = sum(g.memory_total or 0 for g in known)
        parts.append(f"{_gib(used)}/{_gib(total)}G")
    return " ".join(parts)


def memory_tight(gpus: Sequence[Gpu], threshold: float = MEMORY_WARNING) -> bool:
    """Whether any one GPU uses more than ``threshold`` of its memory (a sum would hide it)."""
    return any((g.memory_fraction or 0.0) > threshold for g in gpus)


# Probing -------------------------------------------------------------------------------


class GpuProbe:
    """Reads ``nvidia-smi`` at most every ``interval`` seconds, without ever waiting for it.

    ``read`` returns the last answer at once; when it is older than ``interval`` it starts a
    new ``nvidia-smi`` in the background, whose answer a later ``read`` collects. A run
    that fails is retried after ``backoff`` seconds (a box with the tool but no driver would
    otherwise fail every ``interval``); once ``nvidia-smi`` is found missing, the probe stops
    trying. Safe to call from several threads.
    """

    def __init__(
        self,
        interval: float = 2.0,
        timeout: float = 2.0,
        backoff: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.timeout = timeout
        self.backoff = backoff
        self.clock = clock
        self.runs = 0  # how many times nvidia-smi was started (for tests and curiosity)
        self._lock = threading.Lock()
        self._executable: str | None = None
        self._missing = False
        self._gpus: list[Gpu] = []
        self._process: subprocess.Popen[str] | None = None
        self._started = 0.0
        self._next = -math.inf
        self._nvml: Nvml | None = None
        self._nvml_gpus: list[Gpu] | None = None
        self._nvml_next = -math.inf

    @property
    def missing(self) -> bool:
        """Whether ``nvidia-smi`` was found missing (the probe has stopped trying)."""
        return self._missing

    def read(self, wait: float = 0.0) -> list[Gpu]:
        """The GPUs as last read; ``wait`` > 0 waits that long for a run in flight. NVML
        answers instead of ``nvidia-smi`` where nvidia-ml-py and a driver are present."""
        if self._nvml is None:
            from rltui.ui.services.nvml import Nvml

            self._nvml = Nvml()
        if not self._nvml.absent:
            now = self.clock()
            if now >= self._nvml_next:
                answer = self._nvml.read()
                if answer is not None:
                    self._nvml_gpus, self._nvml_next = answer, now + self.interval
            if self._nvml_gpus is not None:
                return list(self._nvml_gpus)
        with self._lock:
            if self._missing:
                return []
            if self._process is None and self.clock() >= self._next:
                self._start()
            if self._process is not None:
                self._collect(wait)
            return list(self._gpus)

    def close(self) -> None:
        """Stop a run in flight (the app is closing)."""
        if self._nvml is not None:
            self._nvml.close()
        with self._lock:
            if self._process is not None:
                self._kill(self._process)
                self._process = None

    def _start(self) -> None:
        if self._executable is None:
            self._executable = shutil.which(COMMAND)
            if self._executable is None:
                self._missing = True
                return
        try:
            self._process = subprocess.Popen(
                [self._executable, *ARGS],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                encoding="utf-8",
                errors="replace",  # odd bytes spoil a line, not the whole answer
            )
        except OSError:  # removed since, not executable...: as good as missing
            self._missing = True
            self._gpus = []
            return
        self.runs += 1
        self._started = self.clock()

    def _collect(self, wait: float) -> None:
        """Take the answer of the run in flight if it is done; kill it if it is overdue."""
        process = self._process
        assert process is not None
        now = self.clock()
        if wait > 0:
            # Never past the run's own timeout.
            left = max(0.0, min(wait, self._started + self.timeout - now))
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(left)
            now = self.clock()
        if process.poll() is None:
            if now - self._started >= self.timeout:
                self._kill(process)
                self._finish([], now + self.backoff)
            return
        try:
            output, _ = process.communicate(timeout=1.0)
        except (subprocess.TimeoutExpired, OSError, ValueError):
            # Finished but its output cannot be read whole (a stray child holds the pipe).
            self._kill(process)
            output = ""
        gpus = parse(output) if process.returncode == 0 else []
        self._finish(gpus, now + (self.interval if gpus else self.backoff))

    def _finish(self, gpus: list[Gpu], next_run: float) -> None:
        self._process = None
        self._gpus = gpus
        self._next = next_run

    @staticmethod
    def _kill(process: subprocess.Popen[str]) -> None:
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
            process.communicate(timeout=1.0)
