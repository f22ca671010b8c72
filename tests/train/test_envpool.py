"""vec_env: envpool: EnvPool's envs as SB3 wants them (an ended env reset in the same step,
its last observation and whether a time limit cut it in its info), a trial trained on them
through the trainer and evaluated on the Gymnasium env, and what the study file refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rltui.spec import check_text, load_study
from rltui.train.envs import make_envs
from rltui.train.trainer import train_sb3
from tests.conftest import needs_extra
from tests.train.reporters import ScriptedReporter

pytestmark = needs_extra("envpool", "envpool")

STUDY = """
name: pooled
device: cpu
train:
  algorithm: ppo
  env: CartPole-v1
  n_envs: 4
  vec_env: envpool
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 2}}
  seed: 3
"""


def pooled(timesteps: int = 512, every: int = 256, kwargs: str = ""):
    text = STUDY.format(timesteps=timesteps, every=every) + kwargs
    study, problems = check_text(text, "pooled.yaml")
    assert study is not None, problems
    return study


def test_an_ended_env_is_reset_in_the_same_step_with_its_last_observation():
    # CartPole cut at 5 steps by EnvPool's own limit: every env is truncated at step 5.
    envs = make_envs(pooled(kwargs="  env_kwargs: {max_episode_steps: 5}\n"), seed=0)
    try:
        train = envs.train
        observations = train.reset()
        assert observations.shape == (4, 4)
        for step in range(1, 6):
            observations, _, dones, infos = train.step(np.zeros(4, dtype=np.int64))
            if step < 5:
                assert not dones.any()
        assert dones.all()
        for i, info in enumerate(infos):
            assert info["TimeLimit.truncated"] is True  # cut, not failed: SB3 bootstraps it
            assert info["terminal_observation"].shape == (4,)
            assert not np.array_equal(info["terminal_observation"], observations[i])
            assert info["episode"] == {"r": 5.0, "l": 5, "t": info["episode"]["t"]}
        # The next step is the new episode's first, not EnvPool's own late reset: the new
        # episodes are cut at their fifth step again.
        for _ in range(4):
            _, _, dones, infos = train.step(np.zeros(4, dtype=np.int64))
            assert not dones.any() and infos == [{}] * 4
        _, _, dones, _ = train.step(np.zeros(4, dtype=np.int64))
        assert dones.all()
        assert type(envs.eval.unwrapped).__name__ != "EnvPoolVecEnv"  # judged on Gymnasium's
    finally:
        envs.close()


def test_a_failed_episode_is_no_truncation():
    envs = make_envs(pooled(), seed=0)
    try:
        envs.train.reset()
        for _ in range(100):  # always pushing left: the pole falls within a few dozen steps
            _, _, dones, infos = envs.train.step(np.zeros(4, dtype=np.int64))
            if dones.any():
                break
        ended = [info for info, done in zip(infos, dones, strict=True) if done]
        assert ended and all(info["TimeLimit.truncated"] is False for info in ended)
    finally:
        envs.close()


@pytest.mark.slow
def test_a_trial_trains_on_envpool_and_is_evaluated_on_gymnasium(tmp_path: Path):
    study = pooled()
    reporter = ScriptedReporter()
    out = train_sb3(
        study,
        {"net_arch": [8], "n_steps": 32, "batch_size": 64, "n_epochs": 1},
        reporter,
        device="cpu",
        seed=3,
        checkpoint_dir=tmp_path / "ckpt",
    )
    assert out.stopped is None and out.timesteps == 512
    assert [step for step, _ in reporter.reports] == [256, 512]
    assert all(value > 0 for _, value in reporter.reports)


def test_the_study_file_refuses_what_envpool_cannot_run(tmp_path: Path):
    wrapped = STUDY.format(timesteps=512, every=256) + "  env_wrapper: [TimeAwareObservation]\n"
    _, problems = check_text(wrapped, "pooled.yaml")
    assert any("envpool builds its envs in C++ and cannot wrap them" in p.message for p in problems)
    atari = STUDY.format(timesteps=512, every=256).replace("CartPole-v1", "ALE/Pong-v5")
    _, problems = check_text(atari, "pooled.yaml", check_env=True)
    said = [p.format("pooled.yaml") for p in problems if p.severity == "error"]
    assert any("train.vec_env: ALE/Pong-v5 is an Atari game" in s for s in said), said


def test_an_env_envpool_lacks_fails_the_trial_with_the_reason(tmp_path: Path):
    from rltui.train.trainer import TrialFailed

    text = STUDY.format(timesteps=512, every=256).replace("CartPole-v1", "Taxi-v4")
    study = load_study(_write(tmp_path, text))
    with pytest.raises(TrialFailed, match=r"EnvPool has no env 'Taxi-v4'"):
        make_envs(study, seed=0)


def _write(folder: Path, text: str) -> Path:
    path = folder / "pooled.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_zoo_export_says_the_zoo_runs_gymnasiums_envs(tmp_path: Path):
    from rltui.convert.zoo_export import export_zoo

    done = export_zoo(load_study(_write(tmp_path, STUDY.format(timesteps=512, every=256))))
    left = {item.key: item.hint for item in done.unmapped}
    assert "not EnvPool's" in left["train.vec_env"]
