"""GPU placement on a fake device list: which GPU each new worker gets, and the refusals."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

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
    if _has_pynvml():
        pytest.skip("nvidia-ml-py is installed: it is read instead of nvidia-smi")
    assert host_gpus({}) == [0, 1, 2, 3]
    assert host_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}) == [2, 3]
    assert host_gpus({"CUDA_VISIBLE_DEVICES": "GPU-0"}) == []


def _has_pynvml() -> bool:
    try:
        import pynvml  # noqa: F401
    except ImportError:
        return False
    return True


def test_a_study_files_gpus_on_a_host_without_gpus_train_on_its_cpu():
    from rltui.spec import parse_study
    from tests.spec.test_loader import GOOD

    spec = parse_study(GOOD + "gpus: [0, 1]\n", None, check_env=False).spec
    assert spec.device == "auto"
    assert place(2, GpuChoice.of_study(spec), []) == [None, None]  # auto: the CPU
    with pytest.raises(PlacementError, match="this host has GPUs: none"):
        place(1, GpuChoice.of_study(spec, gpus="0"), [])  # named on the command line
    cpu = parse_study(GOOD + "device: cpu\n", None, check_env=False).spec
    assert GpuChoice.of_study(cpu) is None
    with pytest.raises(PlacementError, match="trains on device 'cpu'"):
        GpuChoice.of_study(cpu, gpus="all")


def test_rltui_run_refuses_gpus_it_cannot_place_before_any_worker_starts(tmp_path, capsys):
    from rltui.cli import main
    from tests.spec.test_loader import GOOD

    cpu = tmp_path / "cpu.yaml"
    cpu.write_text(GOOD + "device: cpu\n", encoding="utf-8")
    assert main(["run", str(cpu), "--gpus", "0,x"]) == 1
    assert "rltui run: --gpus: GPU 'x' is not an index" in capsys.readouterr().err
    assert main(["run", str(cpu), "--workers-per-gpu", "2"]) == 1
    assert "trains on device 'cpu'" in capsys.readouterr().err
    assert not (tmp_path / "cpu.rltui" / "logs").exists()  # no worker was started
