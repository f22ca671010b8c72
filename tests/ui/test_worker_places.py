"""Where w starts a worker: at once where there is no choice; a picker when the study has an
SSH or Slurm launcher, or the host several GPUs the study may use (a fake device list: this
machine has none)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from rltui.spec import parse_study
from rltui.ui.app import RltuiApp
from rltui.ui.models.worker_places import Place, places
from rltui.ui.screens.picker import Picker
from tests.spec.test_loader import GOOD

from .conftest import SMOKE, fixed_clock
from .test_actions import notes, opened, settle


def spec_of(extra: str) -> Any:
    return parse_study(GOOD + extra, None, check_env=False).spec


def test_no_choice_asks_nothing():
    assert places(spec_of(""), [], {}) == []
    assert places(spec_of(""), [0], {0: 3}) == []  # one GPU: there


def test_several_gpus_offer_the_least_busy_and_each_one():
    offered = places(spec_of(""), [0, 1], {1: 2})
    assert [p.key for p in offered] == ["auto", "gpu:0", "gpu:1"]
    assert offered[2].label == "here, on GPU 1 (2 workers now)" and offered[2].gpu == 1


def test_a_remote_launcher_is_offered_beside_this_machine():
    ssh = places(spec_of("launcher: {type: ssh, hosts: [gpu1, gpu2]}\n"), [], {})
    assert [p.key for p in ssh] == ["here", "ssh"]
    assert "gpu1, gpu2" in ssh[1].label
    slurm = places(spec_of("launcher: {type: slurm, partition: gpu}\n"), [0], {})
    assert [(p.key, p.label) for p in slurm] == [
        ("here", "here, on this machine (GPU 0)"),
        ("slurm", "as a Slurm job on partition gpu"),
    ]


@pytest.fixture
def ssh_study(tmp_path: Path) -> Path:
    path = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, path)
    text = path.read_text(encoding="utf-8").replace("device: cpu", "device: auto")
    path.write_text(text + "launcher: {type: ssh, hosts: [gpu1]}\n", encoding="utf-8")
    return path


@pytest.mark.slow
async def test_w_asks_where_and_starts_on_the_gpu_picked(ssh_study, wait, monkeypatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_start(self, count=1, *, first_index=0, **kwargs):  # no process: the pick is tested
        calls.append(kwargs)
        return []

    monkeypatch.setattr("rltui.launch.local.LocalPool.start", fake_start)
    app = RltuiApp(ssh_study, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, wait)
        app.main_screen.session.pool().host_gpus = lambda: [0, 1]  # a two-GPU host
        await pilot.press("w")
        await wait(pilot, lambda: isinstance(app.screen, Picker))
        offered: list[Place] = app.screen.values
        assert [p.key for p in offered] == ["auto", "gpu:0", "gpu:1", "ssh"]
        await pilot.press("escape")
        await wait(pilot, lambda: "no worker started" in notes(app))
        assert calls == []
        await pilot.press("w")
        await wait(pilot, lambda: isinstance(app.screen, Picker))
        await pilot.press("down", "down", "enter")  # GPU 1
        await settle(app, pilot)
        await wait(pilot, lambda: calls)
        assert calls[0]["gpu"] == 1
