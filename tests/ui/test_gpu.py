"""The GPU probe: parsing nvidia-smi, the status bar's words, the throttle, and the app.

A fake ``nvidia-smi`` (a shell script printing what a real one prints) stands in for the
command; no test needs a GPU, and none depends on this machine having one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from rich.text import Text

from rltui.ui.display import cells
from rltui.ui.services import gpu
from rltui.ui.services.gpu import Gpu, GpuProbe, describe, memory_tight, parse, short_name
from rltui.ui.widgets.status_bar import StatusBar
from tests.conftest import require_extra

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake nvidia-smi is sh")

H100 = "0, NVIDIA H100 80GB HBM3, 37, 5123, 81559"
SIZE = (120, 40)


def fake_smi(folder: Path, body: str) -> Path:
    """An executable ``nvidia-smi`` in ``folder`` that runs the shell ``body``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return script


@pytest.fixture
def smi(tmp_path, monkeypatch, no_gpu):
    """Make the probe run a fake nvidia-smi that runs the given shell."""

    def put(body: str) -> Path:
        script = fake_smi(tmp_path / "bin", body)
        monkeypatch.setattr(gpu, "COMMAND", str(script))
        return script

    return put


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Parsing -------------------------------------------------------------------------------


def test_parse_one_h100():
    assert parse(H100 + "\n") == [Gpu(0, "NVIDIA H100 80GB HBM3", 37, 5123, 81559)]


def test_parse_several_gpus():
    output = "\n".join(f"{i}, NVIDIA A100-SXM4-80GB, {10 * i}, {1000 * i}, 81920" for i in range(4))
    gpus = parse(output)
    assert [g.index for g in gpus] == [0, 1, 2, 3]
    assert [g.utilization for g in gpus] == [0, 10, 20, 30]
    assert all(g.name == "NVIDIA A100-SXM4-80GB" and g.memory_total == 81920 for g in gpus)


def test_parse_takes_unreported_fields_as_none():
    output = "0, NVIDIA GH200 480GB, [N/A], [Not Supported], 97871\n1, Tesla K80, N/A, 0, \n"
    assert parse(output) == [
        Gpu(0, "NVIDIA GH200 480GB", None, None, 97871),
        Gpu(1, "Tesla K80", None, 0, None),
    ]


@pytest.mark.parametrize(
    "output",
    [
        "",
        "No devices were found\n",
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
        "Make sure that the latest NVIDIA driver is installed and running.\n",
        "index, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n",
        "0, NVIDIA H100, 37 %, 5123 MiB, 81559 MiB\n",
        "0, NVIDIA H100, -5, 1, 2\n",
        "\x00\xff garbage, , ,\n",
    ],
)
def test_parse_garbage_is_no_gpu(output):
    assert parse(output) == []


def test_parse_keeps_the_gpus_around_a_warning():
    output = "WARNING: infoROM is corrupted at gpu 0000:04:00.0\n" + H100 + "\n"
    assert [g.index for g in parse(output)] == [0]


# Formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA A100-SXM4-80GB", "A100"),
        ("NVIDIA A100 80GB PCIe", "A100"),
        ("Tesla V100-SXM2-16GB", "V100"),
        ("NVIDIA GeForce RTX 4090", "RTX 4090"),
        ("NVIDIA GeForce RTX 3090 Ti", "RTX 3090 Ti"),
        ("NVIDIA RTX A6000", "RTX A6000"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA", "NVIDIA"),
        ("", "GPU"),
    ],
)
def test_short_name(name, short):
    assert short_name(name) == short


def test_describe_one_gpu():
    gpus = parse(H100)
    assert describe(gpus) == "GPU 37% 5.0/80G"
    assert describe(gpus, names=True) == "H100 37% 5.0/80G"


def test_describe_several_gpus_means_use_and_sums_memory():
    gpus = [Gpu(i, "NVIDIA H100 80GB HBM3", u, 5120, 81920) for i, u in enumerate((30, 40, 50, 44))]
    assert describe(gpus) == "4 GPUs 41% 20/320G"
    assert describe(gpus, names=True) == "4×H100 41% 20/320G"
    mixed = [Gpu(0, "NVIDIA H100 80GB HBM3", 10, 1024, 81920), Gpu(1, "NVIDIA L4", 20, 0, 23034)]
    assert describe(mixed, names=True) == "2 GPUs 15% 1.0/102G"


def test_describe_leaves_out_what_is_not_reported():
    assert describe([]) == ""
    assert describe([Gpu(0, "Tesla K80", None, None, None)]) == "GPU"
    assert describe([Gpu(0, "Tesla K80", 12, None, 11441)]) == "GPU 12%"
    both = [Gpu(0, "A", None, 2048, 4096), Gpu(1, "A", 50, None, 4096)]
    assert describe(both) == "2 GPUs 50% 2.0/4.0G"


def test_memory_tight_looks_at_each_gpu():
    roomy = Gpu(0, "H100", 99, 40000, 81559)
    full = Gpu(1, "H100", 0, 80000, 81559)
    assert not memory_tight([roomy])
    assert memory_tight([full])
    assert memory_tight([roomy, Gpu(2, "H100", 0, 0, 81559), full])  # the sum is under 90%
    assert not memory_tight([Gpu(0, "K80", None, None, None)])


# The probe -----------------------------------------------------------------------------


def test_probe_reads_at_most_every_interval(smi):
    smi(f"echo '{H100}'")
    clock = Clock()
    probe = GpuProbe(interval=2.0, clock=clock)
    assert probe.read(wait=10) == parse(H100)
    assert probe.runs == 1
    clock.now += 1.9
    assert probe.read(wait=10) == parse(H100)  # cached
    assert probe.runs == 1
    clock.now += 0.2
    assert probe.read(wait=10) == parse(H100)
    assert probe.runs == 2


def test_probe_never_waits_unless_asked(smi, tmp_path):
    gate = tmp_path / "gate"
    smi(f"while [ ! -e '{gate}' ]; do sleep 0.02; done\necho '{H100}'")
    probe = GpuProbe(timeout=30)
    assert probe.read() == []  # started; its answer comes later
    gate.touch()
    assert probe.read(wait=10) == parse(H100)
    assert probe.runs == 1


def test_probe_stops_trying_once_nvidia_smi_is_missing(no_gpu, tmp_path, monkeypatch):
    probe = GpuProbe(interval=0.0)
    assert probe.read(wait=1) == []
    assert probe.missing
    script = fake_smi(tmp_path / "bin", f"echo '{H100}'")
    monkeypatch.setattr(gpu, "COMMAND", str(script))
    assert probe.read(wait=1) == []
    assert probe.runs == 0


@pytest.mark.parametrize(
    "body",
    [
        "echo 'NVIDIA-SMI has failed because it could not communicate with the driver'; exit 9",
        "echo 'No devices were found'; exit 6",
        f"echo '{H100}'; exit 1",
        "printf 'garbage\\0\\377\\n'",
        "kill -9 $$",
    ],
)
def test_probe_failures_read_as_no_gpu_and_back_off(smi, body, capfd):
    smi(body)
    clock = Clock()
    probe = GpuProbe(interval=2.0, backoff=30.0, clock=clock)
    assert probe.read(wait=10) == []
    clock.now += 10
    assert probe.read(wait=10) == []
    assert probe.runs == 1  # not again before the backoff
    clock.now += 30
    probe.read(wait=10)
    assert probe.runs == 2
    assert capfd.readouterr().err == ""


def test_probe_kills_a_hung_nvidia_smi(smi):
    smi("exec sleep 30")
    probe = GpuProbe(timeout=0.3)
    assert probe.read(wait=10) == []
    assert probe._process is None  # killed, not left running
    assert probe.read(wait=10) == []
    assert probe.runs == 1  # backing off


def test_probe_close_stops_a_run_in_flight(smi):
    smi("exec sleep 30")
    probe = GpuProbe(timeout=60)
    probe.read()
    process = probe._process
    assert process is not None and process.poll() is None
    probe.close()
    assert process.returncode is not None


def test_probe_keeps_the_last_answer_while_a_new_run_is_in_flight(smi, tmp_path):
    gate = tmp_path / "gate"
    gate.touch()
    smi(f"while [ ! -e '{gate}' ]; do sleep 0.02; done\necho '{H100}'")
    clock = Clock()
    probe = GpuProbe(interval=2.0, timeout=30, clock=clock)
    assert probe.read(wait=10) == parse(H100)
    gate.unlink()
    clock.now += 5
    assert probe.read() == parse(H100)  # the new run waits at the gate
    assert probe.runs == 2
    probe.close()


# The status bar ------------------------------------------------------------------------


def status_text(app) -> str:
    return str(app.main_screen.query_one("#status").render())


@pytest.mark.slow
async def test_status_bar_shows_the_gpu_use(smi, make_app, wait):
    smi(f"echo '{H100}'")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: "%" in status_text(app))
        status = status_text(app)
        assert status.endswith("│ cpu │ GPU 37% 5.0/80G"), status
        assert "best 190 (#6)" in status and "2 workers" in status


@pytest.mark.slow
async def test_status_bar_names_the_gpu_on_wide_terminals(smi, make_app, wait):
    smi(
        "echo '0, NVIDIA H100 80GB HBM3, 91, 80000, 81559'\n"
        "echo '1, NVIDIA H100 80GB HBM3, 3, 1024, 81559'"
    )
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait(pilot, lambda: "%" in status_text(app))
        status = status_text(app)
        assert status.endswith("│ cpu │ 2×H100 47% 79/159G"), status
        # One GPU's memory is over 90% full: the part takes the theme's warning colour.
        text = app.main_screen.query_one("#status", StatusBar).content
        assert isinstance(text, Text)
        styles = [s.style for s in text.spans if text.plain[s.start : s.end].startswith("2×H100")]
        assert styles == [cells.theme_style(app.current_theme, "warning", bold=True)]


@pytest.mark.slow
async def test_status_bar_without_nvidia_smi_shows_the_device(no_gpu, make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: app.main_screen.snapshot is not None)
        await wait(pilot, lambda: app.main_screen.poller.gpu_probe.missing)
        await pilot.pause(0.3)  # a few more polls
        status = status_text(app)
        assert status.endswith("│ 2 workers │ cpu"), status
        assert "GPU" not in status


# NVML ----------------------------------------------------------------------------------


def test_nvml_without_a_driver_gives_way_to_nvidia_smi(smi, monkeypatch):
    """nvidia-ml-py as installed (the ``gpu`` extra) on this machine, which has no NVIDIA
    driver: NVML cannot start, says so, and the probe reads nvidia-smi as before."""
    require_extra("pynvml", "gpu")
    from rltui.ui.services import nvml

    monkeypatch.setattr(nvml, "LIBRARY", "pynvml")
    if _driver_present():
        pytest.skip("this machine has an NVIDIA driver: NVML answers")
    smi(f"echo '{H100}'")
    probe = GpuProbe(interval=0.0)
    assert probe.read(wait=10) == parse(H100)
    source = nvml.Nvml()
    assert source.read() is None  # starting: nvidia-smi answers meanwhile
    deadline = time.monotonic() + 30
    while not source.absent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert source.absent and source.read() is None
    assert probe.read(wait=10) == parse(H100)


def test_a_missing_nvml_library_is_no_gpu(no_gpu):
    from rltui.ui.services import nvml

    source = nvml.Nvml()
    assert source.read() is None
    deadline = time.monotonic() + 10
    while not source.absent and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source.absent


def _driver_present() -> bool:
    return Path("/proc/driver/nvidia/version").exists()
