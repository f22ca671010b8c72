"""Checkpoints that let a paused trial continue exactly where it stopped.

A checkpoint holds the model with its optimizer state, the replay buffer of off-policy
algorithms, the environments themselves (so an episode in progress and every env RNG carry
on), VecNormalize statistics, the evaluation history, and the Python/NumPy/torch RNG states.
It is written into a temporary folder and renamed into place, so a crash mid-write leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rltui.train.envs import TrialEnvs


@dataclass
class TrainerState:
    """What the trainer itself needs besides the model to go on."""

    evaluations: list[tuple[int, float]] = field(default_factory=list)
    next_eval: int = 0
    envs_saved: bool = True
    rng: Any = None
    action_space_rng: Any = None


def capture_rng() -> Any:
    return (random.getstate(), np.random.get_state(), torch.get_rng_state())


def restore_rng(state: Any) -> None:
    py, np_state, torch_state = state
    random.setstate(py)
    np.random.set_state(np_state)
    torch.set_rng_state(torch_state)


def save(folder: Path, model: BaseAlgorithm, envs: TrialEnvs, state: TrainerState) -> Path:
    """Write a checkpoint for ``model.num_timesteps`` under ``folder``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{model.num_timesteps:012d}"
    tmp = folder / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    model.save(tmp / "model.zip")
    if isinstance(model, OffPolicyAlgorithm):
        model.save_replay_buffer(tmp / "replay.pkl")
    state.rng = capture_rng()
    state.action_space_rng = _space_rng(model)
    state.envs_saved = _save_envs(tmp / "envs.pkl", envs)
    with open(tmp / "state.pkl", "wb") as out:
        pickle.dump(state, out)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for old in folder.glob("step-*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def _space_rng(model: BaseAlgorithm) -> Any:
    rng = getattr(model.action_space, "_np_random", None)
    return None if rng is None else rng.bit_generator.state


def _save_envs(path: Path, envs: TrialEnvs) -> bool:
    # Pickling the envs keeps an episode in progress; envs that cannot be pickled (some
    # simulators) are rebuilt on resume and start a fresh episode instead.
    try:
        with open(path, "wb") as out:
            cloudpickle.dump(
                (_unwrap(envs.train), _unwrap(envs.eval), _norm(envs.train), _norm(envs.eval)), out
            )
        return True
    except Exception:
        path.unlink(missing_ok=True)
        return False


def _unwrap(venv: VecEnv) -> VecEnv:
    return venv.venv if isinstance(venv, VecNormalize) else venv


def _norm(venv: VecEnv) -> VecNormalize | None:
    return venv if isinstance(venv, VecNormalize) else None


def load(
    path: Path, cls: type[BaseAlgorithm], fresh_envs: TrialEnvs, device: str
) -> tuple[BaseAlgorithm, TrialEnvs, TrainerState]:
    """Restore a checkpoint written by :func:`save`. ``fresh_envs`` are used when the saved
    envs could not be pickled (and closed otherwise)."""
    with open(path / "state.pkl", "rb") as src:
        state: TrainerState = pickle.load(src)
    envs = fresh_envs
    if state.envs_saved and (path / "envs.pkl").exists():
        with open(path / "envs.pkl", "rb") as src:
            train, evaluation, train_norm, eval_norm = cloudpickle.load(src)
        if train_norm is not None:
            train_norm.set_venv(train)
            train = train_norm
        if eval_norm is not None:
            eval_norm.set_venv(evaluation)
            evaluation = eval_norm
        fresh_envs.close()
        envs = TrialEnvs(train, evaluation)
    # With the envs restored, SB3 must keep the observation it stopped at (force_reset=False);
    # with fresh envs it resets them and the episode in progress starts over.
    model = cls.load(
        path / "model.zip", env=envs.train, device=device, force_reset=not state.envs_saved
    )
    if isinstance(model, OffPolicyAlgorithm) and (path / "replay.pkl").exists():
        model.load_replay_buffer(path / "replay.pkl")
    # Loading builds a fresh policy (drawing random numbers) before copying the weights in,
    # so the RNG states are restored last.
    if state.rng is not None:
        restore_rng(state.rng)
    if state.action_space_rng is not None:  # DQN explores with action_space.sample()
        model.action_space.np_random.bit_generator.state = state.action_space_rng
    return model, envs, state


def latest(folder: Path) -> Path:
    """The newest checkpoint written by :func:`save` under ``folder``."""
    found = sorted(folder.glob("step-*"))
    if not found:
        raise FileNotFoundError(f"no checkpoint in {folder}")
    return found[-1]


def remove(folder: Path | str | None) -> None:
    """Delete a trial's checkpoint folder."""
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
