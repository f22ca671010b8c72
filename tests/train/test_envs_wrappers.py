"""Trials on wrapped envs, stacked frames, image observations and env processes, trained for
real with tiny budgets; pause and resume included where the env setup changes what a
checkpoint holds."""

from __future__ import annotations

import importlib
import os
import textwrap
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    SubprocVecEnv,
    VecFrameStack,
    VecTransposeImage,
)

from rltui.spec import load_study
from rltui.train import checkpoint
from rltui.train.envs import layers, make_envs
from rltui.train.trainer import train_sb3
from tests.conftest import require_extra
from tests.train.reporters import ScriptedReporter

PPO = {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "net_arch": [8], "learning_rate": 1e-3}
STUDY = """\
name: {name}
device: cpu
train:
  algorithm: {algorithm}
  env: {env}
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 2}}
  seed: 3
{train}
"""


def _study(folder: Path, train: str, *, name: str = "envs", algorithm: str = "ppo",
           env: str = "CartPole-v1", timesteps: int = 256, every: int = 128):  # fmt: skip
    path = folder / f"{name}.yaml"
    body = STUDY.format(
        name=name, algorithm=algorithm, env=env, timesteps=timesteps, every=every,
        train=textwrap.indent(textwrap.dedent(train).strip(), "  "),
    )  # fmt: skip
    path.write_text(body, encoding="utf-8")
    return load_study(path)


def _run(study, params, reporter, folder: Path, resume: Path | None = None):
    return train_sb3(
        study,
        params,
        reporter,
        device="cpu",
        seed=study.spec.train.seed,
        checkpoint_dir=folder / "trial-0",
        resume=resume,
    )


def _wrappers(env: gymnasium.Env) -> list[str]:
    """The classes of ``env``'s wrapper chain, outermost first."""
    names = []
    while isinstance(env, gymnasium.Wrapper):
        names.append(type(env).__name__)
        env = env.env
    return names


@pytest.mark.slow
def test_wrappers_by_name_wrap_the_monitor_and_a_time_limit_ends_evaluation_episodes(tmp_path):
    study = _study(
        tmp_path,
        """
        env_wrapper:
          - TimeLimit: {max_episode_steps: 20}
          - ClipReward: {min_reward: 0.0, max_reward: 0.5}
        """,
    )
    envs = make_envs(study, 3)
    try:
        chain = _wrappers(envs.train.envs[0])  # type: ignore[attr-defined]
        # The study's wrappers go on the Monitor, which counts the env's own episodes and
        # rewards; the TimeLimit is the env's own, under the Monitor.
        assert chain[:2] == ["ClipReward", "Monitor"]
        assert chain.index("TimeLimit") > chain.index("Monitor")
        assert envs.train.envs[0].spec.max_episode_steps == 20  # type: ignore[attr-defined]
    finally:
        envs.close()
    out = _run(study, PPO, ScriptedReporter(), tmp_path)
    assert out.stopped is None and out.timesteps == 256
    # Unclipped rewards of 1 a step, over episodes of at most 20 steps.
    assert [s for s, _ in out.evaluations] == [128, 256]
    assert all(1 <= v <= 20 for _, v in out.evaluations)


USER_WRAPPER = """\
import gymnasium


class Scaled(gymnasium.RewardWrapper):
    def __init__(self, env, factor=1.0):
        super().__init__(env)
        self.factor = factor

    def reward(self, reward):
        return reward * self.factor
"""


def test_evaluation_plays_its_episodes_at_once_on_one_env_each(tmp_path):
    for episodes, envs_made in ((1, 1), (5, 5), (20, 8)):
        path = _study(tmp_path, "n_envs: 2", name=f"eval{episodes}").path
        assert path is not None
        path.write_text(path.read_text().replace("episodes: 2", f"episodes: {episodes}"))
        study = load_study(path)
        envs = make_envs(study, seed=3)
        try:
            assert (envs.train.num_envs, envs.eval.num_envs) == (2, envs_made)
            envs.eval.reset()  # SB3 seeds each env at its first reset
            seeds = [env.unwrapped.np_random_seed for env in envs.eval.envs]
            assert seeds == [10_003 + i for i in range(envs_made)]
        finally:
            envs.close()


@pytest.mark.slow
def test_a_wrapper_of_the_users_beside_the_study_file_wraps_the_env(tmp_path):
    module = "rltui_test_scaled_reward"
    (tmp_path / f"{module}.py").write_text(USER_WRAPPER, encoding="utf-8")
    study = _study(tmp_path, f"env_wrapper: [{{'{module}:Scaled': {{factor: 0.5}}}}]")
    envs = make_envs(study, 3)
    try:
        outer = envs.train.envs[0]  # type: ignore[attr-defined]
        assert type(outer).__name__ == "Scaled" and outer.factor == 0.5
        assert isinstance(outer.env, Monitor)
        # Imported from beside the study file, not from anywhere else.
        imported = importlib.import_module(module)
        assert Path(imported.__file__ or "").parent == tmp_path.resolve()
    finally:
        envs.close()
    out = _run(study, PPO, ScriptedReporter(), tmp_path)
    assert out.stopped is None and len(out.evaluations) == 2


@pytest.mark.slow
def test_frame_stack_stacks_the_observations_of_training_and_evaluation(tmp_path):
    study = _study(tmp_path, "frame_stack: 4")
    envs = make_envs(study, 3)
    try:
        for venv in (envs.train, envs.eval):
            assert isinstance(venv, VecFrameStack)
            assert venv.observation_space.shape == (16,)
    finally:
        envs.close()
    straight = _run(study, PPO, ScriptedReporter(), tmp_path / "a")
    pausing = ScriptedReporter("pause", at=100)
    first = _run(study, PPO, pausing, tmp_path / "b")
    assert first.stopped == "pause" and first.checkpoint is not None
    pausing.done = True
    resumed = _run(study, PPO, pausing, tmp_path / "b", resume=first.checkpoint)
    # The stacked frames are in the checkpoint: the resumed trial goes on exactly.
    assert resumed.evaluations == straight.evaluations


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


@pytest.mark.slow
def test_env_processes_pause_and_resume_exactly(tmp_path, monkeypatch):
    study = _study(tmp_path, "n_envs: 2\nvec_env: subproc\nframe_stack: 2", timesteps=384)
    envs = make_envs(study, 3)
    base = layers(envs.train)[-1]
    assert isinstance(base, SubprocVecEnv) and base.num_envs == 2
    assert isinstance(envs.eval, VecFrameStack) and isinstance(envs.eval.venv, DummyVecEnv)
    pids = [p.pid for p in base.processes]
    envs.close()
    assert not _alive([p for p in pids if p is not None])

    # Every env process the trials start, to see that none outlives its trial.
    started: list[Any] = []
    real_init = SubprocVecEnv.__init__

    def recording(self: SubprocVecEnv, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        started.extend(self.processes)

    monkeypatch.setattr(SubprocVecEnv, "__init__", recording)

    straight = _run(study, PPO, ScriptedReporter(), tmp_path / "a")
    pausing = ScriptedReporter("pause", at=200)
    first = _run(study, PPO, pausing, tmp_path / "b")
    assert first.stopped == "pause" and first.checkpoint is not None
    saved = checkpoint.latest(first.checkpoint / "seed-0")
    assert (saved / checkpoint.ENVS_FILE).exists()
    pausing.done = True
    resumed = _run(study, PPO, pausing, tmp_path / "b", resume=first.checkpoint)
    assert resumed.stopped is None and resumed.timesteps == 384
    # Each env process handed its env over and the new ones went on from there: the result
    # is the unpaused run's.
    assert resumed.evaluations == straight.evaluations
    assert len(started) == 6 and not _alive([p.pid for p in started])


IMAGE_ENV = """\
import gymnasium
import numpy as np

gymnasium.register("RltuiBrightSide-v0", entry_point="{module}:BrightSide", max_episode_steps=8)


class BrightSide(gymnasium.Env):
    \"\"\"Which half of a 40x40 grey image is bright? Reward 1 for naming it.\"\"\"

    metadata = {{"render_modes": ["rgb_array"]}}
    observation_space = gymnasium.spaces.Box(0, 255, (40, 40, 1), np.uint8)
    action_space = gymnasium.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._draw(), {{}}

    def step(self, action):
        reward = float(action == self.side)
        return self._draw(), reward, False, False, {{}}

    def _draw(self):
        self.side = int(self.np_random.integers(2))
        image = np.zeros((40, 40, 1), np.uint8)
        image[:, self.side * 20 : (self.side + 1) * 20] = 255
        return image
"""


@pytest.mark.slow
def test_a_cnn_policy_learns_from_a_small_image_env_beside_the_study(tmp_path):
    module = "rltui_test_bright_side"
    (tmp_path / f"{module}.py").write_text(IMAGE_ENV.format(module=module), encoding="utf-8")
    study = _study(
        tmp_path,
        "policy: CnnPolicy\nframe_stack: 2",
        env=f"{module}:RltuiBrightSide-v0",
        timesteps=128,
        every=64,
    )
    envs = make_envs(study, 3)
    try:
        # Stacked, then turned channels-first as SB3 wants it, for training and evaluation.
        for venv in (envs.train, envs.eval):
            assert isinstance(venv, VecTransposeImage)
            assert venv.observation_space.shape == (2, 40, 40)
    finally:
        envs.close()
    out = _run(study, {**PPO, "n_steps": 32}, ScriptedReporter(), tmp_path)
    assert out.stopped is None and [s for s, _ in out.evaluations] == [64, 128]


@pytest.mark.slow
def test_atari_with_sb3s_wrappers_and_a_cnn_policy_trains_and_resumes(tmp_path):
    require_extra("ale_py", "atari")
    study = _study(
        tmp_path,
        """
        env_wrapper:
          - stable_baselines3.common.atari_wrappers.AtariWrapper: {screen_size: 42}
        frame_stack: 2
        policy: CnnPolicy
        """,
        env="PongNoFrameskip-v4",
        timesteps=256,
        every=128,
    )
    envs = make_envs(study, 3)
    try:
        assert envs.train.observation_space.shape == (2, 42, 42)
        chain = _wrappers(envs.eval.venv.venv.envs[0])  # type: ignore[attr-defined]
        # The Monitor is under the life-by-life episodes and clipped rewards of AtariWrapper.
        assert chain[0] == "AtariWrapper"
        assert chain.index("Monitor") > max(
            chain.index("EpisodicLifeEnv"), chain.index("ClipRewardEnv")
        )
    finally:
        envs.close()
    params = {**PPO, "n_steps": 32, "batch_size": 32, "net_arch": [8]}
    pausing = ScriptedReporter("pause", at=100)
    first = _run(study, params, pausing, tmp_path)
    assert first.stopped == "pause" and first.checkpoint is not None
    # The ALE's games pickle as their constructor's arguments only: not saved as they are.
    saved = checkpoint.latest(first.checkpoint / "seed-0")
    assert not (saved / checkpoint.ENVS_FILE).exists()
    pausing.done = True
    resumed = _run(study, params, pausing, tmp_path, resume=first.checkpoint)
    assert resumed.stopped is None and resumed.timesteps == 256
    assert [s for s, _ in resumed.evaluations] == [128, 256]
    # A Pong game is lost 0-21 or better: the score is the game's, not the clipped rewards
    # of each point played.
    assert all(-21 <= v <= 21 for _, v in resumed.evaluations)


@pytest.mark.slow
def test_mujoco_inverted_pendulum_with_sac_resumes_with_rebuilt_envs(tmp_path):
    require_extra("mujoco", "mujoco")
    study = _study(tmp_path, "normalize: {obs: true, reward: false}", algorithm="sac",
                   env="InvertedPendulum-v5", timesteps=400, every=200)  # fmt: skip
    params = {"learning_starts": 100, "buffer_size": 1000, "batch_size": 32, "net_arch": [8]}
    pausing = ScriptedReporter("pause", at=150)
    first = _run(study, params, pausing, tmp_path)
    assert first.stopped == "pause" and first.checkpoint is not None
    saved = checkpoint.latest(first.checkpoint / "seed-0")
    assert not (saved / checkpoint.ENVS_FILE).exists()
    assert (saved / checkpoint.NORMALIZE_FILE).exists()
    pausing.done = True
    resumed = _run(study, params, pausing, tmp_path, resume=first.checkpoint)
    assert resumed.stopped is None and resumed.timesteps == 400
    assert [s for s, _ in resumed.evaluations] == [200, 400]
    assert all(np.isfinite(v) and v >= 1 for _, v in resumed.evaluations)
