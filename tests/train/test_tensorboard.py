"""``train.tensorboard``: each trial's log as TensorBoard event files, read back with
TensorBoard's own reader; one run per trial, continued across a pause and a lost run."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from rltui.search.folders import progress_log, tensorboard_dir
from rltui.spec import check_text, load_study
from rltui.train.progress import ProgressLog
from rltui.train.trainer import Outcome, train_sb3
from tests.conftest import needs_extra
from tests.train.reporters import ScriptedReporter
from tests.worker.helpers import Lab

pytestmark = needs_extra("tensorboard", "tensorboard")

STUDY = """
name: board
n_trials: 1
device: cpu
pruner: none
train:
  algorithm: ppo
  env: CartPole-v1
  timesteps: {timesteps}
  eval: {{every: 128, episodes: 1}}
  seed: 0
  tensorboard: true
hyperparameters: {{n_steps: 64, batch_size: 32, n_epochs: 1, net_arch: [8]}}
control: {{heartbeat_interval: 0.5, heartbeat_grace: 4}}
"""
PARAMS = {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "net_arch": [8]}


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _study(tmp_path: Path, timesteps: int = 384):
    path = tmp_path / "board.yaml"
    path.write_text(STUDY.format(timesteps=timesteps), encoding="utf-8")
    return load_study(path)


def _train(study, trials: Path, reporter, resume: Path | None = None) -> Outcome:
    """One stint of trial 0, logging as a worker does: a new log on the same files."""
    log = ProgressLog(progress_log(trials, 0), tensorboard=tensorboard_dir(trials, 0))
    try:
        return train_sb3(
            study,
            PARAMS,
            reporter,
            device="cpu",
            seed=0,
            checkpoint_dir=trials.parent / "checkpoints" / "trial-0",
            resume=resume,
            log=log,
        )
    finally:
        log.close()


def _scalars(folder: Path) -> dict[str, list[int]]:
    """Each scalar's steps in the run in ``folder``, as TensorBoard shows them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    board = EventAccumulator(str(folder))
    board.Reload()
    return {tag: [e.step for e in board.Scalars(tag)] for tag in board.Tags()["scalars"]}


def _runs(trials: Path) -> list[str]:
    """The runs TensorBoard finds when pointed at the study's trials folder."""
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer

    return sorted(EventMultiplexer().AddRunsFromDirectory(str(trials)).Runs())


def _increasing(steps: list[int]) -> bool:
    return bool(steps) and all(a < b for a, b in itertools.pairwise(steps))


@pytest.mark.slow
def test_a_trial_logs_sb3_rows_and_its_evaluations(tmp_path):
    trials = tmp_path / "trials"
    outcome = _train(_study(tmp_path), trials, ScriptedReporter())
    scalars = _scalars(tensorboard_dir(trials, 0))
    assert scalars["eval/mean_reward"] == [s for s, _ in outcome.evaluations] == [128, 256, 384]
    assert _increasing(scalars["time/fps"])
    trained = [tag for tag in scalars if tag.startswith("train/")]
    assert trained and all(_increasing(scalars[tag]) for tag in trained)
    assert _runs(trials) == ["trial-0/tensorboard"]


@pytest.mark.slow
def test_a_paused_trial_continues_the_same_run(tmp_path):
    study, trials = _study(tmp_path, timesteps=512), tmp_path / "trials"
    pausing = ScriptedReporter("pause", at=192)
    first = _train(study, trials, pausing)
    assert first.stopped == "pause" and first.checkpoint is not None
    pausing.done = True
    resumed = _train(study, trials, pausing, resume=first.checkpoint)

    folder = tensorboard_dir(trials, 0)
    assert len(list(folder.glob("events.out.tfevents.*"))) == 2  # one file per stint
    assert _runs(trials) == ["trial-0/tensorboard"]  # ... and one run
    scalars = _scalars(folder)
    assert scalars["eval/mean_reward"] == [s for s, _ in resumed.evaluations]
    assert scalars["eval/mean_reward"] == [128, 256, 384, 512]
    assert all(_increasing(steps) for steps in scalars.values())


@pytest.mark.slow
def test_what_a_lost_run_logged_past_its_checkpoint_is_hidden(tmp_path):
    """A run that went on past its checkpoint and was lost (its worker killed) logged steps
    the retry logs again: TensorBoard shows each step once."""
    study, trials = _study(tmp_path, timesteps=512), tmp_path / "trials"
    pausing = ScriptedReporter("pause", at=192)
    first = _train(study, trials, pausing)
    pausing.done = True
    _train(study, trials, pausing, resume=first.checkpoint)  # the lost run: 256 to 512
    retried = _train(study, trials, pausing, resume=first.checkpoint)

    scalars = _scalars(tensorboard_dir(trials, 0))
    assert scalars["eval/mean_reward"] == [s for s, _ in retried.evaluations]
    assert scalars["eval/mean_reward"] == [128, 256, 384, 512]
    assert all(_increasing(steps) for steps in scalars.values())


@pytest.mark.slow
def test_a_worker_writes_the_trial_run_into_the_study_folder(tmp_path):
    path = tmp_path / "board.yaml"
    path.write_text(STUDY.format(timesteps=256), encoding="utf-8")
    lab = Lab(path)
    lab.run_to_end(1)
    assert lab.ostudy.trials[0].state.name == "COMPLETE", lab.logs()
    folder = tensorboard_dir(tmp_path / "board.rltui" / "trials", 0)
    assert _scalars(folder)["eval/mean_reward"] == [128, 256]


def test_the_setting_is_refused_without_tensorboard_installed(monkeypatch):
    text = STUDY.format(timesteps=256)
    study, problems = check_text(text, check_env=False)
    assert study is not None and study.spec.train.tensorboard, problems
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as when it is not installed
    study, problems = check_text(text, check_env=False)
    assert study is None
    (problem,) = problems
    assert problem.path == ("train", "tensorboard")
    assert "'tensorboard' package, which is not installed" in problem.message
    assert "pip install 'rltui[tensorboard]'" in problem.message


def test_only_true_or_false_turns_it_on():
    _, problems = check_text(
        STUDY.format(timesteps=256).replace("tensorboard: true", "tensorboard: 1")
    )
    assert [p.path for p in problems] == [("train", "tensorboard")]
