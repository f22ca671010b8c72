"""Training and evaluation environments for one trial.

Each env is built as rl-baselines3-zoo and SB3's ``make_vec_env`` build it: ``gym.make`` (a
TimeLimit wrapper of the study's becomes its ``max_episode_steps``), then a ``Monitor``, then
``train.env_wrapper`` in order. The Monitor sits under the study's wrappers so that evaluation
counts the game's own episodes and score: an Atari game's whole game, not each life that
AtariWrapper ends an episode at, and its score before rewards are clipped. The envs are then
vectorised (``vec_env``), their frames stacked (``frame_stack``), images turned channels-first
as SB3 does (``VecTransposeImage``), and VecNormalize goes outermost, where
:mod:`rltui.train.checkpoint` finds it.

``vec_env: subproc`` steps each env in a process of its own (SB3's ``SubprocVecEnv``), started
with ``forkserver``: a worker holds torch's threads and a heartbeat thread, and a ``fork`` of a
threaded process can copy a lock held by another thread and hang. The fork server is a clean
single-threaded process started once per worker, with SB3's and the env's modules imported
once, so each further env process is a cheap fork of it. Where there is no ``forkserver``
(Windows), ``spawn``. ``vec_env: envpool`` steps the training envs in EnvPool's C++ threads
(:mod:`rltui.train.envpool_env`). The evaluation envs are Gymnasium's, in the worker's own
process: one per evaluation episode (:func:`eval_envs`), played at once, each seeded
``seed + 10000 + i``.

A module the study names (a ``module:Env-v0`` id's, a wrapper's ``module:Class``) is imported
from the study file's folder only once :mod:`rltui.train.trust` finds that folder trusted, as
for ``train.function``; env processes put the same folder on their ``sys.path``.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
from dataclasses import dataclass
from typing import Any

import cloudpickle
import gymnasium
from gymnasium.utils import EzPickle
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    SubprocVecEnv,
    VecEnv,
    VecEnvWrapper,
    VecFrameStack,
    VecNormalize,
    VecTransposeImage,
)

from rltui.spec import StudyFile, env_setup
from rltui.spec import wrappers as wraps

EVAL_ENVS_AT_MOST = 8
# What a subprocess env answers to (through env_method), to hand its state out and take it in.
STATE_METHOD = "rltui_state"
RESTORE_METHOD = "rltui_restore"


@dataclass
class TrialEnvs:
    """The vectorised training env and the evaluation envs (normalised alike)."""

    train: VecEnv
    eval: VecEnv

    def close(self) -> None:
        self.train.close()
        self.eval.close()


@dataclass(frozen=True)
class EnvFactory:
    """Makes one env of a study, in this process or in an env process (it is pickled there):
    ``gym.make`` as SB3 calls it, and the study's wrappers once SB3 has put the Monitor on."""

    env_id: str
    env_kwargs: dict[str, Any]
    wrappers: tuple[wraps.WrapperRef, ...] = ()
    folder: str | None = None  # the trusted study folder, first on sys.path
    resumable: bool = False  # outermost, a wrapper that hands the env's state out and in

    def __call__(self) -> gymnasium.Env:
        self._prepare()
        # As make_vec_env makes an env from an id: with render_mode="rgb_array" when it takes one.
        try:
            return gymnasium.make(self.env_id, render_mode="rgb_array", **self.env_kwargs)
        except TypeError:
            return gymnasium.make(self.env_id, **self.env_kwargs)

    def wrap(self, env: gymnasium.Env) -> gymnasium.Env:
        """``env`` (with its Monitor) wrapped by the study's wrappers, in order."""
        for ref in self.wrappers:
            if not wraps.is_time_limit(ref):  # made a gym.make keyword already
                env = _import_class(ref)(env, **wraps.call_kwargs(ref))
        return Resumable(env) if self.resumable else env

    def _prepare(self) -> None:
        if self.folder is not None and self.folder not in sys.path:
            sys.path.insert(0, self.folder)
        if env_setup.is_atari(self.env_id.rpartition(":")[2]):
            import ale_py  # registers the Atari games with Gymnasium

            gymnasium.register_envs(ale_py)
            ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)


class Resumable(gymnasium.Wrapper):
    """The outermost wrapper of each env in an env process. A SubprocVecEnv cannot be
    pickled, but each of its envs can hand its whole state out (wrappers, Monitor, episode
    in progress, RNG) and take one back in, through ``env_method``."""

    def rltui_state(self) -> bytes | None:
        """The env's state, or None when pickling would not keep it (see :func:`keeps_state`)."""
        if not keeps_state(self.env):
            return None
        try:
            return cloudpickle.dumps(self.env)
        except Exception:  # an env holding something that cannot be pickled
            return None

    def rltui_restore(self, state: bytes) -> None:
        """Go on from ``state``, an earlier :meth:`rltui_state`, instead of the env held now."""
        old = self.env
        self.env = cloudpickle.loads(state)
        old.close()


def keeps_state(env: Any) -> bool:
    """False for envs that pickle as their constructor's arguments (Gymnasium's ``EzPickle``:
    the ALE's games, MuJoCo's tasks): unpickled, they are new envs, not the same one."""
    return not isinstance(getattr(env, "unwrapped", env), EzPickle)


def make_envs(study: StudyFile, seed: int | None) -> TrialEnvs:
    """The trial's envs for ``seed`` (the evaluation env gets ``seed + 10000``)."""
    spec = study.spec.train
    assert spec.env is not None
    refs = tuple(wraps.resolve(w.name, w.kwargs) for w in spec.env_wrapper)
    kwargs = env_setup.EnvSetup(refs).make_kwargs(spec.env_kwargs)
    subproc = spec.vec_env == "subproc"
    folder = _study_folder(study, refs)
    if spec.vec_env == "envpool":
        train = _envpool(spec.env, spec.n_envs, seed, dict(spec.env_kwargs))
    else:
        factory = EnvFactory(spec.env, kwargs, refs, folder, resumable=subproc)
        train = _vectorise(factory, spec.n_envs, seed, subproc)
    eval_seed = None if seed is None else seed + 10_000
    try:
        evaluation = _vectorise(
            EnvFactory(spec.env, kwargs, refs, folder), eval_envs(study), eval_seed, False
        )
    except BaseException:
        train.close()
        raise
    train, evaluation = (
        _images(_stack(train, spec.frame_stack)),
        _images(_stack(evaluation, spec.frame_stack)),
    )
    if spec.normalize.obs or spec.normalize.reward:
        train = VecNormalize(train, norm_obs=spec.normalize.obs, norm_reward=spec.normalize.reward)
        evaluation = VecNormalize(
            evaluation, norm_obs=spec.normalize.obs, norm_reward=False, training=False
        )
    return TrialEnvs(train, evaluation)


def eval_envs(study: StudyFile) -> int:
    """How many envs evaluation plays its episodes on at once: one per episode, at most
    :data:`EVAL_ENVS_AT_MOST`. The policy then acts on a batch of observations per step
    (5 CartPole episodes took 71 ms instead of 163 ms on one env)."""
    return max(1, min(study.spec.train.eval.episodes, EVAL_ENVS_AT_MOST))


def _vectorise(factory: EnvFactory, n_envs: int, seed: int | None, subproc: bool) -> VecEnv:
    if not subproc:
        return make_vec_env(factory, n_envs=n_envs, seed=seed, wrapper_class=factory.wrap)
    methods = multiprocessing.get_all_start_methods()
    method = "forkserver" if "forkserver" in methods else "spawn"
    if method == "forkserver":
        # Imported once in the fork server, not again in every env process forked from it.
        multiprocessing.set_forkserver_preload(
            ["stable_baselines3.common.vec_env.subproc_vec_env", "gymnasium"]
        )
    return make_vec_env(
        factory,
        n_envs=n_envs,
        seed=seed,
        wrapper_class=factory.wrap,
        vec_env_cls=SubprocVecEnv,
        vec_env_kwargs={"start_method": method},
    )


def _envpool(env_id: str, n_envs: int, seed: int | None, kwargs: dict[str, Any]) -> VecEnv:
    from rltui.train.envpool_env import make_envpool

    try:
        return make_envpool(env_id, n_envs, seed, kwargs)
    except (ImportError, ValueError, TypeError, RuntimeError) as exc:
        raise _failed(f"vec_env: envpool: {type(exc).__name__}: {exc}") from exc


def _stack(venv: VecEnv, frames: int | None) -> VecEnv:
    return VecFrameStack(venv, frames) if frames and frames > 1 else venv


def _images(venv: VecEnv) -> VecEnv:
    """``venv`` with channels-last images turned channels-first, as SB3 turns the training env
    itself; done here so that the evaluation env sees the same."""
    space = venv.observation_space
    if is_image_space(space) and not is_image_space_channels_first(space):  # type: ignore[arg-type]
        return VecTransposeImage(venv)
    return venv


def layers(venv: VecEnv) -> list[VecEnv]:
    """``venv`` and every VecEnv it wraps, outermost first, down to the base VecEnv."""
    found = [venv]
    while isinstance(found[-1], VecEnvWrapper):
        found.append(found[-1].venv)
    return found


StackState = tuple[list[tuple[str, dict[str, Any]]], tuple[str, Any]]
"""A VecEnv stack's state: each wrapper's (VecFrameStack, ...) by class name, and the base's:
``("dummy", the DummyVecEnv)`` or ``("subproc", [each env process's env, pickled])``."""


def stack_state(venv: VecEnv) -> StackState | None:
    """What :func:`restore_stack` needs to go on with ``venv`` exactly, to be pickled; None
    when its envs do not keep their state when pickled (see :func:`keeps_state`). VecEnv
    wrappers are saved as their attributes: they hold their class's members, and some of
    those (ABC's caches) cannot be pickled."""
    chain = layers(venv)
    above = [(type(w).__name__, _own_attributes(w)) for w in chain[:-1]]
    base = chain[-1]
    if isinstance(base, SubprocVecEnv):
        states = base.env_method(STATE_METHOD)
        return None if any(s is None for s in states) else (above, ("subproc", states))
    if not isinstance(base, DummyVecEnv) or not all(keeps_state(e) for e in base.envs):
        return None
    return above, ("dummy", base)


def _own_attributes(wrapper: VecEnv) -> dict[str, Any]:
    return {k: v for k, v in vars(wrapper).items() if k not in ("venv", "class_attributes")}


def restore_stack(pairs: list[tuple[VecEnv, StackState]]) -> list[VecEnv] | None:
    """Each freshly built stack of ``pairs`` going on from its saved state: a saved
    DummyVecEnv takes the fresh one's place, and new env processes take their saved envs
    in. None, with every stack left as built, when one is not of the saved shape."""
    for fresh, (above, (kind, base)) in pairs:
        chain = layers(fresh)
        fresh_base = chain[-1]
        count = len(base) if kind == "subproc" else base.num_envs
        if (
            [type(w).__name__ for w in chain[:-1]] != [name for name, _ in above]
            or isinstance(fresh_base, SubprocVecEnv) != (kind == "subproc")
            or fresh_base.num_envs != count
        ):
            return None
    restored = []
    for fresh, (above, (kind, base)) in pairs:
        chain = layers(fresh)
        for wrapper, (_, attributes) in zip(chain[:-1], above, strict=True):
            wrapper.__dict__.update(attributes)
        if kind == "subproc":
            for index, env_state in enumerate(base):
                chain[-1].env_method(RESTORE_METHOD, env_state, indices=[index])
        else:
            chain[-1].close()
            if len(chain) == 1:
                chain[0] = base
            else:
                chain[-2].venv = base  # type: ignore[attr-defined]
        restored.append(chain[0])
    return restored


def _import_class(ref: wraps.WrapperRef) -> Any:
    try:
        return wraps.load_class(ref)
    except Exception as exc:
        raise _failed(f"env_wrapper '{ref.written}': {type(exc).__name__}: {exc}") from exc


def _study_folder(study: StudyFile, refs: tuple[wraps.WrapperRef, ...]) -> str | None:
    """The study file's folder when the study names modules that may lie there, once trusted
    (as ``train.function``'s); None when it names none, or this host has no such folder."""
    env_id = study.spec.train.env or ""
    modules = [env_id.partition(":")[0]] if ":" in env_id else []
    modules += [r.module for r in refs if r.known is None and not r.imports_torch]
    if study.path is None or not modules:
        return None
    # Imported here: rltui.train.function imports the trainer, which imports this module.
    from rltui.train.function import _trusted_module
    from rltui.train.trust import CheckpointRefused

    try:
        real = study.path.parent.resolve(strict=True)
        tops = {module.split(".")[0] for module in modules}
        beside = sorted(t for t in tops if (real / f"{t}.py").exists() or (real / t).is_dir())
        if not beside:  # installed packages: the folder need not be on sys.path
            return None
        for top in beside:
            _trusted_module(real, top, f"the study folder (for module '{top}')")
    except FileNotFoundError:
        return None
    except CheckpointRefused as exc:
        raise _failed(f"{exc.reason}; or install the module as a package") from exc
    return os.fspath(real)


def _failed(message: str) -> Exception:
    # The trainer's exception, for a clean message in the trial's failure; imported here for
    # the same reason as above.
    trainer = importlib.import_module("rltui.train.trainer")
    return trainer.TrialFailed(message)
