"""GPU placement on a fake device list: which GPU each new worker gets, and the refusals."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rltui.launch.placement import (
    GpuChoice,
    PlacementError,
    busy_gpus,
    host_gpus,
    place,
    worker_env,
)

EIGHT = list(range(8))


def test_eight_workers_on_an_eight_gpu_node_get_one_gpu_each():
    assert place(8, GpuChoice.parse("all"), EIGHT) == EIGHT


def test_two_per_gpu_fill_evenly_then_refuse_with_what_fits():
    choice = GpuChoice.parse([0, 2], workers_per_gpu=2)
    assert place(3, choice, [0, 1, 2]) == [0, 2, 0]
    with pytest.raises(PlacementError, match=r"room for 1 \(now: GPU 0: 2, GPU 2: 1\)"):
        place(2, choice, [0, 1, 2], busy={0: 2, 2: 1})


def test_new_workers_go_to_the_least_busy_gpu():
    choice = GpuChoice.parse("all")
    assert place(3, choice, [0, 1, 2], busy=busy_gpus([0, 0, 1, None])) == [2, 1, 2]


def test_a_gpu_the_host_lacks_is_refused_naming_what_it_has():
    with pytest.raises(PlacementError, match="GPU 5 asked for, but this host has GPUs: 0, 1"):
        place(1, GpuChoice.parse("0,5"), [0, 1])
    with pytest.raises(PlacementError, match="has GPUs: none"):
        place(1, GpuChoice.parse([0]), [])


def test_no_gpus_means_the_cpu():
    assert place(2, GpuChoice.parse("all"), []) == [None, None]
    assert place(2, GpuChoice.parse("none"), EIGHT) == [None, None]
    assert worker_env(None) == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [("0,x", "GPU 'x' is not an index"), ([1, 1], "GPU 1 is named twice"), ("-1", "not an index")],
)
def test_bad_gpu_lists_say_the_accepted_forms(value, message):
    with pytest.raises(PlacementError, match=message):
        GpuChoice.parse(value)


def test_workers_per_gpu_must_be_positive():
    with pytest.raises(PlacementError, match="workers_per_gpu is 0"):
        GpuChoice.parse("all", workers_per_gpu=0)


def test_the_worker_sees_its_own_gpu_only_in_bus_order():
    env = worker_env(3)
    assert env == {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": "3", "RLTUI_GPU": "3"}
    # What a child process started with it sees.
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "3"


def test_host_gpus_read_nvidia_smi_within_the_parents_visible_devices(tmp_path, monkeypatch):
    # A stand-in nvidia-smi on PATH (the real one needs a driver); nvidia-ml-py is not
    # installed in the test environment, so the command is what is read.
    smi = tmp_path / "nvidia-smi"
    smi.write_text(
        '#!/bin/sh\nfor i in 0 1 2 3; do echo "GPU $i: NVIDIA H100 (UUID: GPU-$i)"; done\n'
    )
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    # nvidia-ml-py may be installed (the gpu extra): without a driver NVML cannot start, and
    # nvidia-smi is read as here. A machine with a driver answers through NVML instead.
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver: NVML answers, not the stand-in")
    assert host_gpus({}) == [0, 1, 2, 3]
    assert host_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}) == [2, 3]
    assert host_gpus({"CUDA_VISIBLE_DEVICES": "GPU-0"}) == []
