"""sb3-contrib's algorithms through the trainer: each spends its budget, reports on the planned
steps, and pauses and resumes to the same result as a run that never paused.

Tiny networks and a few hundred timesteps: enough to exercise the paths, not to learn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rltui.spec import StudyFile, load_study
from rltui.train.chunks import StopOnRequest, boundary, learn_to
from rltui.train.envs import make_envs
from rltui.train.trainer import build_model, train_sb3
from tests.conftest import require_extra
from tests.train.reporters import STUDY, ScriptedReporter

require_extra("sb3_contrib", "contrib")

OFF_POLICY = {"learning_starts": 50, "buffer_size": 1000, "batch_size": 16}
ALGORITHMS: dict[str, tuple[str, dict[str, Any]]] = {
    "tqc": ("Pendulum-v1", {**OFF_POLICY, "policy_kwargs": {"n_quantiles": 5}}),
    "qrdqn": (
        "CartPole-v1",
        {**OFF_POLICY, "train_freq": 8, "target_update_interval": 50,
         "policy_kwargs": "dict(n_quantiles=5)"},
    ),
    "crossq": ("Pendulum-v1", OFF_POLICY),
    "trpo": ("CartPole-v1", {"n_steps": 64, "batch_size": 32}),
    # Pendulum's rewards vary continuously: a lost LSTM state would show in the evaluations.
    "recurrentppo": (
        "Pendulum-v1",
        {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "clip_range": "lin_0.2",
         "policy_kwargs.lstm_hidden_size": 8},
    ),
}  # fmt: skip


@pytest.fixture
def make_study(tmp_path: Path) -> Callable[..., StudyFile]:
    def make(algorithm: str, timesteps: int = 300, every: int = 100) -> StudyFile:
        env = ALGORITHMS[algorithm][0] if algorithm in ALGORITHMS else "Pendulum-v1"
        path = tmp_path / f"{algorithm}.yaml"
        path.write_text(
            STUDY.format(algorithm=algorithm, env=env, timesteps=timesteps, every=every)
        )
        return load_study(path)

    return make


def _train(
    study: StudyFile,
    params: dict[str, Any],
    reporter: ScriptedReporter,
    folder: Path,
    resume: Path | None = None,
) -> Any:
    return train_sb3(
        study,
        {"net_arch": [8], **params},
        reporter,
        device="cpu",
        seed=study.spec.train.seed,
        checkpoint_dir=folder,
        resume=resume,
    )


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_each_contrib_algorithm_spends_its_budget_and_resumes_exactly(
    algorithm, make_study, tmp_path
):
    study = make_study(algorithm)
    params = ALGORITHMS[algorithm][1]
    reporter = ScriptedReporter()
    straight = _train(study, params, reporter, tmp_path / "trial-0")
    assert straight.stopped is None and straight.timesteps == 300
    assert [s for s, _ in reporter.reports] == [100, 200, 300]

    pausing = ScriptedReporter("pause", at=150)
    first = _train(study, params, pausing, tmp_path / "trial-1")
    assert first.stopped == "pause" and first.checkpoint is not None
    assert first.timesteps < 300
    pausing.done = True
    resumed = _train(study, params, pausing, tmp_path / "trial-1", resume=first.checkpoint)
    assert resumed.timesteps == 300
    assert resumed.evaluations == straight.evaluations


@pytest.mark.slow
def test_ars_learns_in_whole_updates_and_reports_at_the_budget(make_study, tmp_path):
    # One ARS update plays 2 x n_delta episodes (Pendulum's are 200 steps): it cannot stop at
    # a given step, so a trial ends after the update that reaches its budget.
    study = make_study("ars", timesteps=1000, every=500)
    params = {"n_delta": 1, "n_eval_episodes": 1, "delta_std": "lin_0.05"}
    reporter = ScriptedReporter()
    out = _train(study, params, reporter, tmp_path / "trial-0")
    assert out.stopped is None
    assert 1000 <= out.timesteps < 1000 + 2 * 200
    assert [s for s, _ in reporter.reports] == [500, 1000]

    pausing = ScriptedReporter("pause", at=400)
    first = _train(study, params, pausing, tmp_path / "trial-1")
    assert first.stopped == "pause" and first.checkpoint is not None
    pausing.done = True
    resumed = _train(study, params, pausing, tmp_path / "trial-1", resume=first.checkpoint)
    assert resumed.evaluations == out.evaluations


@pytest.mark.slow
def test_recurrent_ppos_last_shorter_rollout_keeps_its_lstm_states(make_study):
    # 100 steps are one rollout of 64 and a shorter one of 36, whose buffer also holds the
    # LSTM states of each step.
    study = make_study("recurrentppo", timesteps=100)
    params = {**ALGORITHMS["recurrentppo"][1], "net_arch": [8]}
    envs = make_envs(study, 1)
    model = build_model(study, params, envs, seed=1, device="cpu")
    try:
        learn_to(model, 100, 100, boundary(model), StopOnRequest(ScriptedReporter()))
        assert model.num_timesteps == 100
        assert boundary(model) == 64 and model.rollout_buffer.buffer_size == 64
    finally:
        envs.close()
