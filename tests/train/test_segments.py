"""A PBT segment's training: it stops at its end with a checkpoint, the checkpoint copies
into another trial's folder with the same weights, and a segment loaded from the copy trains
with values of its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from stable_baselines3 import PPO

from rltui.spec import load_study
from rltui.train import checkpoint
from rltui.train.envs import make_envs
from rltui.train.trainer import train_sb3
from rltui.train.trust import MANIFEST, CheckpointRefused
from tests.train.reporters import ScriptedReporter

PARAMS = {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "net_arch": [8], "learning_rate": 1e-3}


@pytest.fixture
def study(study_file):
    return load_study(study_file(timesteps=1024, every=128))


def segment(study, root: Path, trial: str, *, stop_at: int, resume: Path | None = None, **params):
    reporter = ScriptedReporter()
    outcome = train_sb3(
        study,
        {**PARAMS, **params},
        reporter,
        device="cpu",
        seed=0,
        checkpoint_dir=root / trial,
        resume=resume,
        stop_at=stop_at,
        retune=resume is not None,
    )
    return outcome, reporter


def weights(study, path: Path, root: Path, trial: str) -> tuple[dict, dict, int]:
    model, envs, _ = checkpoint.load(
        checkpoint.latest(path / "seed-0"), root, PPO, make_envs(study, 0), "cpu", trial=trial
    )
    envs.close()
    return model.policy.state_dict(), model.policy.optimizer.state_dict(), model.num_timesteps


@pytest.mark.slow
def test_a_segment_stops_at_its_end_with_an_evaluation_and_a_checkpoint(study, tmp_path):
    root = tmp_path / "checkpoints"
    outcome, reporter = segment(study, root, "trial-0", stop_at=256)
    assert outcome.stopped is None and outcome.timesteps == 256
    assert reporter.reports and reporter.reports[-1][0] == 256
    assert outcome.checkpoint == root / "trial-0"
    assert checkpoint.latest(root / "trial-0" / "seed-0").name == "step-000000000256"


@pytest.mark.slow
def test_the_copy_has_the_same_weights_and_optimizer_and_is_the_new_trials_own(study, tmp_path):
    root = tmp_path / "checkpoints"
    segment(study, root, "trial-0", stop_at=256)
    checkpoint.copy(root / "trial-0", root / "trial-5", root)
    copied = checkpoint.latest(root / "trial-5" / "seed-0")
    assert copied.name == "step-000000000256"
    assert '"checkpoint": "trial-5/seed-0/step-000000000256"' in (copied / MANIFEST).read_text()
    policy, optimizer, steps = weights(study, root / "trial-0", root, "trial-0")
    policy2, optimizer2, steps2 = weights(study, root / "trial-5", root, "trial-5")
    assert steps == steps2 == 256
    assert policy.keys() == policy2.keys()
    assert all(torch.equal(policy[k], policy2[k]) for k in policy)
    moments = [s["exp_avg"] for s in optimizer["state"].values()]
    assert moments and all(
        torch.equal(a, b)
        for a, b in zip(moments, [s["exp_avg"] for s in optimizer2["state"].values()], strict=True)
    )
    # A segment resumed from the copy trains on with its own learning rate, to its end.
    outcome, reporter = segment(
        study, root, "trial-5", stop_at=512, resume=root / "trial-5", learning_rate=5e-4
    )
    assert outcome.timesteps == 512 and [s for s, _ in reporter.reports] == [384, 512]
    model, envs, _ = checkpoint.load(
        checkpoint.latest(root / "trial-5" / "seed-0"),
        root,
        PPO,
        make_envs(study, 0),
        "cpu",
        trial="trial-5",
    )
    envs.close()
    assert model.lr_schedule(1.0) == pytest.approx(5e-4)


@pytest.mark.slow
def test_a_changed_source_is_refused_before_anything_is_copied(study, tmp_path):
    root = tmp_path / "checkpoints"
    segment(study, root, "trial-0", stop_at=128)
    step = checkpoint.latest(root / "trial-0" / "seed-0")
    target = step / "state.pkl"
    os.chmod(target, 0o600)
    with open(target, "ab") as out:
        out.write(b"planted")
    with pytest.raises(CheckpointRefused, match="not the file that was saved"):
        checkpoint.copy(root / "trial-0", root / "trial-5", root)
    assert not list((root / "trial-5").rglob("step-*"))
    assert not list((root / "trial-5").rglob(".step-*"))


@pytest.mark.slow
def test_a_trial_that_reaches_the_target_ends_there(study_file, tmp_path):
    # CartPole's episodes last at least 8 steps: any policy reaches a mean reward of 8.
    path = study_file(timesteps=1024, every=128, extra="")
    text = path.read_text(encoding="utf-8").replace("  seed: 0\n", "  seed: 0\n  target: 8\n", 1)
    path.write_text(text, encoding="utf-8")
    study = load_study(path)
    reporter = ScriptedReporter()
    outcome = train_sb3(
        study, PARAMS, reporter, device="cpu", seed=0, checkpoint_dir=tmp_path / "trial-0"
    )
    assert outcome.stopped is None and outcome.extra["target"] == 128
    assert outcome.timesteps == 128 and reporter.reports == outcome.evaluations


@pytest.mark.slow
def test_a_segment_resumed_at_its_end_saves_its_end_checkpoint_again(study, tmp_path):
    # Its worker was lost after the segment's last save: the retry has nothing to train.
    root = tmp_path / "checkpoints"
    segment(study, root, "trial-0", stop_at=256)
    outcome, reporter = segment(study, root, "trial-0", stop_at=256, resume=root / "trial-0")
    assert outcome.stopped is None and outcome.timesteps == 256 and reporter.reports == []
    assert outcome.checkpoint == root / "trial-0"
    assert [s for s, _ in outcome.evaluations] == [128, 256]
    assert checkpoint.latest(root / "trial-0" / "seed-0").name == "step-000000000256"


@pytest.mark.slow
def test_a_copy_onto_a_full_disk_says_so_and_leaves_nothing_half_written(study, tmpfs):
    from rltui.worker.space import disk_full
    from tests.disks import fill

    root = tmpfs("8m") / "checkpoints"
    segment(study, root, "trial-0", stop_at=128)
    filler = fill(root.parent)
    with pytest.raises(OSError) as caught:
        checkpoint.copy(root / "trial-0", root / "trial-5", root)
    assert disk_full(caught.value) is not None  # the worker puts the segment back for it
    assert not list((root / "trial-5").rglob("*step-*"))
    filler.unlink()
    checkpoint.copy(root / "trial-0", root / "trial-5", root)  # once space is back
    assert checkpoint.latest(root / "trial-5" / "seed-0").name == "step-000000000128"
