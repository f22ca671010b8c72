"""The local pool spreads workers over the GPUs it is given (a fake host's device list: this
machine has none); each worker process sees only its own GPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from rltui.launch.placement import GpuChoice, PlacementError
from tests.conftest import TINY_PPO
from tests.worker.helpers import Lab, wait_for

pytestmark = pytest.mark.slow  # starts real workers


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_workers_are_spread_over_the_gpus_and_each_sees_its_own(tmp_path: Path) -> None:
    path = tmp_path / "gpus.yaml"
    path.write_text(
        TINY_PPO.format(
            name="gpus", n_trials=3, timesteps=256, every=128, pruner="none", extra=""
        ).replace("device: cpu", "device: auto"),
        encoding="utf-8",
    )
    lab = Lab(path)
    lab.pool.gpus = GpuChoice.parse("all", workers_per_gpu=1)
    lab.pool.host_gpus = lambda: [0, 1]
    try:
        started = lab.pool.start(2)
        assert [w.gpu for w in started] == [0, 1]
        for worker in started:
            env = wait_for(lambda w=worker: environ(w.pid), "the worker's environment")
            assert env["CUDA_VISIBLE_DEVICES"] == str(worker.gpu)
            assert env["RLTUI_GPU"] == str(worker.gpu)
            assert env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"
        # Both GPUs hold their one worker while these live: a third is refused, saying why.
        with pytest.raises(PlacementError, match="room for 0"):
            lab.pool.start(1)
        assert lab.pool.wait(300), lab.logs()
        # No GPU here: the workers trained on the CPU and their records claim no GPU.
        snap = lab.snap()
        assert len([r for r in snap.rows.values() if r.status.name == "COMPLETE"]) == 3
        assert all(w.gpu is None for w in snap.workers), snap.workers
    finally:
        lab.stop()
