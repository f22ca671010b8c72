"""The trainer in-process: reproducibility, pause/resume at a chunk boundary, objectives."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import VecNormalize

from rltui.spec import check_text, format_path, load_study
from rltui.train import checkpoint
from rltui.train.evaluations import objective
from rltui.train.trainer import train_sb3
from tests.train.reporters import ScriptedReporter

PARAMS = {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "net_arch": [8], "learning_rate": 1e-3}
DQN_STUDY = """
name: dqn
train:
  algorithm: dqn
  env: CartPole-v1
  timesteps: 3000
  eval: {every: 1000, episodes: 2}
  seed: 3
"""
DQN_PARAMS = {
    "learning_starts": 200,
    "train_freq": 4,
    "buffer_size": 5000,
    "batch_size": 16,
    "net_arch": [8],
    "exploration_fraction": 0.5,
    "target_update_interval": 50,
}

SAC_STUDY = """
name: sac
train:
  algorithm: sac
  env: Pendulum-v1
  timesteps: 600
  eval: {every: 200, episodes: 1}
  seed: 3
"""
# learning_starts well inside the first stint, so the resumed stint learns from transitions
# collected before the pause: a lost replay buffer changes the result.
SAC_PARAMS = {"learning_starts": 100, "buffer_size": 2000, "batch_size": 32, "net_arch": [8]}


def _run(study, params, reporter, tmp_path: Path, resume: Path | None = None):
    return train_sb3(
        study,
        params,
        reporter,
        device="cpu",
        seed=study.spec.train.seed,
        checkpoint_dir=tmp_path / "trial-0",
        resume=resume,
    )


@pytest.mark.slow
def test_same_seed_same_curve(study_file, tmp_path):
    study = load_study(study_file(timesteps=384, every=128))
    first = _run(study, PARAMS, ScriptedReporter(), tmp_path)
    second = _run(study, PARAMS, ScriptedReporter(), tmp_path)
    assert [s for s, _ in first.evaluations] == [128, 256, 384]
    assert first.evaluations == second.evaluations


def _inspect(model, envs) -> dict[str, Any]:
    """What a restore must bring back, read at this moment: the replay buffer's fill and the
    training env's VecNormalize statistics and settings."""
    seen: dict[str, Any] = {"buffer": None, "norm": None}
    if isinstance(model, OffPolicyAlgorithm):
        buffer = model.replay_buffer
        seen["buffer"] = (buffer.size(), buffer.pos, buffer.full)
    norm = envs.train
    if isinstance(norm, VecNormalize):
        obs, ret = norm.obs_rms, norm.ret_rms
        seen["norm"] = (
            (obs.count, obs.mean.tolist(), obs.var.tolist()),
            (ret.count, ret.mean.tolist(), ret.var.tolist()),
            (norm.clip_obs, norm.clip_reward, norm.gamma, norm.epsilon),
            (norm.norm_obs, norm.norm_reward, norm.training, envs.eval.training),
        )
    return seen


@pytest.fixture
def restores(monkeypatch):
    """:func:`_inspect` of every model saved into a checkpoint, and of every one restored."""
    seen: dict[str, list[dict[str, Any]]] = {"saved": [], "restored": []}
    save, load = checkpoint.save, checkpoint.load

    def saving(folder, model, envs, state):
        seen["saved"].append(_inspect(model, envs))
        return save(folder, model, envs, state)

    def loading(path, root, cls, fresh_envs, device, **kwargs):
        model, envs, state = load(path, root, cls, fresh_envs, device, **kwargs)
        seen["restored"].append(_inspect(model, envs))
        return model, envs, state

    monkeypatch.setattr(checkpoint, "save", saving)
    monkeypatch.setattr(checkpoint, "load", loading)
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ppo", "dqn", "sac"])
def test_pause_and_resume_equals_straight_run(kind, study_file, tmp_path, restores):
    if kind == "ppo":
        study, params, at = load_study(study_file(timesteps=512, every=128)), PARAMS, 192
    elif kind == "dqn":
        study, params, at = load_study(study_file(name="dqn", text=DQN_STUDY)), DQN_PARAMS, 1000
    else:
        study, params, at = load_study(study_file(name="sac", text=SAC_STUDY)), SAC_PARAMS, 300
    straight = _run(study, params, ScriptedReporter(), tmp_path / "a")

    pausing = ScriptedReporter("pause", at=at)
    first = _run(study, params, pausing, tmp_path / "b")
    assert first.stopped == "pause" and first.checkpoint is not None
    assert first.timesteps < study.spec.train.timesteps
    if kind != "ppo":
        assert (checkpoint.latest(first.checkpoint / "seed-0") / "replay.pkl").exists()
    pausing.done = True
    resumed = _run(study, params, pausing, tmp_path / "b", resume=first.checkpoint)

    assert resumed.stopped is None
    assert resumed.timesteps == straight.timesteps == study.spec.train.timesteps
    steps = [s for s, _ in resumed.evaluations]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert resumed.evaluations == straight.evaluations
    if kind != "ppo":
        # The restored model holds every transition collected before the pause.
        saved, restored = restores["saved"], restores["restored"]
        assert len(saved) == len(restored) == 1
        assert restored[0]["buffer"] == saved[0]["buffer"]
        assert saved[0]["buffer"][0] == first.timesteps


def test_objectives():
    evals = [(1, 10.0), (2, 30.0), (3, 20.0)]
    assert objective(evals, "last", 3, True) == 20.0
    assert objective(evals, "best", 3, True) == 30.0
    assert objective(evals, "best", 3, False) == 10.0
    assert objective(evals, "mean_last", 2, True) == 25.0
    assert objective([], "last", 1, True) is None


@pytest.mark.slow
def test_several_seeds_report_their_mean_and_pause_together(study_file, tmp_path):
    path = study_file(timesteps=384, every=128)
    path.write_text(path.read_text().replace("  seed: 0\n", "  seeds: [0, 1]\n"))
    study = load_study(path)
    straight = _run(study, PARAMS, ScriptedReporter(), tmp_path / "a")
    assert set(straight.extra["seed_values"]) == {"0", "1"}
    per_seed = list(straight.extra["seed_values"].values())
    assert [v for _, v in straight.evaluations] == [
        (a + b) / 2 for a, b in zip(*per_seed, strict=True)
    ]
    assert len({tuple(v) for v in per_seed}) == 2, "both seeds gave the same curve"
    # Each seed trains as it would alone: seeds in lockstep draw from generators of their own.
    alone = load_study(study_file(timesteps=384, every=128))
    for seed in (0, 1):
        train = alone.spec.train.model_copy(update={"seed": seed})
        solo = replace(alone, spec=alone.spec.model_copy(update={"train": train}))
        out = _run(solo, PARAMS, ScriptedReporter(), tmp_path / f"solo-{seed}")
        assert [v for _, v in out.evaluations] == straight.extra["seed_values"][str(seed)]

    pausing = ScriptedReporter("pause", at=192)
    first = _run(study, PARAMS, pausing, tmp_path / "b")
    assert first.stopped == "pause"
    assert {p.name for p in first.checkpoint.iterdir()} == {"seed-0", "seed-1"}
    pausing.done = True
    resumed = _run(study, PARAMS, pausing, tmp_path / "b", resume=first.checkpoint)
    assert resumed.evaluations == straight.evaluations


@pytest.mark.slow
def test_reports_land_on_planned_steps_whatever_the_rollout_size(study_file, tmp_path):
    # Optuna's median pruner compares trials only at equal steps.
    study = load_study(study_file(timesteps=384, every=128))
    for n_steps in (64, 96):
        reporter = ScriptedReporter()
        out = _run(study, {**PARAMS, "n_steps": n_steps}, reporter, tmp_path / str(n_steps))
        assert [s for s, _ in reporter.reports] == [128, 256, 384]
        assert out.evaluations == reporter.reports


@pytest.mark.slow
def test_training_leaves_nothing_in_the_temp_dir(study_file, tmp_path, monkeypatch):
    # SB3 makes an SB3-<date> folder per learn() call unless the model has a logger, and a
    # trial learns in many chunks: a long study would litter /tmp with thousands of them.
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = study_file(timesteps=384, every=128)
    path.write_text(path.read_text().replace("  seed: 0\n", "  seeds: [0, 1]\n"))
    _run(load_study(path), PARAMS, ScriptedReporter(), tmp_path)
    assert list(scratch.iterdir()) == []


def _normalized(study_file) -> Any:
    path = study_file(timesteps=512, every=128)
    path.write_text(path.read_text().replace("  seed: 0\n", "  seed: 0\n  normalize: true\n"))
    return load_study(path)


@pytest.mark.slow
def test_normalization_survives_a_resume_with_rebuilt_envs(
    study_file, tmp_path, monkeypatch, restores
):
    # Some simulators cannot be pickled: their envs are rebuilt on resume, and the
    # VecNormalize statistics learned so far must be carried into the new ones.
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise TypeError("cannot pickle 'Simulator' object")

    monkeypatch.setattr(checkpoint.cloudpickle, "dump", refuse)
    study = _normalized(study_file)
    pausing = ScriptedReporter("pause", at=192)
    first = _run(study, PARAMS, pausing, tmp_path)
    assert first.stopped == "pause"
    saved_at = checkpoint.latest(first.checkpoint / "seed-0")
    assert not (saved_at / checkpoint.ENVS_FILE).exists()
    pausing.done = True
    resumed = _run(study, PARAMS, pausing, tmp_path, resume=first.checkpoint)
    assert resumed.stopped is None and resumed.timesteps == 512

    [saved], [restored] = restores["saved"], restores["restored"]
    assert saved["norm"][0][0] > first.timesteps  # every observation so far was counted
    assert restored["norm"] == saved["norm"]


def test_a_checkpoint_saved_again_at_the_same_step_is_never_missing(
    study_file, tmp_path, monkeypatch
):
    from stable_baselines3 import PPO

    from rltui.train.envs import make_envs
    from rltui.train.trainer import build_model

    study = load_study(study_file(timesteps=512, every=128))
    envs = make_envs(study, 0)
    model = build_model(study, PARAMS, envs, seed=0, device="cpu")
    folder = tmp_path / "trial-0" / "seed-0"
    try:
        first = checkpoint.save(folder, model, envs, checkpoint.TrainerState())
        # A crash between taking the old checkpoint away and putting the new one in place
        # (the pause right after a resume saves the same step again).
        replace = checkpoint.os.replace

        def crash_on_publish(src: Any, dst: Any) -> None:
            if ".tmp-" in str(src):
                raise OSError("disk gone")
            replace(src, dst)

        monkeypatch.setattr(checkpoint.os, "replace", crash_on_publish)
        with pytest.raises(OSError):
            checkpoint.save(folder, model, envs, checkpoint.TrainerState())
        monkeypatch.setattr(checkpoint.os, "replace", replace)
        found = checkpoint.latest(folder)
        restored, restored_envs, _ = checkpoint.load(
            found, tmp_path, PPO, make_envs(study, 0), "cpu"
        )
        restored_envs.close()
        assert restored.num_timesteps == model.num_timesteps

        # The next good save leaves exactly one checkpoint and nothing half-written.
        synced: list[str] = []
        fsync = checkpoint.os.fsync

        def record(fd: int) -> None:
            synced.append(os.readlink(f"/proc/self/fd/{fd}"))
            fsync(fd)

        monkeypatch.setattr(checkpoint.os, "fsync", record)
        again = checkpoint.save(folder, model, envs, checkpoint.TrainerState())
        assert again == first and [p.name for p in folder.iterdir()] == [first.name]
    finally:
        envs.close()
    # Every file and the folder were on disk before the rename, and the rename after it.
    written = {Path(p).name for p in synced if ".tmp-" in p}
    assert written >= {p.name for p in again.iterdir()} | {f".{again.name}.tmp-{os.getpid()}"}
    assert str(folder) in synced


@pytest.mark.slow
def test_the_last_evaluation_plays_final_episodes(study_file, tmp_path, monkeypatch):
    # A long greedy evaluation where it says most: once, at the budget.
    from rltui.train import trainer

    path = study_file(timesteps=384, every=128)
    text = path.read_text().replace("episodes: 2}", "episodes: 2, final_episodes: 5}")
    assert text != path.read_text()
    path.write_text(text)
    played: list[int] = []
    real = trainer.evaluate_policy

    def counted(*args: Any, **kwargs: Any) -> Any:
        played.append(kwargs["n_eval_episodes"])
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "evaluate_policy", counted)
    out = _run(load_study(path), PARAMS, ScriptedReporter(), tmp_path)
    assert [step for step, _ in out.evaluations] == [128, 256, 384]
    assert played == [2, 2, 5]


@pytest.mark.parametrize(("value", "words"), [("0", "greater than 0"), ("20000", "10,000")])
def test_final_episodes_out_of_bounds_are_refused(study_file, value, words):
    path = study_file()
    path.write_text(
        path.read_text().replace("episodes: 2}", f"episodes: 2, final_episodes: {value}}}")
    )
    study, problems = check_text(path.read_text(), str(path))
    assert study is None
    assert any("final_episodes" in format_path(p.path) for p in problems), problems


@pytest.mark.slow
@pytest.mark.parametrize("action", ["prune", "kill"])
def test_a_prune_or_kill_during_the_gradient_steps_stops_at_the_next_one(
    action, study_file, tmp_path
):
    # 20 epochs of batches of 8 over a 64-step rollout: 160 gradient steps with no callback
    # between them. The request comes after the 10th: training stops at the 11th.
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    from rltui.search.lifecycle import ControlAction, StopCause

    steps: list[int] = []

    class AskedMidUpdate(ScriptedReporter):
        def requested(self) -> ControlAction | None:
            return ControlAction(action) if len(steps) > 10 else None

    study = load_study(study_file(timesteps=256, every=128))
    counting = register_optimizer_step_pre_hook(lambda *_: steps.append(1))
    try:
        params = {**PARAMS, "batch_size": 8, "n_epochs": 20}
        out = _run(study, params, AskedMidUpdate(), tmp_path)
        assert out.stopped is StopCause.asked(ControlAction(action))
        assert len(steps) == 11 and out.timesteps == 64  # inside the first rollout's update
        assert out.checkpoint is None
        # The check went with that trial: the next one, past 10 steps, is not stopped by it.
        out = _run(study, params, ScriptedReporter(), tmp_path / "after")
        assert out.stopped is None and out.timesteps == 256 and len(steps) > 11
    finally:
        counting.remove()
