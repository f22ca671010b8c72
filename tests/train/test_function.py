"""User training functions (``train.function``): reports, pause/resume, errors, returned values."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import uuid
from pathlib import Path
from typing import Any

import pytest

from rltui.search.trial_logs import read_progress
from rltui.spec import load_study
from rltui.train.function import STATE_FILE, TrialContext, train_function
from rltui.train.progress import ProgressLog
from rltui.train.trainer import TrialFailed
from tests.train.reporters import ScriptedReporter

SAMPLES = Path(__file__).resolve().parents[2] / "sample_studies"
STUDY = """
name: fn
train:
  function: "{ref}"
  timesteps: {timesteps}
  seed: 1
hyperparameters: {{lr: 0.5}}
"""


# -- toy training functions: exact, so runs can be compared number for number ---------------
def counter(params: dict[str, Any], ctx: TrialContext) -> float | None:
    """'Trains' one step at a time; reports every 10 steps; saves its state when paused."""
    step, x = 0, 0.0
    if ctx.resume_dir is not None:
        step, x = json.loads((ctx.resume_dir / "toy.json").read_text())
    while step < ctx.budget:
        if ctx.should_stop():
            if ctx.paused:
                (ctx.checkpoint_dir / "toy.json").write_text(json.dumps([step, x]))
            return None
        step += 1
        x += params["lr"] * (step % 7) + (ctx.seed or 0)
        ctx.progress(step)
        if step % 10 == 0:
            ctx.report(step, x)
    return params.get("returns")


def forgetful(params: dict[str, Any], ctx: TrialContext) -> None:
    """Like :func:`counter` but saves nothing when paused: resuming starts over."""
    assert ctx.resume_dir is None
    for step in range(1, ctx.budget + 1):
        if ctx.should_stop():
            return
        ctx.progress(step)
        if step % 10 == 0:
            ctx.report(step, float(step))


def reports_nan(params: dict[str, Any], ctx: TrialContext) -> None:
    ctx.report(10, 1.0)
    ctx.report(20, math.nan)


def swallows_nan(params: dict[str, Any], ctx: TrialContext) -> None:
    with contextlib.suppress(Exception):  # a function that catches the error and goes on
        ctx.report(10, math.inf)


def returns_text(params: dict[str, Any], ctx: TrialContext) -> str:
    return "good"


def _study(study_file, fn: str = "counter", timesteps: int = 100, ref: str | None = None):
    ref = ref or f"{__name__}:{fn}"
    return load_study(study_file(name="fn", text=STUDY.format(ref=ref, timesteps=timesteps)))


def _run(study, reporter, tmp_path: Path, resume: Path | None = None, params=None, log=None):
    return train_function(
        study,
        params or {"lr": 0.5},
        reporter,
        device="cpu",
        seed=study.spec.train.seed,
        checkpoint_dir=tmp_path / "trial-0",
        resume=resume,
        log=log,
    )


# -- tests -------------------------------------------------------------------------------------
def test_reports_become_the_evaluations(study_file, tmp_path):
    reporter = ScriptedReporter()
    log = ProgressLog(tmp_path / "progress.jsonl")
    out = _run(_study(study_file), reporter, tmp_path, log=log)
    log.close()
    assert out.stopped is None and out.timesteps == 100 and out.checkpoint is None
    assert [s for s, _ in out.evaluations] == list(range(10, 101, 10))
    assert out.evaluations == reporter.reports
    assert "value" not in out.extra
    rows = [r for r in read_progress(tmp_path / "progress.jsonl") if "eval/mean_reward" in r]
    assert [(r["timesteps"], r["eval/mean_reward"]) for r in rows] == out.evaluations


def test_pause_and_resume_equals_straight_run(study_file, tmp_path):
    study = _study(study_file)
    straight = _run(study, ScriptedReporter(), tmp_path / "a")

    pausing = ScriptedReporter("pause", at=35)
    first = _run(study, pausing, tmp_path / "b")
    assert first.stopped == "pause" and first.timesteps == 35
    assert first.checkpoint is not None and first.checkpoint.name == "step-000000000035"
    assert (first.checkpoint / "toy.json").exists() and (first.checkpoint / STATE_FILE).exists()
    assert [p.name for p in (tmp_path / "b" / "trial-0").iterdir()] == [first.checkpoint.name]

    pausing.done = True
    resumed = _run(study, pausing, tmp_path / "b", resume=first.checkpoint)
    assert resumed.stopped is None and resumed.timesteps == 100
    steps = [s for s, _ in resumed.evaluations]
    assert steps == sorted(set(steps))
    assert resumed.evaluations == straight.evaluations
    assert pausing.reports == straight.evaluations  # nothing reported twice to Optuna


def test_a_function_that_saves_nothing_starts_over(study_file, tmp_path):
    study = _study(study_file, "forgetful")
    pausing = ScriptedReporter("pause", at=25)
    first = _run(study, pausing, tmp_path)
    assert first.stopped == "pause" and first.checkpoint is not None
    pausing.done = True
    resumed = _run(study, pausing, tmp_path, resume=first.checkpoint)
    assert resumed.stopped is None
    assert resumed.evaluations == [(s, float(s)) for s in range(10, 101, 10)]


@pytest.mark.parametrize("action", ["prune", "kill"])
def test_user_requests_end_the_trial(action, study_file, tmp_path):
    out = _run(_study(study_file), ScriptedReporter(action, at=42), tmp_path)
    assert out.stopped == action and out.timesteps == 42 and out.checkpoint is None
    assert [s for s, _ in out.evaluations] == [10, 20, 30, 40]


def test_the_pruner_stops_the_trial(study_file, tmp_path):
    out = _run(_study(study_file), ScriptedReporter(prune_at=30), tmp_path)
    assert out.stopped == "pruned" and out.timesteps == 30
    assert [s for s, _ in out.evaluations] == [10, 20, 30]
    at_budget = _run(_study(study_file), ScriptedReporter(prune_at=100), tmp_path)
    assert at_budget.stopped is None and at_budget.timesteps == 100  # the last report never prunes


def test_import_errors_fail_the_trial_clearly(study_file, tmp_path):
    with pytest.raises(
        TrialFailed, match=r"cannot import 'no_such_module_zz'.*ModuleNotFoundError"
    ):
        _run(_study(study_file, ref="no_such_module_zz:train"), ScriptedReporter(), tmp_path)
    with pytest.raises(TrialFailed, match="has no function 'nope'"):
        _run(_study(study_file, "nope"), ScriptedReporter(), tmp_path)


def test_a_module_beside_the_study_file_imports(study_file, tmp_path):
    module = f"userfn_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(
        "def train(params, ctx):\n    ctx.report(ctx.budget, params['lr'] * 2)\n"
    )
    out = _run(_study(study_file, ref=f"{module}:train"), ScriptedReporter(), tmp_path)
    assert out.evaluations == [(100, 1.0)]


@pytest.mark.parametrize("fn", ["reports_nan", "swallows_nan"])
def test_nan_fails_the_trial(fn, study_file, tmp_path):
    with pytest.raises(TrialFailed, match=r"reported (nan|inf)"):
        _run(_study(study_file, fn), ScriptedReporter(), tmp_path)


def test_a_returned_float_overrides_the_objective(study_file, tmp_path):
    study = _study(study_file)
    out = _run(study, ScriptedReporter(), tmp_path, params={"lr": 0.5, "returns": 42.5})
    assert out.extra["value"] == 42.5 and len(out.evaluations) == 10
    paused = _run(
        study, ScriptedReporter("pause", at=50), tmp_path, params={"lr": 0.5, "returns": 42.5}
    )
    assert paused.stopped == "pause" and "value" not in paused.extra
    with pytest.raises(TrialFailed, match="not a finite number"):
        _run(_study(study_file, "returns_text"), ScriptedReporter(), tmp_path)


# -- the shipped PyTorch DQN example ----------------------------------------------------------
DQN_PARAMS = {
    "learning_rate": 1e-3,
    "batch_size": 32,
    "sync_every": 100,
    "eps_end": 0.05,
    "eps_fraction": 0.5,
    "buffer_size": 1000,
    "learning_starts": 100,
    "eval_every": 300,
    "eval_episodes": 2,
}


@pytest.mark.slow
def test_torch_dqn_example_trains_and_resumes_exactly(study_file, tmp_path):
    study = _study(study_file, ref="examples.torch_dqn:train", timesteps=600)
    # The study file's folder decides where 'examples' is imported from.
    study = dataclasses.replace(study, path=SAMPLES / "cartpole_torch_dqn.yaml")
    straight = _run(study, ScriptedReporter(), tmp_path / "a", params=DQN_PARAMS)
    assert straight.stopped is None and straight.timesteps == 600
    assert [s for s, _ in straight.evaluations] == [300, 600]
    assert all(v >= 8 for _, v in straight.evaluations)  # CartPole lasts at least 8 steps

    pausing = ScriptedReporter("pause", at=450)
    first = _run(study, pausing, tmp_path / "b", params=DQN_PARAMS)
    assert first.stopped == "pause" and first.checkpoint is not None
    pausing.done = True
    resumed = _run(study, pausing, tmp_path / "b", resume=first.checkpoint, params=DQN_PARAMS)
    assert resumed.evaluations == straight.evaluations
