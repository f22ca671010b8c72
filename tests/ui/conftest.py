"""Fixtures for the UI tests: a real journal storage with scripted trials in every state.

Trials are created from templates with fixed times, and the app gets a fixed clock, so
screens are deterministic and snapshot tests can compare them.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.study import open_study
from rltui.search.workers import WorkerRecord, write_record
from rltui.spec import load_study

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "sample_studies" / "smoke.yaml"
T0 = datetime(2025, 1, 1, 12, 0, 0)
NOW = T0 + timedelta(hours=1)


def fixed_clock() -> datetime:
    return NOW


@dataclass
class Scripted:
    """A study file in a temporary folder and its Optuna study, with trials in every state."""

    path: Path
    ostudy: optuna.Study
    url: str

    @property
    def storage(self) -> Any:
        return storage_of(self.ostudy)

    def trial(self, number: int) -> FrozenTrial:
        return self.ostudy.trials[number]

    def system(self, number: int) -> dict[str, Any]:
        tid = self.storage.get_trial_id_from_study_id_trial_number(study_id_of(self.ostudy), number)
        return self.storage.get_trial(tid).system_attrs


def add_trial(
    ostudy: optuna.Study,
    state: TrialState,
    minute: int,
    params: dict[str, Any],
    curve: dict[int, float],
    value: float | None = None,
    system: dict[str, Any] | None = None,
    minutes: int = 5,
) -> int:
    """Create one trial from a template with fixed times; returns its number."""
    space = load_study(SMOKE, check_env=False).space.distributions
    start = T0 + timedelta(minutes=minute)
    finished = state.is_finished()
    template = FrozenTrial(
        number=-1,
        state=state,
        value=value if state == TrialState.COMPLETE else None,
        datetime_start=start,
        datetime_complete=start + timedelta(minutes=minutes) if finished else None,
        params=params,
        distributions={k: space[k] for k in params},
        user_attrs={},
        system_attrs=system or {},
        intermediate_values=curve,
        trial_id=-1,
    )
    if state == TrialState.PRUNED and value is not None:
        template.values = [value]
    trial_id = storage_of(ostudy).create_new_trial(study_id_of(ostudy), template_trial=template)
    return storage_of(ostudy).get_trial(trial_id).number


def script_trials(ostudy: optuna.Study) -> None:
    """#0 WAITING (the file's enqueue), #1 COMPLETE, #2 PRUNED, #3 FAIL, #4 RUNNING, #5 PAUSED,
    #6 COMPLETE (best), and two worker records."""
    p = {"learning_rate": 3e-3, "gamma": 0.98, "ent_coef": 0.0}
    add_trial(
        ostudy,
        TrialState.COMPLETE,
        1,
        p,
        {256: 20.0, 512: 80.0, 768: 120.0, 1024: 150.0},
        150.0,
        {attrs.TRIAL_WORKER: "w1"},
    )
    add_trial(
        ostudy,
        TrialState.PRUNED,
        2,
        {**p, "learning_rate": 1e-4},
        {256: 10.0, 512: 15.0},
        15.0,
        {attrs.TRIAL_WORKER: "w2"},
    )
    add_trial(
        ostudy,
        TrialState.FAIL,
        3,
        {**p, "gamma": 0.91},
        {256: 9.0},
        None,
        {
            attrs.TRIAL_WORKER: "w2",
            attrs.ERROR: {
                "message": "ValueError: NaN reward",
                "traceback": 'Traceback (most recent call last):\n  File "x.py", line 1\n'
                "ValueError: NaN reward",
            },
        },
    )
    add_trial(
        ostudy,
        TrialState.RUNNING,
        4,
        {**p, "learning_rate": 5e-3},
        {256: 30.0, 512: 60.0},
        None,
        {attrs.TRIAL_WORKER: "w1", attrs.PROGRESS: {"timesteps": 512, "total": 1024, "updated": 0}},
    )
    add_trial(
        ostudy,
        TrialState.RUNNING,
        5,
        {**p, "ent_coef": 0.01},
        {256: 25.0},
        None,
        {attrs.PAUSED: {"timesteps": 256, "checkpoint": "/tmp/ckpt-5"}, attrs.ELAPSED: 3300.0},
    )
    add_trial(
        ostudy,
        TrialState.COMPLETE,
        6,
        {**p, "gamma": 0.99},
        {256: 50.0, 512: 190.0},
        190.0,
        {attrs.TRIAL_WORKER: "w2"},
    )
    base = datetime.timestamp(T0)
    for worker_id, state, trial in (("w1", "training", 4), ("w2", "idle", None)):
        record = WorkerRecord(
            worker_id,
            "gpu-box",
            4000 + int(worker_id[1]),
            "cpu",
            base,
            base,
            state=state,
            trial=trial,
            log=None,
        )
        write_record(storage_of(ostudy), study_id_of(ostudy), record)


@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    target = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, target)
    return target


@pytest.fixture
def scripted(study_file: Path) -> Scripted:
    ostudy, url = open_study(load_study(study_file, check_env=False))
    script_trials(ostudy)
    return Scripted(study_file, ostudy, url)


async def wait_for(pilot: Any, condition: Callable[[], Any], timeout: float = 600.0) -> None:
    """Let the app run until ``condition()`` holds (the UI is asynchronous and threaded). The
    limit only bounds a hang: on a busy machine the UI is slow, not wrong."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the UI")
        await pilot.pause(0.05)


@pytest.fixture
def wait() -> Callable[..., Any]:
    return wait_for


@pytest.fixture
def make_app(scripted: Scripted) -> Callable[..., Any]:
    """An app on the scripted study with a fixed clock and a fast poller."""
    from rltui.ui.app import RltuiApp

    def make(theme: str | None = None) -> RltuiApp:
        return RltuiApp(scripted.path, theme=theme, clock=fixed_clock, poll_interval=0.1)

    return make


@pytest.fixture
def no_gpu(monkeypatch):
    """The GPU probe finds no nvidia-smi and no NVML, whatever this machine has."""
    monkeypatch.setattr("rltui.ui.services.gpu.COMMAND", "rltui-test-no-nvidia-smi")
    monkeypatch.setattr("rltui.ui.services.nvml.LIBRARY", "rltui_test_no_pynvml")


@pytest.fixture(autouse=True)
def unfreeze_gc():
    """An app that settles freezes the objects alive then (rltui.ui.services.memory.settle); in
    a test process they are other tests' too, so each test hands them back to the collector."""
    yield
    import gc

    gc.unfreeze()


@pytest.fixture(autouse=True)
def user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the real user's settings, and every app starts in the same
    theme whatever terminal runs the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("COLORTERM", "truecolor")


SMOKE_PRUNER = "pruner:\n  type: median\n  n_startup_trials: 2\n  n_warmup_steps: 0\n"


def two_objective_study(
    path: Path, script: list[tuple[TrialState, float | None, float | None]]
) -> Path:
    """Turn the smoke study at ``path`` into one with objectives [reward, wall_time] (no
    pruner: Optuna cannot prune several objectives) and add a trial per (state, reward,
    seconds) of ``script``, a minute apart from T0; #0 stays the file's enqueued trial."""
    text = path.read_text(encoding="utf-8").replace(SMOKE_PRUNER, "")
    path.write_text(
        text.replace("direction: maximize\n", "objectives: [reward, wall_time]\n"),
        encoding="utf-8",
    )
    ostudy, _url = open_study(load_study(path, check_env=False))
    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    space = load_study(path, check_env=False).space.distributions
    params = {"learning_rate": 3e-3, "gamma": 0.98, "ent_coef": 0.0}
    for minute, (state, reward, seconds) in enumerate(script, start=1):
        start = T0 + timedelta(minutes=minute)
        template = FrozenTrial(
            number=-1,
            state=state,
            value=None,
            values=[reward, seconds] if reward is not None else None,
            datetime_start=start,
            datetime_complete=start + timedelta(minutes=5) if state.is_finished() else None,
            params=params,
            distributions={k: space[k] for k in params},
            user_attrs={},
            system_attrs={},
            intermediate_values={256: reward or 0.0},
            trial_id=-1,
        )
        storage.create_new_trial(study_id, template_trial=template)
    return path


def trial_row(number: int, status: Any, value: float | None = None, **fields: Any) -> Any:
    """A TrialRow as the reader makes one, every field not given at its empty default."""
    from rltui.search.reader import TrialRow

    defaults: dict[str, Any] = {
        "trial_id": number,
        "params": {},
        "curve": (),
        "timesteps": 0,
        "total": None,
        "started": None,
        "completed": None,
        "worker": None,
        "error": None,
        "traceback": None,
        "pending": None,
        "spec_version": 1,
    }
    return TrialRow(number=number, status=status, value=value, **{**defaults, **fields})
