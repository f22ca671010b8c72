"""Checkpoints that let a paused trial continue exactly where it stopped.

A checkpoint holds the model with its optimizer state, the replay buffer of off-policy
algorithms, the environments themselves (so an episode in progress and every env RNG carry
on), VecNormalize statistics, the evaluation history, and the Python/NumPy/torch RNG states.

The VecNormalize statistics are also written on their own: environments that cannot be
pickled (some simulators) are rebuilt on resume, and the statistics then go into the new ones,
so a normalised trial does not start learning its observation scale again.

Which envs resume exactly:

- envs in the worker's process (``vec_env: dummy``) whose state pickles: the whole VecEnv
  stack is pickled (frame stacks included);
- envs in env processes (``vec_env: subproc``), whose SubprocVecEnv cannot be pickled: each
  env hands its own state over (:class:`rltui.train.envs.Resumable`), and on resume the new
  env processes take it back; the frame stacks above them are restored too;
- envs that pickle as their constructor's arguments only (Gymnasium's ``EzPickle``: the ALE's
  Atari games, MuJoCo's tasks, Box2D's) do not: the trial resumes with new envs, the episodes
  under way start over, and the env RNGs start again from the trial's seed. The model, its
  optimizer, the replay buffer, the VecNormalize statistics and the Python/NumPy/torch RNGs
  are restored all the same; the result then differs from an unpaused run's only by those
  episodes.

Writes are atomic and durable: a checkpoint is written into a temporary folder, every file and
the folder are flushed to disk, and only then is it renamed into place. The previous good
checkpoint is removed only once the new one is in place, so a crash at any point leaves one
complete checkpoint to resume from.

Loading unpickles, and unpickling runs code: :func:`load` reads a checkpoint only once
:mod:`rltui.train.trust` has found it under the study's checkpoint root, written by this
worker's user (or signed by a trusted group) and unchanged since it was saved. A save that
fails (a full disk: ``OSError`` with ``errno.ENOSPC``) removes what it had written and leaves
the previous checkpoint in place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
import random
import re
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

from rltui.train.envs import TrialEnvs, restore_stack, stack_state
from rltui.train.trust import (
    MANIFEST,
    CheckpointRefused,
    TrustedCheckpoint,
    open_checkpoint,
    seal,
)

__all__ = [
    "CheckpointRefused",
    "TrainerState",
    "copy",
    "latest",
    "load",
    "publish",
    "remove",
    "save",
]

ENVS_FILE = "envs.pkl"
NORMALIZE_FILE = "normalize.pkl"
_STEP = re.compile(r"^\.?step-(\d+)(?:\..*)?$")


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
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    if created:  # the folder's own entry must survive a crash too
        _fsync_dir(folder.parent)
    final = folder / f"step-{model.num_timesteps:012d}"
    tmp = folder / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        model.save(tmp / "model.zip")
        if isinstance(model, OffPolicyAlgorithm):
            model.save_replay_buffer(tmp / "replay.pkl")
        state.rng = capture_rng()
        state.action_space_rng = _space_rng(model)
        state.envs_saved = _save_envs(tmp / ENVS_FILE, envs)
        _save_normalization(tmp / NORMALIZE_FILE, envs)
        with open(tmp / "state.pkl", "wb") as out:
            pickle.dump(state, out)
        publish(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # on a full disk, give the space back at once
        raise
    for old in folder.iterdir():
        if old != final and _STEP.match(old.name):
            shutil.rmtree(old, ignore_errors=True)  # older steps and leftovers of crashed writes
    return final


def publish(tmp: Path, final: Path) -> None:
    """Make the fully written folder ``tmp`` the checkpoint ``final``, durably: nothing is
    flushed late, and the previous checkpoint of the same step is replaced, never lost.
    The folder is sealed first: nobody else may write it, and a manifest lists its files."""
    seal(tmp, final)
    for path in tmp.iterdir():
        _fsync_file(path)
    _fsync_dir(tmp)
    if final.exists():
        # The same step saved again (a pause right after a resume): a folder cannot be renamed
        # over a full one, so the old one steps aside first. Until the new one is in place the
        # old one stays whole under a name that :func:`latest` still finds.
        aside = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(final, aside)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(tmp, final)
        _fsync_dir(final.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # Directory fsync makes renames and new entries durable; some filesystems (and Windows)
    # refuse to open a directory, and there the rename is as durable as it gets.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _space_rng(model: BaseAlgorithm) -> Any:
    rng = getattr(model.action_space, "_np_random", None)
    return None if rng is None else rng.bit_generator.state


def _save_envs(path: Path, envs: TrialEnvs) -> bool:
    # Pickling the envs keeps an episode in progress; envs that cannot be pickled as they are
    # (some simulators) are rebuilt on resume and start a fresh episode instead.
    try:
        stacks = (stack_state(_unwrap(envs.train)), stack_state(_unwrap(envs.eval)))
        if None in stacks:
            return False
        with open(path, "wb") as out:
            cloudpickle.dump((*stacks, _norm(envs.train), _norm(envs.eval)), out)
        return True
    except Exception as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise  # a full disk, not envs that cannot be pickled
        return False


def _save_normalization(path: Path, envs: TrialEnvs) -> None:
    # VecNormalize pickles without its venv (see its __getstate__): running mean and variance
    # of observations and returns, clip and epsilon settings, gamma, training flags.
    norms = (_norm(envs.train), _norm(envs.eval))
    if norms != (None, None):
        with open(path, "wb") as out:
            pickle.dump(norms, out)


def _unwrap(venv: VecEnv) -> VecEnv:
    return venv.venv if isinstance(venv, VecNormalize) else venv


def _norm(venv: VecEnv) -> VecNormalize | None:
    return venv if isinstance(venv, VecNormalize) else None


def load(
    path: Path,
    root: Path,
    cls: type[BaseAlgorithm],
    fresh_envs: TrialEnvs,
    device: str,
    *,
    trial: str | None = None,
) -> tuple[BaseAlgorithm, TrialEnvs, TrainerState]:
    """Restore a checkpoint written by :func:`save` under the checkpoint root ``root`` (of
    trial folder ``trial`` when given), once :func:`rltui.train.trust.open_checkpoint`
    trusts it; raises :class:`CheckpointRefused` otherwise, before anything is unpickled.
    ``fresh_envs`` are used when the saved envs could not be pickled (and closed otherwise);
    they then get the saved VecNormalize statistics."""
    saved = open_checkpoint(path, root, trial=trial)
    with saved.open("state.pkl") as src:
        state: TrainerState = pickle.load(src)
    envs = fresh_envs
    restored = _restore_envs(saved, fresh_envs) if state.envs_saved else None
    if restored is not None:
        envs = restored
    else:
        state.envs_saved = False
        if saved.has(NORMALIZE_FILE):
            with saved.open(NORMALIZE_FILE) as src:
                train_norm, eval_norm = pickle.load(src)
            envs = TrialEnvs(
                _restore_norm(fresh_envs.train, train_norm),
                _restore_norm(fresh_envs.eval, eval_norm),
            )
    # With the envs restored, SB3 must keep the observation it stopped at (force_reset=False);
    # with fresh envs it resets them and the episode in progress starts over.
    with saved.open("model.zip") as src:
        model = cls.load(src, env=envs.train, device=device, force_reset=not state.envs_saved)
    _load_replay(model, saved)
    # Loading builds a fresh policy (drawing random numbers) before copying the weights in,
    # so the RNG states are restored last.
    if state.rng is not None:
        restore_rng(state.rng)
    if state.action_space_rng is not None:  # DQN explores with action_space.sample()
        model.action_space.np_random.bit_generator.state = state.action_space_rng
    return model, envs, state


def _restore_envs(saved: TrustedCheckpoint, fresh: TrialEnvs) -> TrialEnvs | None:
    """The saved envs, put in place of (or into) ``fresh``; None, with ``fresh`` as built,
    when none were saved or they are not of the stack ``fresh`` is (the env setup changed)."""
    if not saved.has(ENVS_FILE):
        return None
    with saved.open(ENVS_FILE) as src:
        train, evaluation, train_norm, eval_norm = cloudpickle.load(src)
    if isinstance(train, VecEnv):  # saved before stacks were saved in parts: whole VecEnvs
        fresh.close()
        return TrialEnvs(_rewrap(train, train_norm), _rewrap(evaluation, eval_norm))
    stacks = restore_stack([(_unwrap(fresh.train), train), (_unwrap(fresh.eval), evaluation)])
    if stacks is None:
        return None
    return TrialEnvs(_rewrap(stacks[0], train_norm), _rewrap(stacks[1], eval_norm))


def _load_replay(model: BaseAlgorithm, saved: TrustedCheckpoint) -> None:
    if isinstance(model, OffPolicyAlgorithm) and saved.has("replay.pkl"):
        with saved.open("replay.pkl") as src:
            model.load_replay_buffer(src)


def _rewrap(venv: VecEnv, norm: VecNormalize | None) -> VecEnv:
    if norm is None:
        return venv
    norm.set_venv(venv)
    return norm


def _restore_norm(fresh: VecEnv, saved: VecNormalize | None) -> VecEnv:
    """``fresh`` (as built for the trial) with the saved statistics in place of its own."""
    if saved is None or not isinstance(fresh, VecNormalize):
        return fresh
    saved.set_venv(fresh.venv)
    return saved


def latest(folder: Path) -> Path:
    """The newest checkpoint written by :func:`save` under ``folder``.

    A checkpoint set aside while the same step was saved again counts when the save did not
    finish (a crash between the two renames)."""
    steps = [p for p in folder.glob("step-*") if _STEP.match(p.name)]
    if not steps:
        steps = list(folder.glob(".step-*.old-*"))
    if not steps:
        raise FileNotFoundError(f"no checkpoint in {folder}")
    return max(steps, key=_step_of)


def _step_of(path: Path) -> int:
    match = _STEP.match(path.name)
    return int(match.group(1)) if match else -1


def copy(source: Path, target: Path, root: Path) -> Path:
    """Copy the latest checkpoint of each seed of the trial folder ``source`` into the trial
    folder ``target`` (both under the checkpoint root ``root``); returns ``target``.

    A PBT member that exploits goes on from another member's checkpoint, and a trial loads
    only from its own folder. Each checkpoint is checked as a load would check it (under the
    root, trusted, unchanged) before a byte is copied, then published in ``target`` as if this
    trial had saved it: sealed with a manifest of its own. Files are hard links where the
    filesystem allows (a checkpoint's files are never written again once published), copies
    elsewhere. Raises :class:`CheckpointRefused` (or ``FileNotFoundError``) with the reason."""
    seeds = sorted(p for p in source.glob("seed-*") if p.is_dir())
    if not seeds:
        raise FileNotFoundError(f"no checkpoint in {source}")
    for seed in seeds:
        step = latest(seed)
        trusted = open_checkpoint(step, root, trial=source.name)
        if trusted.shared:
            trusted.verify_files()
        folder = target / seed.name
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"step-{_step_of(step):012d}"
        tmp = folder / f".{final.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            for name in trusted.files or _names(trusted.path):
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(trusted.path / name, tmp / name)
            publish(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def _names(folder: Path) -> list[str]:
    return [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST
    ]


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copyfile(src, dst, follow_symlinks=False)


def remove(folder: Path | str | None) -> None:
    """Delete a trial's checkpoint folder."""
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
