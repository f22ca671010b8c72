"""Does rltui train on a GPU, share one between workers, and pause/resume across them?

    python bench/gpu_check.py [--workers 4] [--seconds 60] [--device cuda] [--keep]

On a machine with an NVIDIA GPU and a CUDA build of torch, prints:

1. the GPUs (torch's view, and the status bar's line from ``nvidia-smi``);
2. one trial trained on ``cuda`` by a real ``rltui worker``: env-steps/s;
3. ``--workers`` workers placed on one GPU (``gpus: [0]``, ``workers_per_gpu: N``, as the
   pool places them): env-steps/s per worker, each worker's device as its record names it,
   and the GPU memory each worker process holds (``nvidia-smi --query-compute-apps``);
4. pause and resume across them: a trial paused on one worker and resumed on whichever
   claims it, timed from the request to PAUSED and to its first new progress, and on which
   device it went on.

Without a CUDA GPU it says so and exits 2. ``--device cpu`` runs the same steps on the CPU,
which checks the script itself on any machine (its figures are then not GPU figures).
Wall-clock timings; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from rltui.launch.local import LocalPool, signal_worker
from rltui.launch.placement import GpuChoice
from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import Snapshot, StudyReader
from rltui.search.storage import StudyHome
from rltui.search.study import open_study
from rltui.spec import load_study

T = TypeVar("T")
TIMEOUT = 300.0

# Trials far longer than the check: every trial it acts on is still training. A network big
# enough that the GPU does some work per update.
STUDY = """\
name: gpu-check
direction: maximize
n_trials: 1000
device: {device}
sampler: {{type: random, seed: 0}}
pruner: {{type: none}}
train:
  algorithm: ppo
  env: CartPole-v1
  n_envs: 8
  timesteps: 100000000
  eval: {{every: 100000, episodes: 5}}
  seed: 0
hyperparameters:
  n_steps: 256
  batch_size: 256
  n_epochs: 4
  net_arch: [256, 256]
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-3))
control:
  heartbeat_interval: 1
  heartbeat_grace: 10
"""


def load_line() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def wait(reader: StudyReader, check: Callable[[Snapshot], T | None], what: str) -> T:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        result = check(reader.poll())
        if result:
            return result
        time.sleep(0.1)
    raise TimeoutError(f"no {what} after {TIMEOUT:.0f} s")


def gpu_memory_by_pid() -> dict[int, int]:
    """MiB of GPU memory each process holds, from nvidia-smi (empty without it)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return {}
    out = subprocess.run(
        [smi, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    memory = {}
    for line in out.splitlines():
        pid, _, used = line.partition(",")
        if pid.strip().isdigit() and used.strip().isdigit():
            memory[int(pid)] = int(used)
    return memory


def rates(snap: Snapshot, since: dict[int, tuple[int, float]]) -> dict[int, float]:
    """Env-steps per second of each RUNNING trial since ``since`` (trial -> steps, time)."""
    now = time.monotonic()
    out = {}
    for row in snap.rows.values():
        if row.status == TrialStatus.RUNNING and row.number in since:
            steps, then = since[row.number]
            if row.timesteps > steps and now > then:
                out[row.number] = (row.timesteps - steps) / (now - then)
    return out


def measure(reader: StudyReader, seconds: float) -> tuple[dict[int, float], Snapshot]:
    snap = reader.poll()
    since = {
        r.number: (r.timesteps, time.monotonic())
        for r in snap.rows.values()
        if r.status == TrialStatus.RUNNING
    }
    time.sleep(seconds)
    snap = reader.poll()
    return rates(snap, since), snap


def section(title: str) -> None:
    print(f"\n{title}\n{'-' * len(title)}")


def run(folder: Path, device: str, workers: int, seconds: float) -> None:
    path = folder / "gpu-check.yaml"
    path.write_text(STUDY.format(device=device), encoding="utf-8")
    ostudy, url = open_study(load_study(path))
    reader = StudyReader(ostudy)
    controller = Controller(ostudy)
    logs = StudyHome.beside(path).logs
    on_gpu = device != "cpu"
    choice = GpuChoice.parse([0], workers_per_gpu=workers) if on_gpu else None
    pool = LocalPool(logs, study_file=path, storage_url=url, nice=0, gpus=choice)
    try:
        section("2. one trial on one worker")
        pool.start(1)
        wait(reader, lambda s: [r for r in s.rows.values() if r.timesteps > 0], "training")
        one, snap = measure(reader, seconds / 2)
        for number, rate in one.items():
            print(f"    trial {number}: {rate:,.0f} env-steps/s")
        print(f"    worker device: {', '.join(w.device for w in snap.workers if w.alive)}")

        section(f"3. {workers} workers sharing GPU 0" if on_gpu else f"3. {workers} workers")
        pool.start(workers - 1)
        wait(
            reader,
            lambda s: (
                sum(r.status == TrialStatus.RUNNING and r.timesteps > 0 for r in s.rows.values())
                >= workers
            ),
            f"{workers} trials training",
        )
        shared, snap = measure(reader, seconds)
        memory = gpu_memory_by_pid()
        for record in sorted((w for w in snap.workers if w.alive), key=lambda w: w.index):
            rate = shared.get(record.trial) if record.trial is not None else None
            mib = memory.get(record.pid)
            print(
                f"    worker {record.id} ({record.device}, gpu {record.gpu}): trial "
                f"{record.trial}, {rate or 0:,.0f} env-steps/s, "
                f"{f'{mib} MiB' if mib is not None else 'GPU memory not reported'}"
            )
        total = sum(shared.values())
        print(
            f"    together: {total:,.0f} env-steps/s ({total / max(1, sum(one.values())):.2f}x one)"
        )

        section("4. pause on one worker, resume on another")
        running = [r for r in snap.rows.values() if r.status == TrialStatus.RUNNING]
        number = max(running, key=lambda r: r.timesteps).number
        asked = time.monotonic()
        controller.request(number, "pause")
        wait(reader, lambda s: s.rows[number].status == TrialStatus.PAUSED, "PAUSED")
        paused_s = time.monotonic() - asked
        storage, study_id = storage_of(ostudy), study_id_of(ostudy)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
        paused = storage.get_trial(trial_id).system_attrs[attrs.PAUSED]
        before = paused.get("worker") or storage.get_trial(trial_id).system_attrs.get(
            attrs.TRIAL_WORKER
        )
        # Free a worker for it: prune another running trial.
        asked = time.monotonic()
        controller.request(number, "resume")
        victim = next(r.number for r in running if r.number != number)
        controller.request(victim, "prune")
        at = int(paused["timesteps"])
        wait(reader, lambda s: s.rows[number].timesteps > at, f"trial {number} past {at:,}")
        resumed_s = time.monotonic() - asked
        row = reader.poll().rows[number]
        record = next((w for w in reader.poll().workers if w.id == row.worker), None)
        print(f"    trial {number}: paused at {at:,} timesteps in {paused_s:.1f} s")
        print(
            f"    resumed on worker {row.worker} (paused on {before}), "
            f"device {record.device if record else '?'}: first new progress "
            f"{resumed_s:.1f} s after the request"
        )
    finally:
        for worker in pool.started:
            signal_worker(worker.pid, signal.SIGKILL)
        pool.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--keep", action="store_true", help="keep the temporary study")
    args = parser.parse_args(argv)

    import torch

    from rltui.ui.services.gpu import GpuProbe, describe

    section("1. the GPUs")
    print(f"    torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
    for i in range(torch.cuda.device_count()):
        print(f"    cuda:{i} {torch.cuda.get_device_name(i)}")
    gpus = GpuProbe().read(wait=5.0)
    print(f"    status bar: {describe(gpus, names=True) if gpus else '(nvidia-smi: no GPUs)'}")
    if args.device != "cpu" and not torch.cuda.is_available():
        print("\nno CUDA GPU here: nothing to check (--device cpu checks the script itself)")
        return 2
    print(f"    {load_line()}")
    work = Path(tempfile.mkdtemp(prefix="rltui-gpu-check-"))
    try:
        run(work, args.device, args.workers, args.seconds)
    finally:
        if args.keep:
            print(f"study kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\ndone; {load_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
